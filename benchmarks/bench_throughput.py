"""Analysis throughput on real recordings: CPU-seconds per track and per audio minute, by stage and
by format, the peak memory of a worker, and what that means for a 10,000-track collection.

    nice -n 10 .venv/bin/python benchmarks/bench_throughput.py [--tracks 24] [--formats mp3,flac,...]

The recordings are Debian's free game music and songs (benchmarks/realmusic.py), converted into the
formats people keep: 44.1 kHz stereo MP3 320k, FLAC, Ogg Vorbis, Opus (48 kHz) and AAC in M4A.
A sample of --tracks tracks (every n-th of the whole set, in key order, so it spans the albums and
lengths) is converted once into ~/.cache/musicrec-bench/real/<format>/ and read from there.

Each format runs in a child process that plays one analysis worker: one thread, the real
per-file analysis (`analysis.pipeline._analyze` with a real SQLite feature cache in a temporary
folder), warmed up on one file first (not counted), as a worker forked from the warm fork server
is. The stages are timed by wrapping the functions the pipeline calls, in CPU time of the process,
each stage net of the stages inside it (the resampling inside the decoder and the listening step
is counted as "resample"):

    hash        reading the file's bytes for its content hash
    decode      the decoders (soundfile, PyAV) and the mono downmix
    resample    soxr: the decoder's stream to 22,050 Hz and the listening step's 16 kHz stretches
    features    the shared spectrum and both feature vectors
    measured    tempo, key, mode, loudness
    learned     the learned and estimated attributes, and those grounded in the listening tags
    listening   the listening model (MusiCNN, both vocabularies) on its patches
    store       writing the result into the feature cache
    other       the rest of the per-file work (checks, the pipeline itself)

--accuracy instead measures what reading a few stretches costs against reading the whole track:
tracks as shipped (--per-album of each album of at least --min-album tracks) are decoded whole
once, each plan of --plans (N stretches x S seconds) is cut from that signal and analysed like the
whole, and the table gives loudness differences in dB, tempo and key agreement, attribute
differences, and same-album precision@5 in the signal-feature space and the MusiCNN embeddings.

"per 4-min track" is a least-squares line of CPU-s against the track's minutes, read at 4
minutes, so it holds whether the cost grows with length or not; 10,000 tracks are that times
10,000 over this machine's cores. Peak RSS is the child's (one worker, models loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from provenance import announce  # noqa: E402

FORMATS = ("mp3", "flac", "vorbis", "opus", "aac")
STAGES = ("hash", "decode", "resample", "features", "measured", "learned", "listening", "store", "other")


def sample(n: int):
    """Every len/n-th real track in key order (the same tracks in every run), with its album."""
    import realmusic

    found = realmusic.albums()
    if not found:
        raise SystemExit(realmusic.INSTALL_HINT)
    tracks = sorted(realmusic.all_tracks(found), key=lambda at: at[1].key)
    picked = {t.key for _, t in tracks[:: max(1, len(tracks) // n)][:n]}
    out = []
    for a in found:
        items = [t for t in a.items if t.key in picked]
        if items:
            a.items = items
            out.append(a)
    return out


def materialized(n: int, fmt: str) -> list[tuple[str, float]]:
    """(path, seconds) of the sample in `fmt`, converting what is not in the cache yet."""
    import realmusic

    found = sample(n)
    realmusic.materialize(None, (fmt,), found, progress=lambda s: print(f"# {s}", file=sys.stderr, flush=True))
    cache = realmusic.DEFAULT_CACHE
    ext = realmusic.FORMATS[fmt][0]
    return [(str(cache / fmt / f"{t.key}.{ext}"), t.seconds) for _, t in realmusic.all_tracks(found)]


# --- the child: one worker's analysis, timed by stage -----------------------------------------------
class Clock:
    """Exclusive CPU time per stage: a stage's time does not include the stages called inside it."""

    def __init__(self):
        self.totals: dict[str, float] = {}
        self.stack: list[list] = []  # [stage, start, time spent in nested stages]

    def wrap(self, stage: str, fn):
        def timed(*a, **kw):
            self.stack.append([stage, time.process_time(), 0.0])
            try:
                return fn(*a, **kw)
            finally:
                name, t0, inner = self.stack.pop()
                spent = time.process_time() - t0
                self.totals[name] = self.totals.get(name, 0.0) + spent - inner
                if self.stack:
                    self.stack[-1][2] += spent
        timed.__wrapped__ = fn
        return timed

    def take(self) -> dict[str, float]:
        out, self.totals = self.totals, {}
        return out


def instrument(clock: Clock) -> None:
    """Wrap what the pipeline calls, by name, where it looks the names up."""
    import soxr

    from musicrec_engine import features
    from musicrec_engine.analysis import listening_step, pipeline
    from musicrec_engine.attributes import measured
    from musicrec_engine.audio import decode

    class TimedStream:
        def __init__(self, *a, **kw):
            self._s = _stream(*a, **kw)
            self.resample_chunk = clock.wrap("resample", self._s.resample_chunk)

    _stream = soxr.ResampleStream
    soxr.ResampleStream = TimedStream
    soxr.resample = clock.wrap("resample", soxr.resample)
    targets = [(pipeline, "content_hash", "hash"), (features, "extract", "features"),
               (measured, "measure", "measured"), (pipeline, "_attributes", "learned"),
               (listening_step, "ground", "learned"), (listening_step, "listen", "listening"),
               (pipeline, "_store", "store")]
    for name in ("decode", "_decode_soundfile", "_decode_pyav"):
        if hasattr(decode, name):
            targets.append((decode, name, "decode"))
    for mod, name, stage in targets:
        if hasattr(mod, name):
            setattr(mod, name, clock.wrap(stage, getattr(mod, name)))


def child(paths: list[str]) -> dict:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # as the pool's workers (analysis.pipeline._worker_init)
    from musicrec_engine.analysis import pipeline
    from musicrec_engine.features.cache import FeatureCache

    clock = Clock()
    instrument(clock)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        cache = FeatureCache(Path(tmp) / "cache.db")
        key = pipeline.analysis_key("full")
        pipeline._analyze(paths[0], "full", None, "")  # warm-up (imports, model loads), not cached
        for p in paths:
            clock.take()
            t0 = time.process_time()
            result, skey = pipeline._analyze(p, "full", cache, key)
            pipeline._store(cache, result, skey, key)
            total = time.process_time() - t0
            stages = clock.take()
            stages["other"] = total - sum(stages.values())
            rows.append({"path": p, "ok": result.ok, "error": result.error, "duration": result.duration,
                         "analysed": result.analysed_seconds, "cpu": total, "stages": stages})
        cache.close()
    return {"rows": rows, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's own peak resident memory. VmHWM, not ru_maxrss: Linux carries a child's
    ru_maxrss over from the parent it was forked from, so a child started by a parent that has just
    converted the files would report the parent's size."""
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM")) / 1024


# --- --accuracy: what reading segments costs against reading the whole track ------------------------
def join_segments(y, sr: int, segs) -> tuple:
    """(the stretches joined, the sample where each after the first begins), as the decoder gives them."""
    import numpy as np

    parts = [y[int(a * sr):int(a * sr) + int(n * sr)] for a, n in segs]
    return np.concatenate(parts), tuple(int(j) for j in np.cumsum([len(p) for p in parts])[:-1])


def _what_it_hears(y, channels: int, joins: tuple[int, ...] = ()) -> dict:
    """Everything the analysis derives from a decoded signal, and its CPU time."""
    import numpy as np

    from musicrec_engine import features, listening
    from musicrec_engine.analysis import listening_step
    from musicrec_engine.attributes.compute import compute_all

    t0 = time.process_time()
    spec = features.Spectrum(y, joins=joins)
    spec.extras["channels"] = channels
    vecs = features.extract(spec)
    attrs = compute_all(spec, vecs)
    heard = listening.listen(y, spec.sr, n_patches=listening_step.n_patches() or 4)
    attrs = listening_step.ground(attrs, heard.tags, spec.extras.get("descriptors"))
    cpu = time.process_time() - t0
    emb = np.concatenate([heard.embeddings[m] for m in sorted(heard.embeddings)])
    return {"cpu": cpu, "mfcc": vecs["mfcc"].tolist(), "stats": vecs["stats"].tolist(), "emb": emb.tolist(),
            "attrs": {k: float(a.value) for k, a in attrs.items()}}


def accuracy_track(job) -> dict:
    """One track decoded whole once; each plan's segments are cut from that signal (the decoders'
    seeks give the same samples: tests/test_throughput.py) and analysed like the whole."""
    from threadpoolctl import threadpool_limits

    from musicrec_engine.analysis import plan
    from musicrec_engine.audio import decode

    threadpool_limits(1)
    path, plans = job
    try:
        dec = decode.decode(path, max_seconds=4 * 3600.0)  # all of it: the plans look past the old cap
        whole = dec.y[:int(decode.MAX_SECONDS * dec.sr)]  # what reading the whole track analysed
        out = {"path": path, "duration": dec.duration, "whole": _what_it_hears(whole, dec.channels)}
        out["whole"]["analysed"] = len(whole) / dec.sr
        for name in plans:
            n, secs = (int(v) for v in name.split("x"))
            segs = plan.segments(dec.duration, n, secs)
            if segs:
                joined, joins = join_segments(dec.y, dec.sr, segs)
                out[name] = _what_it_hears(joined, dec.channels, joins)
            else:
                out[name] = dict(out["whole"])
            out[name]["analysed"] = sum(b for _, b in segs) if segs else len(whole) / dec.sr
    except Exception as e:  # noqa: BLE001 - one track's failure is reported, the rest still count
        print(f"# {path}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return None
    print(f"# {Path(path).name} done", file=sys.stderr, flush=True)
    return out


def accuracy(args) -> None:
    import multiprocessing as mp

    import numpy as np
    import realmusic
    from bench_attributes import mirex
    from bench_real_similarity import neighbours, precision, unit

    from musicrec_engine import features
    from musicrec_engine.search.sound import SoundSpace

    found = [a for a in realmusic.albums() if len(a.items) >= args.min_album]
    for a in found:
        a.items = a.items[:args.per_album]
    pairs = realmusic.all_tracks(found)
    plans = [p for p in args.plans.split(",") if p]
    print(f"\nAccuracy: {len(pairs)} real tracks as shipped ({len(found)} albums of >= {args.min_album} tracks, "
          f"the first {args.per_album} of each), {sum(t.seconds for _, t in pairs) / 60:.0f} min; each plan's "
          "figures are against reading the whole track (up to the 10-minute cap), same run, same code.",
          flush=True)
    with mp.get_context("forkserver").Pool(args.jobs) as pool:
        rows = pool.map(accuracy_track, [(str(t.path), plans) for _, t in pairs], chunksize=1)
    labels = np.array([a.name for (a, _), r in zip(pairs, rows, strict=True) if r is not None])
    print(f"{sum(r is None for r in rows)} tracks failed (see above).")
    rows = [r for r in rows if r is not None]
    names = list(features.schema("mfcc").names) + list(features.schema("stats").names)

    def p_at_5(key: str, which: str) -> float:
        if which == "sound":
            raw = np.array([r[key]["mfcc"] + r[key]["stats"] for r in rows])
            vecs = unit(SoundSpace(names=names).fit(raw).transform(raw))
        else:
            vecs = unit(np.array([r[key]["emb"] for r in rows]))
        return float(precision(neighbours(vecs, 5), labels).mean())

    unit_attrs = ["energy", "valence", "danceability", "acousticness", "instrumentalness", "liveness", "speechiness"]
    print("\n| plan | analysed s / track | CPU-s / 4-min track (after decoding) | loudness |Δ| dB mean / p95 / max "
          "| tempo within 4 % | tempo within 4 % or x2, x½ | key+mode same | MIREX vs whole "
          "| unit attributes |Δ| mean (max attr) | P@5 signal space | P@5 MusiCNN |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in ["whole", *plans]:
        w = [r["whole"]["attrs"] for r in rows]
        a = [r[key]["attrs"] for r in rows]
        dl = np.abs([x["loudness"] - y["loudness"] for x, y in zip(a, w, strict=True)])
        ratio = np.array([x["tempo"] / y["tempo"] for x, y in zip(a, w, strict=True)])
        t1 = np.mean(np.abs(ratio - 1) <= 0.04)
        t2 = np.mean([min(abs(q * f - 1) for f in (1, 2, 0.5)) <= 0.04 for q in ratio])
        same = np.mean([x["key"] == y["key"] and x["mode"] == y["mode"] for x, y in zip(a, w, strict=True)])
        mx = np.mean([mirex(int(x["key"]), int(x["mode"]), int(y["key"]), int(y["mode"])) if y["key"] >= 0
                      else float(x["key"] < 0) for x, y in zip(a, w, strict=True)])
        du = {u: np.mean([abs(x[u] - y[u]) for x, y in zip(a, w, strict=True) if u in x and u in y]) for u in unit_attrs}
        worst = max(du, key=du.get)
        cpu = per_4min([{"duration": r["duration"], "cpu": r[key]["cpu"]} for r in rows])
        analysed = np.mean([r[key]["analysed"] for r in rows])
        print(f"| {key} | {analysed:.0f} | {cpu:.2f} | {dl.mean():.2f} / {np.percentile(dl, 95):.2f} / {dl.max():.2f} "
              f"| {t1:.3f} | {t2:.3f} | {same:.3f} | {mx:.3f} | {np.mean(list(du.values())):.3f} ({worst} "
              f"{du[worst]:.3f}) | {p_at_5(key, 'sound'):.3f} | {p_at_5(key, 'musicnn'):.3f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows))


# --- the parent: one child per format, then the tables -----------------------------------------------
def run_format(paths: list[str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(paths, f)
    try:
        r = subprocess.run([sys.executable, __file__, "--child", f.name], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        raise SystemExit(f"the child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def per_4min(rows: list[dict], key=lambda r: r["cpu"]) -> float:
    """A least-squares line of cost against minutes, read at 4 minutes."""
    import numpy as np

    x = np.array([r["duration"] / 60 for r in rows])
    y = np.array([key(r) for r in rows])
    if len(rows) < 2 or np.ptp(x) == 0:
        return float(y.mean() / max(x.mean(), 1e-9) * 4)
    b, a = np.polyfit(x, y, 1)
    return float(a + 4 * b)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=24, help="tracks in the sample (of ~290 real ones)")
    ap.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated, of: {', '.join(FORMATS)}")
    ap.add_argument("--json", help="also write the raw per-file rows here")
    ap.add_argument("--accuracy", action="store_true", help="instead: what segments cost in accuracy")
    ap.add_argument("--plans", default="1x30,3x10,3x20,3x30", help="--accuracy: segments x seconds, compared")
    ap.add_argument("--min-album", type=int, default=6, help="--accuracy: albums with at least this many tracks")
    ap.add_argument("--per-album", type=int, default=6, help="--accuracy: tracks taken from each")
    ap.add_argument("--jobs", type=int, default=2, help="--accuracy: processes")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(Path(args.child).read_text()))))
        return 0
    announce(args)
    if args.accuracy:
        accuracy(args)
        return 0
    formats = [f for f in args.formats.split(",") if f]
    results = {}
    for fmt in formats:
        files = materialized(args.tracks, fmt)
        print(f"# {fmt}: analysing {len(files)} files ...", file=sys.stderr, flush=True)
        results[fmt] = run_format([p for p, _ in files])
    minutes = sum(r["duration"] for r in results[formats[0]]["rows"]) / 60
    print(f"\nSample: {len(results[formats[0]]['rows'])} of the real tracks, {minutes:.1f} min of audio "
          f"(mean {minutes / max(1, len(results[formats[0]]['rows'])):.1f} min), in each format; one worker, "
          "one thread, CPU seconds of the process.")
    print("\n| format | CPU-s / track | CPU-s / audio min | per 4-min track | analysed s / track "
          "| peak RSS (MB) | errors |")
    print("|---|---|---|---|---|---|---|")
    every = []
    for fmt, res in results.items():
        rows = [r for r in res["rows"] if r["ok"]]
        every += rows
        cpu = sum(r["cpu"] for r in rows)
        mins = sum(r["duration"] for r in rows) / 60
        print(f"| {fmt} | {cpu / max(1, len(rows)):.2f} | {cpu / max(mins, 1e-9):.3f} | {per_4min(rows):.2f} | "
              f"{sum(r['analysed'] for r in rows) / max(1, len(rows)):.0f} | {res['peak_rss_mb']:.0f} | "
              f"{len(res['rows']) - len(rows)} |")
    print("\nBy stage, all formats together (CPU-s):\n")
    print("| stage | per track | per audio min | per 4-min track | share |\n|---|---|---|---|---|")
    total = sum(r["cpu"] for r in every)
    mins = sum(r["duration"] for r in every) / 60
    for st in STAGES:
        s = sum(r["stages"].get(st, 0.0) for r in every)
        print(f"| {st} | {s / len(every):.3f} | {s / mins:.4f} | "
              f"{per_4min(every, lambda r, st=st: r['stages'].get(st, 0.0)):.3f} | {100 * s / total:.0f}% |")
    print(f"| **all** | {total / len(every):.3f} | {total / mins:.4f} | {per_4min(every):.3f} | 100% |")
    print("\nBy stage and format, per 4-min track (CPU-s):\n")
    print("| format | " + " | ".join(STAGES) + " |\n|---|" + "---|" * len(STAGES))
    for fmt, res in results.items():
        rows = [r for r in res["rows"] if r["ok"]]
        cells = [f"{per_4min(rows, lambda r, st=st: r['stages'].get(st, 0.0)):.3f}" for st in STAGES]
        print(f"| {fmt} | " + " | ".join(cells) + " |")
    four = per_4min(every)
    cores = os.cpu_count() or 1
    print(f"\n10,000 four-minute tracks on this machine ({cores} cores, one worker per core): "
          f"{four * 10_000 / 3600:.2f} CPU-hours, about {four * 10_000 / cores / 60:.0f} min of wall time "
          f"(target: <= 0.8 CPU-s per track, about {0.8 * 10_000 / cores / 60:.0f} min). Peak RSS per worker: "
          f"{max(r['peak_rss_mb'] for r in results.values()):.0f} MB (target < 600 MB).")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
