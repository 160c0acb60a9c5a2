"""Dev harness for the measured tempo: score tempo.estimate on the tuning part and on real recordings
from cached per-file onset evidence, so a change to the metrical-level logic is scored in seconds.

    PYTHONPATH=. .venv/bin/python benchmarks/tune_tempo.py cache --root /work/corpora --tune-seed 0 10 11
    PYTHONPATH=. .venv/bin/python benchmarks/tune_tempo.py cache-real
    PYTHONPATH=. .venv/bin/python benchmarks/tune_tempo.py score --root /work/corpora --tune-seed 0 10 11 [--real] [--misses]
        [--set TATUM_MAX=99 ...]
    PYTHONPATH=. .venv/bin/python benchmarks/tune_tempo.py clips [--set ...]

`cache` decodes every file once and stores, per file, the positive spectral flux summed over fine
frequency bands (every edge of tempo.BAND_EDGES_HZ is one of FINE_EDGES_HZ, so the method's bands are
exact sums of them) and the shared chroma, in CACHE/<corpus>/<file>.npz. `score` feeds those to
tempo.estimate through a stand-in for the Spectrum and prints Accuracy1 / Accuracy2 with 95 %
intervals that resample pieces (as benchmarks/bench_attributes.py does), the tempo confidence's
reliability, Accuracy2 by condition, and with --misses every file beyond Accuracy2. `clips` scores
grids of the generated clips of tests/test_tempo_levels.py.
Only the TUNING part (`--part tune` seeds) is read; the held-out part never is.
The numbers for docs/BENCHMARKS.md come from bench_attributes.py, which decodes the files itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import provenance  # noqa: E402
from benchmarks.bench_attributes import acc1, acc2, bootstrap, decode, real_tracks  # noqa: E402
from musicrec_engine.attributes.measured import tempo  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402
from tools import corpus  # noqa: E402

CACHE = Path.home() / ".cache" / "musicrec-tempo"
FINE_EDGES_HZ = (0.0, 60.0, 100.0, 150.0, 200.0, 300.0, 450.0, 700.0, 1000.0, 1400.0, 2000.0, 3000.0,
                 4000.0, 6000.0)
REAL_PACKAGES = ["asc-music", "drascula-music", "fretsonfire-songs-muldjord", "fretsonfire-songs-sectoid"]


class CachedSpectrum:
    """What tempo.estimate reads of a Spectrum, rebuilt from the cache."""

    def __init__(self, path: Path):
        z = np.load(path)
        self.sr, self.hop, self.n_fft = int(z["sr"]), int(z["hop"]), int(z["n_fft"])
        self.fine = z["flux"].astype(np.float64)
        self.chroma = z["chroma"].astype(np.float32)
        self.duration = float(z["duration"])
        self.n_frames = self.fine.shape[0]
        self.extras: dict = {}
        self.joins: tuple[int, ...] = ()  # the cache holds one continuous reading of each file
        fine_starts = [int(e * self.n_fft / self.sr) for e in FINE_EDGES_HZ[:-1]]
        starts = [int(e * self.n_fft / self.sr) for e in tempo.BAND_EDGES_HZ[:-1]]
        assert tempo.BAND_EDGES_HZ[-1] == FINE_EDGES_HZ[-1] and set(starts) <= set(fine_starts), \
            "the method's band edges must be among FINE_EDGES_HZ"
        idx = [fine_starts.index(s) for s in starts]
        self.extras["tempo.band_flux"] = np.add.reduceat(self.fine, idx, axis=1)


def store(spec: Spectrum, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, flux=tempo.flux_in_bands(spec, FINE_EDGES_HZ).astype(np.float32), chroma=spec.chroma.astype(np.float16),
             sr=spec.sr, hop=spec.hop, n_fft=spec.n_fft, duration=spec.duration)


def tune_rows(root: Path, seeds: list[int]) -> list[dict]:
    rows = []
    for s in seeds:
        csv_path = root / f"tune-seed{s}" / corpus.TRUTH_CSV
        for r in corpus.read_truth(csv_path):
            assert r["part"] == "tune", "the harness reads the tuning part only"
            r["seed"] = s
            r["cache"] = CACHE / f"tune-seed{s}" / (r["path"] + ".npz")
            rows.append(r)
    return rows


def cache(root: Path, seeds: list[int]) -> None:
    rows = tune_rows(root, seeds)
    for i, r in enumerate(rows):
        if not r["cache"].exists():
            y, _ = decode(r["file"])
            store(Spectrum(y), r["cache"])
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(rows)}", file=sys.stderr, flush=True)


def real_entries() -> list[dict]:
    from musicrec_engine.audio import decode as audio

    out = []
    for name, files, chart in real_tracks(REAL_PACKAGES):
        path = CACHE / "real" / (name.replace("/", "_") + ".npz")
        out.append({"name": name, "files": files, "chart": chart, "cache": path})
        if not path.exists():
            parts = [audio.decode(f) for f in files]
            y = np.zeros(max(len(d.y) for d in parts), np.float32)
            for d in parts:
                y[:len(d.y)] += d.y
            y /= max(1.0, float(np.abs(y).max()))
            store(Spectrum(y), path)
            ess_path = CACHE / "real" / "essentia.json"
            ess = json.loads(ess_path.read_text()) if ess_path.exists() else {}
            if name not in ess:
                try:
                    import essentia
                    import essentia.standard as es
                    import soxr

                    essentia.log.infoActive = essentia.log.warningActive = False
                    y44 = soxr.resample(y, 22050, 44100).astype(np.float32)
                    ess[name] = float(es.RhythmExtractor2013(method="multifeature")(y44)[0])
                    ess_path.write_text(json.dumps(ess))
                except ImportError:
                    pass
            print(f"  {name}", file=sys.stderr, flush=True)
    return out


def _fmt(res: list[dict], metric: str) -> str:
    m, lo, hi = bootstrap(res, metric)
    return f"{m:.3f} [{lo:.2f}, {hi:.2f}]"


def score(root: Path, seeds: list[int], real: bool, misses: bool) -> None:
    rows = [r for r in tune_rows(root, seeds) if r["cache"].exists()]
    res = []
    for r in rows:
        est = tempo.estimate(CachedSpectrum(r["cache"]))
        spec = json.loads(r["source"]) if r["set"] == "composed" else {}
        res.append({"piece": f"{r['seed']}/{r['piece']}", "acc1": acc1(est.bpm, r["tempo"]),
                    "acc2": acc2(est.bpm, r["tempo"]), "conf": est.confidence, "bpm": est.bpm,
                    "truth": r["tempo"], "set": r["set"], "meter": r["meter"], "seed": r["seed"],
                    "drums": spec.get("drum_style", "none"), "acc": spec.get("accompaniment", "-"),
                    "path": f"seed{r['seed']}/{r['path']}", "cands": est.candidates[:4]})
    print("| corpus | files | pieces | tempo Acc1 | tempo Acc2 |\n|---|---|---|---|---|")
    for s in seeds:
        sel = [r for r in res if r["seed"] == s]
        if sel:
            print(f"| tune seed {s} | {len(sel)} | {len({r['piece'] for r in sel})} | {_fmt(sel, 'acc1')} | {_fmt(sel, 'acc2')} |")
    print(f"| **pooled** | {len(res)} | {len({r['piece'] for r in res})} | {_fmt(res, 'acc1')} | {_fmt(res, 'acc2')} |")
    print("\n| condition | n | Acc1 | Acc2 |\n|---|---|---|---|")
    for field, values in (("set", ["composed", "music21"]), ("meter", ["4/4", "3/4", "6/8"]),
                          ("drums", ["full", "sparse", "none"]), ("acc", ["block", "arpeggio", "alberti", "pad"])):
        for v in values:
            sel = [r for r in res if r[field] == v and (field == "set" or r["set"] == "composed")]
            if sel:
                print(f"| {field} {v} | {len(sel)} | {np.mean([r['acc1'] for r in sel]):.3f} | "
                      f"{np.mean([r['acc2'] for r in sel]):.3f} |")
    print("\n| tempo confidence | n | right (Acc1) | Acc2 |\n|---|---|---|---|")
    for lo, hi in ((0, .2), (.2, .4), (.4, .6), (.6, .8), (.8, 1.01)):
        sel = [r for r in res if lo <= r["conf"] < hi]
        if sel:
            print(f"| {lo:.1f}–{min(hi, 1):.1f} | {len(sel)} | {np.mean([r['acc1'] for r in sel]):.3f} | "
                  f"{np.mean([r['acc2'] for r in sel]):.3f} |")
    if misses:
        print("\nBeyond Accuracy2 (ratio = reported / true):")
        for r in res:
            if not r["acc2"]:
                print(f"  {r['path']}: true {r['truth']:.1f} got {r['bpm']:.1f} (x{r['bpm'] / r['truth']:.2f}) "
                      f"conf {r['conf']:.2f} {r['meter']} drums={r['drums']} acc={r['acc']} {r['cands']}")
        print("\nOctave misses (Acc2 but not Acc1):")
        for r in res:
            if r["acc2"] and not r["acc1"]:
                print(f"  {r['path']}: true {r['truth']:.1f} got {r['bpm']:.1f} (x{r['bpm'] / r['truth']:.2f}) "
                      f"conf {r['conf']:.2f} {r['meter']} drums={r['drums']} acc={r['acc']}")
    if real:
        ents = real_entries()
        ess_path = CACHE / "real" / "essentia.json"
        ess = json.loads(ess_path.read_text()) if ess_path.exists() else {}
        agree1 = agree2 = n = 0
        chart1 = chart2 = nc = 0
        lines = []
        for e in ents:
            est = tempo.estimate(CachedSpectrum(e["cache"]))
            et = ess.get(e["name"])
            if e["chart"]:
                nc += 1
                chart1 += acc1(est.bpm, e["chart"])
                chart2 += acc2(est.bpm, e["chart"])
            elif et:
                n += 1
                agree1 += acc1(est.bpm, et)
                agree2 += acc2(est.bpm, et)
            lines.append(f"  {e['name']}: ours {est.bpm:.1f} ({est.confidence:.2f}) essentia "
                         f"{et if et is None else round(et, 1)} chart {e['chart'] and round(e['chart'], 1)}")
        print(f"\nReal: Frets on Fire charts {nc}: Acc1 {chart1}/{nc}, Acc2 {chart2}/{nc}; "
              f"vs Essentia {n}: within 4 % {agree1}/{n}, up to x2/x3 {agree2}/{n}")
        if misses:
            print("\n".join(lines))


def clips() -> None:
    """Accuracy on the clips of tests/test_tempo_levels.py (their own synthesis, not the corpus
    generators) over a grid: tempi x metres x kits x accompaniments, 12 s each; the confident
    column counts clips with tempo confidence >= 0.8 and how many of those were right."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_tempo_levels import clip

    grids = {
        "fast 4/4": [(b, "4/4", k, a) for b in (176.0, 192.0, 208.0)
                     for k in ("four", "backbeat", "ride", "kick1", "none")
                     for a in ("oompah", "pad", "piano", "strum")],
        "64-140 BPM, 4/4 3/4 6/8": [(b, m, k, a) for b in (64.0, 100.0, 140.0) for m in ("4/4", "3/4", "6/8")
                                    if not (m == "6/8" and b > 100)
                                    for k in ("none", "kick1", "ride", "shaker8", "backbeat")
                                    for a in ("oompah", "pad", "strum", "piano")],
        "even eighths, kick on 1 and 3": [(b, "4/4", k, a) for b in (80.0, 90.0, 100.0, 110.0)
                                          for k in ("shaker8kick", "hats8kick")
                                          for a in ("oompah", "pad", "strum", "piano")],
    }
    print("| clip grid | clips | Acc1 | Acc2 | confident (right) | beyond Acc2 |\n|---|---|---|---|---|---|")
    for name, cases in grids.items():
        n1 = n2 = sure = sure1 = 0
        bad = []
        for bpm, meter, kit, acc in cases:
            seed = int(bpm) + (7 if name.startswith("fast") else 11)
            est = tempo.estimate(Spectrum(clip(bpm, meter, kit, acc, seconds=12.0, seed=seed)))
            got = est.bpm
            n1 += acc1(got, bpm)
            n2 += acc2(got, bpm)
            sure += est.confidence >= 0.8
            sure1 += est.confidence >= 0.8 and acc1(got, bpm)
            if not acc2(got, bpm):
                bad.append(f"{bpm:.0f} {meter} {kit} {acc}: x{got / bpm:.2f}")
        print(f"| {name} | {len(cases)} | {n1} | {n2} | {sure} ({sure1}) | {'; '.join(bad)} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["cache", "cache-real", "score", "clips"])
    ap.add_argument("--root", type=Path, default=Path("/work/corpora"))
    ap.add_argument("--tune-seed", type=int, nargs="+", default=[0, 10, 11])
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--set", nargs="+", default=[], metavar="NAME=VALUE",
                    help="override constants of the tempo module for this run, e.g. TATUM_MAX=99")
    args = ap.parse_args()
    provenance.announce(args)
    for item in args.set:
        name, value = item.split("=", 1)
        if not hasattr(tempo, name):
            raise SystemExit(f"tempo has no constant {name}")
        setattr(tempo, name, type(getattr(tempo, name))(float(value)))
    if args.action == "cache":
        cache(args.root, args.tune_seed)
    elif args.action == "cache-real":
        real_entries()
    elif args.action == "clips":
        clips()
    else:
        score(args.root, args.tune_seed, args.real, args.misses)


if __name__ == "__main__":
    main()
