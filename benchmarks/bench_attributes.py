"""Accuracy, calibration and cost of the measured attributes (tempo, key, mode) on audio with known answers.

    .venv/bin/python benchmarks/bench_attributes.py [--root DIR] [--only tune|heldout|none]
        [--tune-seed 0 [N ...]] [--heldout-seed 3 [N ...]] [--count 48] [--music21 24] [--no-essentia] [--errors] [--cost]

Builds (or reuses) two corpora with tools.corpus (`python -m tools.corpus build DIR --part P --seed N
--count C --music21 M`): the TUNING part (generator family "a", FluidR3_GM, one half of the Bach
chorales), on which every method and constant was chosen, and the HELD-OUT part (family "b",
MuseScore_General, the other half of the chorales), scored once at the end. Each is reported
per set (composed, music21) and condition (clean FLAC, degraded MP3/M4A with noise and gain),
and the composed set by metre, drums, tempo range and reverb. Every file is decoded once; this
engine and, where the `essentia` package is installed (dev-only), Essentia's KeyExtractor and
RhythmExtractor2013 see the same samples (resampled to 44.1 kHz, Essentia's native rate).
Essentia's answers are cached next to the corpus (essentia.json), since they do not change when
this engine does.

Metrics: MIREX weighted key score (same key 1, fifth 0.5, relative 0.3, parallel 0.2), exact key,
mode, tempo Accuracy1 (within 4 %), Accuracy2 (also x2, x1/2, x3, x1/3, within 4 %), tempo bin.
A closing summary gives each corpus's figures with 95 % bootstrap intervals that resample pieces
(a piece's clean and degraded copies together), and the key errors by kind.
Reliability: per confidence band, how often the key (exact key and mode) and the tempo (Acc1)
are right. `--cost` times the four attributes on a 4-minute track against the shared spectrum
work in the same run.

`--real` runs both systems on real recordings from Debian packages (benchmarks/realmusic.py's
albums when that module is there, else ASC's and Drascula's soundtracks and the Frets on Fire
songs, stems summed) and reports how often they AGREE: agreement is not truth, but a large
disagreement on real music is a finding to explain. The Frets on Fire songs carry a tempo of
their own: the game's note chart (notes.mid) is synchronised to the recording, so its tempo is
an independent reference for those eight songs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import provenance  # noqa: E402
from musicrec_engine.attributes import measured, tempo_bin  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402
from tools import corpus  # noqa: E402

ESSENTIA_KEYS = {n: i for i, n in enumerate(["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"])}
ESSENTIA_KEYS.update({"Db": 1, "Eb": 3, "Gb": 6, "Ab": 8, "Bb": 10})
METRICS = ["mirex", "key_exact", "mode", "acc1", "acc2", "bin"]
BANDS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)]


def mirex(pk: int, pm: int, tk: int, tm: int) -> float:
    if pk < 0:
        return 0.0
    if pk == tk and pm == tm:
        return 1.0
    if pm == tm and (pk - tk) % 12 in (5, 7):
        return 0.5
    if pm != tm and ((tm == 1 and pk == (tk + 9) % 12) or (tm == 0 and pk == (tk + 3) % 12)):
        return 0.3
    if pm != tm and pk == tk:
        return 0.2
    return 0.0


KEY_ERRORS = ["fourth up", "fifth up", "relative", "parallel", "other", "no key"]


def key_error(pk: int, pm: int, tk: int, tm: int) -> str:
    """What kind of key error a prediction is ("" when right): a fourth up is the subdominant
    taken for the tonic, a fifth up the dominant."""
    if pk < 0:
        return "no key"
    if pk == tk and pm == tm:
        return ""
    d = (pk - tk) % 12
    if pm == tm and d in (5, 7):
        return "fourth up" if d == 5 else "fifth up"
    if pm != tm and d == (9 if tm == 1 else 3):
        return "relative"
    return "parallel" if pm != tm and d == 0 else "other"


def acc1(p: float, t: float) -> bool:
    return abs(p - t) <= 0.04 * t


def acc2(p: float, t: float) -> bool:
    return any(acc1(p, t * f) for f in (1, 2, 0.5, 3, 1 / 3))


def decode(path: Path) -> tuple[np.ndarray, int]:
    d = read(path)
    return d.y, d.channels


def read(path: Path, as_app: bool = False):
    """The file decoded whole (up to the decoder's cap) or, with `as_app`, as the analysis reads it:
    a track over 90 s as three stretches joined (analysis/plan.py), their joins reported."""
    from musicrec_engine.analysis import plan
    from musicrec_engine.audio import decode as audio

    return audio.decode(path, plan=plan.segments if as_app else None)


def reference_key(path: Path, d) -> str | None:
    """Where a reference's answer is cached: under the file when the samples are the whole file,
    else under a key of its own for the joined stretches."""
    return f"{path}:as the app reads it" if d.joins else None


def run_engine(y: np.ndarray, channels: int, joins: tuple[int, ...] = ()) -> tuple[dict, float]:
    spec = Spectrum(y, joins=joins)
    spec.extras["channels"] = channels
    _ = spec.onset_env, spec.chroma, spec.rms  # shared work, paid by the feature pipelines anyway
    t0 = time.perf_counter()
    a = measured.measure(spec)
    cost = time.perf_counter() - t0
    return {"key": a["key"].value, "mode": a["mode"].value, "tempo": a["tempo"].value,
            "key_conf": a["key"].confidence, "tempo_conf": a["tempo"].confidence}, cost


class Reference:
    """Another system's key and tempo on the same decoded samples (resampled to 44.1 kHz), its
    answers cached per file in a JSON file, since they do not change when this engine does."""

    version = ""

    def __init__(self, cache: Path):
        self.cache_path = cache
        self.cache = json.loads(cache.read_text()) if cache.exists() else {}

    def __call__(self, y: np.ndarray, path: Path | None = None, key: str | None = None) -> dict:
        """The answer for `y`, cached under the file it was decoded from (its size and time) or,
        for samples cut from a file, under `key`."""
        stamp = key or f"{path}:{path.stat().st_size}:{int(path.stat().st_mtime)}"
        if stamp not in self.cache:
            import soxr

            self.cache[stamp] = self.answer(soxr.resample(y, 22050, 44100).astype(np.float32))
            self.cache_path.write_text(json.dumps(self.cache))
        return self.cache[stamp]

    def answer(self, y44: np.ndarray) -> dict:
        raise NotImplementedError


class Madmom(Reference):
    """madmom's key and tempo (benchmarks/madmom_reference.py), run by the interpreter named in
    MADMOM_PYTHON, which reads the samples from a WAV file."""

    def __init__(self, cache: Path):
        import os
        import subprocess
        import tempfile

        python = os.environ.get("MADMOM_PYTHON")
        if not python:
            raise ImportError("set MADMOM_PYTHON to an interpreter that has madmom")
        super().__init__(cache)
        self.version = "madmom 0.16.1"
        self.wav = Path(tempfile.mkdtemp(prefix="madmom-")) / "clip.wav"
        self.proc = subprocess.Popen([python, str(ROOT / "benchmarks" / "madmom_reference.py")], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def answer(self, y44: np.ndarray) -> dict:
        import soundfile as sf

        sf.write(self.wav, y44, 44100)
        self.proc.stdin.write(f"{self.wav}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())


class Essentia(Reference):
    """KeyExtractor (the EDMA profile) and RhythmExtractor2013."""

    def __init__(self, cache: Path):
        import essentia
        import essentia.standard as es

        super().__init__(cache)
        essentia.log.infoActive = False
        essentia.log.warningActive = False
        self.version = essentia.__version__
        self.key = es.KeyExtractor(sampleRate=44100, profileType="edma")
        self.rhythm = es.RhythmExtractor2013(method="multifeature")

    def answer(self, y44: np.ndarray) -> dict:
        k, scale, _ = self.key(y44)
        return {"key": ESSENTIA_KEYS.get(k, -1), "mode": 1 if scale == "major" else 0,
                "tempo": float(self.rhythm(y44)[0])}


def style_of(source: str) -> str:
    """The style an independent generator names in its source column ("GENERATOR:STYLE:seedN:i"), else ""."""
    parts = source.split(":")
    return parts[1] if len(parts) == 4 and parts[2].startswith("seed") else ""


def outcome(p: dict, r: dict) -> dict:
    spec = json.loads(r["source"]) if r["set"] == "composed" else {}
    return {
        "set": r["set"], "variant": "clean" if r["variant"] == "clean" else "degraded",
        "meter": r["meter"], "drums": spec.get("drum_style", "none"), "reverb": r["reverb_s"] > 0,
        "tempo_range": "< 90" if r["tempo"] < 90 else "> 156" if r["tempo"] > 156 else "90-156",
        "mirex": mirex(p["key"], p["mode"], r["key"], r["mode"]),
        "key_exact": p["key"] == r["key"] and p["mode"] == r["mode"],
        "key_fourth_up": p["key"] == (r["key"] + 5) % 12 and p["mode"] == r["mode"],
        "key_error": key_error(p["key"], p["mode"], r["key"], r["mode"]), "piece": r["piece"],
        "mode": p["mode"] == r["mode"],
        "acc1": acc1(p["tempo"], r["tempo"]), "acc2": acc2(p["tempo"], r["tempo"]),
        # from the truth's tempo, not its tempo_bin column: the independent generators do not import
        # this project, so they leave that column at 0
        "bin": tempo_bin(p["tempo"]) == tempo_bin(r["tempo"]),
        "kit": bool(r["drums"]), "style": style_of(r["source"]),
        "key_conf": p.get("key_conf"), "tempo_conf": p.get("tempo_conf"),
        "pred": {k: p[k] for k in ("key", "mode", "tempo")}, "truth": (r["key"], r["mode"], r["tempo"]),
        "path": r["path"], "spec": spec,
    }


def evaluate(rows: list[dict], systems: dict, as_app: bool = False) -> dict[str, list[dict]]:
    """Per system, one dict of per-file outcomes per row."""
    out: dict[str, list[dict]] = {name: [] for name in systems}
    for i, r in enumerate(rows):
        d = read(r["file"], as_app)
        for name, fn in systems.items():
            out[name].append(outcome(fn(d, r["file"]), r))
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{len(rows)} files", file=sys.stderr, flush=True)
    return out


def _line(label: str, system: str, sel: list[dict]) -> str:
    vals = [f"{np.mean([r[m] for r in sel]):.3f}" for m in METRICS]
    return f"| {label} | {system} | {len(sel)} | " + " | ".join(vals) + " |"


def table(title: str, results: dict[str, list[dict]]) -> str:
    head = "| set / condition | system | n | MIREX key | exact key | mode | tempo Acc1 | tempo Acc2 | tempo bin |"
    lines = [f"### {title}", "", head, "|---|---|---|---|---|---|---|---|---|"]
    set_names = list(dict.fromkeys(r["set"] for res in results.values() for r in res))
    for set_name in set_names:
        for cond in ("all", "clean", "degraded"):
            for system, res in results.items():
                sel = [r for r in res if r["set"] == set_name and (cond == "all" or r["variant"] == cond)]
                if sel:
                    lines.append(_line(f"{set_name} {cond}", system, sel))
    for system, res in results.items():
        lines.append(_line("**all sets**", system, res))
    rule = ["|---|---|---|---|---|---|---|---|---|"]

    def by_condition(heading: str, names: list[str], groups: list[tuple[str, list]]) -> None:
        """One line per system and value of each field, over the sets in `names`."""
        chosen = {system: [r for r in res if r["set"] in names] for system, res in results.items()}
        lines.extend(["", heading, "", head, *rule])
        for field, values in groups:
            for v in values:
                for system, res in chosen.items():
                    sel = [r for r in res if r[field] == v]
                    if sel:
                        name = "drum kit" if field == "kit" else field
                        lines.append(_line(f"{name} {'yes' if v is True else 'no' if v is False else v}", system, sel))

    tempo_ranges = ("tempo_range", ["< 90", "90-156", "> 156"])
    if "composed" in set_names:
        by_condition("Composed set by condition:", ["composed"],
                     [("meter", ["4/4", "3/4", "6/8"]), ("drums", ["full", "sparse", "none"]), tempo_ranges,
                      ("reverb", [True, False])])
    others = [n for n in set_names if n not in ("composed", "music21", "repertoire")]
    if others:  # the independent generators' sets: by what their truth files say
        some = [r for r in next(iter(results.values())) if r["set"] in others]
        by_condition(f"{', '.join(others)} by condition:", others,
                     [("meter", sorted({r["meter"] for r in some})), ("kit", [True, False]), tempo_ranges,
                      ("style", sorted({r["style"] for r in some}))])
    for system, res in results.items():
        n4 = sum(r["key_fourth_up"] for r in res)
        lines.append(f"\n{system}: {n4} of {len(res)} keys a fourth above the truth "
                     f"(the subdominant taken for the tonic)")
    return "\n".join(lines)


def reliability(res: list[dict]) -> str:
    """Per confidence band: files, and how often they are right (key exact; tempo Acc1)."""
    lines = ["| confidence | key n | key right | tempo n | tempo right (Acc1) |", "|---|---|---|---|---|"]
    for lo, hi in BANDS:
        k = [r["key_exact"] for r in res if lo <= r["key_conf"] < hi]
        t = [r["acc1"] for r in res if lo <= r["tempo_conf"] < hi]
        lines.append(f"| {lo:.1f}–{min(hi, 1.0):.1f} | {len(k)} | {np.mean(k) if k else float('nan'):.3f} | "
                     f"{len(t)} | {np.mean(t) if t else float('nan'):.3f} |")
    return "\n".join(lines)


SUMMARY = [("mirex", "MIREX key"), ("mode", "mode"), ("key_exact", "exact key"), ("acc1", "tempo Acc1"),
           ("acc2", "tempo Acc2")]


def bootstrap(res: list[dict], metric: str, reps: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95 % interval, resampling PIECES (a piece's clean and degraded copies go together:
    they are not independent evidence)."""
    by_piece: dict[str, list[float]] = {}
    for r in res:
        by_piece.setdefault(r["piece"], []).append(float(r[metric]))
    sums = np.array([sum(v) for v in by_piece.values()])
    counts = np.array([len(v) for v in by_piece.values()])
    idx = np.random.default_rng(seed).integers(0, len(sums), size=(reps, len(sums)))
    means = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(sums.sum() / counts.sum()), float(lo), float(hi)


def summary(runs: list[tuple[str, dict[str, list[dict]]]]) -> str:
    """One row per corpus and system: each metric with its 95 % piece-bootstrap interval."""
    head = "| corpus | system | files | pieces | " + " | ".join(name for _, name in SUMMARY) + " |"
    lines = [head, "|---" * (4 + len(SUMMARY)) + "|"]
    for label, results in runs:
        for system, res in results.items():
            cells = []
            for metric, _ in SUMMARY:
                m, lo, hi = bootstrap(res, metric)
                cells.append(f"{m:.3f} [{lo:.2f}, {hi:.2f}]")
            lines.append(f"| {label} | {system} | {len(res)} | {len({r['piece'] for r in res})} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooled(runs: list[tuple[str, dict[str, list[dict]]]]) -> list[tuple[str, dict[str, list[dict]]]]:
    """The held-out seeds of one run as one more corpus, and the --corpus directories as another,
    when there are two or more of a kind. Each piece is named with its set, since every seed has
    its own c0000; the interval then resamples the pieces of all sets together."""
    out = []
    for kind, member in (("held-out seeds", lambda label: label.startswith("heldout seed")),
                         ("corpora", lambda label: not label.startswith(("heldout seed", "tune seed")))):
        sets = [(label, res) for label, res in runs if member(label)]
        if len(sets) < 2:
            continue
        together = {system: [dict(r, piece=f"{label}/{r['piece']}") for label, res in sets for r in res[system]]
                    for system in sets[0][1]}
        names = ", ".join(label.split()[-1] for label, _ in sets) if kind == "held-out seeds" else f"({len(sets)})"
        out.append((f"{kind} {names} pooled", together))
    return out


def error_types(runs: list[tuple[str, dict[str, list[dict]]]]) -> str:
    """Key errors by kind, per corpus, system and set (files)."""
    lines = ["| corpus | system | set | files | right | " + " | ".join(KEY_ERRORS) + " |",
             "|---" * (5 + len(KEY_ERRORS)) + "|"]
    for label, results in runs:
        for system, res in results.items():
            for set_name in dict.fromkeys(r["set"] for r in res):
                sel = [r for r in res if r["set"] == set_name]
                if sel:
                    counts = [sum(r["key_error"] == e for r in sel) for e in KEY_ERRORS]
                    right = sum(r["key_error"] == "" for r in sel)
                    lines.append(f"| {label} | {system} | {set_name} | {len(sel)} | {right} | "
                                 + " | ".join(map(str, counts)) + " |")
    return "\n".join(lines)


def errors(title: str, res: list[dict], limit: int = 60) -> str:
    bad = [r for r in res if not (r["key_exact"] and r["acc1"])]
    lines = [f"{title}: {len(bad)} files with a key or tempo miss"]
    for r in bad[:limit]:
        s = r["spec"]
        extra = (f" {s.get('meter')} {s.get('drum_style')} {s.get('accompaniment')} prog={s.get('progression')}"
                 f" prog={s.get('chord_program')},{s.get('melody_program')},{s.get('bass_program')}" if s else "")
        lines.append(f"  {r['path']}: truth {r['truth']} pred {r['pred']} conf k={r['key_conf']} "
                     f"t={r['tempo_conf']}{extra}")
    return "\n".join(lines)


def cost_table(reps: int = 5) -> str:
    """Extra cost of measure() on a 4-minute track versus the shared spectrum work, same run.

    Wall time and CPU time of this process are both shown: on a shared machine the wall time
    also counts waiting for a core.
    """
    sys.path.insert(0, str(ROOT / "tests"))
    from audio_fixtures import music

    y = np.tile(music(30.0, key=2, mode=0, bpm=128.0, drums=True), 8)  # 4 minutes
    measured.measure(Spectrum(y[: 22050 * 10]))  # imports and first-call set-up are not per track
    clocks = (time.perf_counter, time.process_time)
    rows = []
    for _ in range(reps):
        spec = Spectrum(y)
        marks = [tuple(c() for c in clocks)]
        _ = spec.magnitude
        marks.append(tuple(c() for c in clocks))
        _ = spec.onset_env, spec.chroma, spec.rms
        marks.append(tuple(c() for c in clocks))
        measured.measure(spec)
        marks.append(tuple(c() for c in clocks))
        rows.append([[b[k] - a[k] for k in range(2)] for a, b in zip(marks, marks[1:], strict=False)])
    med = np.median(np.array(rows), axis=0)  # (3 stages, 2 clocks)
    names = ["shared STFT magnitude (reference)",
             "shared onset envelope + chroma + rms (the feature pipelines pay these)",
             "measured tempo + key + mode + loudness (extra)"]
    lines = [f"| 4-minute track, one process (median of {reps}) | wall s | CPU s | ratio to STFT (CPU) |",
             "|---|---|---|---|"]
    for name, (wall, cpu) in zip(names, med, strict=True):
        lines.append(f"| {name} | {wall:.3f} | {cpu:.3f} | {cpu / med[0][1]:.2f} |")
    return "\n".join(lines)


REAL_DIRS = ["/usr/share/games/asc/music/*.mp3", "/usr/share/scummvm/drascula/audio/*.ogg"]
FOF_SONGS = "/usr/share/games/fretsonfire/data/songs/*/*/"


def real_tracks(packages: list[str] | None = None) -> list[tuple[str, list[Path], float | None]]:
    """(name, files to sum, chart tempo or None) for the real recordings installed here, optionally
    only those of some Debian packages (benchmarks/realmusic.py's package names)."""
    import glob

    import mido

    out = []
    try:
        from benchmarks import realmusic  # another engineer's evaluation set, when it is there

        realmusic.materialize()
        for album in realmusic.albums():
            if packages and album.package not in packages:
                continue
            for t in album.items:
                out.append((t.key, [Path(t.path)], None))
    except ImportError:
        for pattern in REAL_DIRS:
            out += [(str(Path(p).relative_to("/usr/share")), [Path(p)], None) for p in sorted(glob.glob(pattern))]
    fof = not packages or any(p.startswith("fretsonfire") for p in packages)
    for d in sorted(glob.glob(FOF_SONGS)) if fof else []:
        stems = [Path(d) / n for n in ("song.ogg", "guitar.ogg", "rhythm.ogg") if (Path(d) / n).exists()]
        tempos = [mido.tempo2bpm(m.tempo) for tr in mido.MidiFile(Path(d) / "notes.mid").tracks
                  for m in tr if m.type == "set_tempo"]
        chart = tempos[0] if tempos and max(tempos) - min(tempos) < 0.5 else None
        name = "fretsonfire/" + "/".join(Path(d).parts[-2:])
        out = [o for o in out if not o[0].endswith(Path(d).name)] + [(name, stems, chart)]
    return out


def real_music(ess: Essentia | None, packages: list[str] | None = None, mm: Madmom | None = None) -> str:
    """Agreement of MusicRec with Essentia and, when given, madmom (and with the chart tempo where
    there is one)."""
    from musicrec_engine.audio import decode as audio

    refs = {name: ref for name, ref in (("Essentia", ess), ("madmom", mm)) if ref is not None}
    rows = []
    for name, files, chart in real_tracks(packages):
        parts = [audio.decode(f) for f in files]
        n = max(len(d.y) for d in parts)
        y = np.zeros(n, np.float32)
        for d in parts:
            y[:len(d.y)] += d.y
        y /= max(1.0, float(np.abs(y).max()))
        answers = {"MusicRec": run_engine(y, max(d.channels for d in parts))[0]}
        answers.update({ref_name: ref(y, files[0]) for ref_name, ref in refs.items()})
        rows.append((name, chart, answers))
        print(f"  {name}", file=sys.stderr, flush=True)
    lines = [f"Real recordings: {len(rows)} tracks", "",
             "| comparison | n | key same | key MIREX-weighted | mode same | tempo within 4 % | tempo within 4 % up to x2, x3 |",
             "|---|---|---|---|---|---|---|"]
    systems = ["MusicRec", *refs]
    for a_i, a in enumerate(systems):
        for b in systems[a_i + 1:]:
            both = [(r[2][a], r[2][b]) for r in rows if r[2][a]["key"] >= 0 and r[2][b]["key"] >= 0]
            if both:
                lines.append(f"| {a} vs {b} | {len(both)} | "
                             f"{np.mean([o['key'] == t['key'] and o['mode'] == t['mode'] for o, t in both]):.3f} | "
                             f"{np.mean([mirex(o['key'], o['mode'], t['key'], t['mode']) for o, t in both]):.3f} | "
                             f"{np.mean([o['mode'] == t['mode'] for o, t in both]):.3f} | "
                             f"{np.mean([acc1(o['tempo'], t['tempo']) for o, t in both]):.3f} | "
                             f"{np.mean([acc2(o['tempo'], t['tempo']) for o, t in both]):.3f} |")
    charted = [r for r in rows if r[1]]
    for system in systems:
        sel = [(r[1], r[2][system]["tempo"]) for r in charted]
        if sel:
            lines.append(f"| {system} vs chart tempo (Frets on Fire) | {len(sel)} | — | — | — | "
                         f"{np.mean([acc1(p, c) for c, p in sel]):.3f} | {np.mean([acc2(p, c) for c, p in sel]):.3f} |")
    lines += ["", "| track | chart BPM | MusicRec key, BPM (conf) | " + " | ".join(f"{r} key, BPM" for r in refs) + " |",
              "|---|---|---|" + "---|" * len(refs)]
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]

    def k(a):
        return "none" if a["key"] < 0 else names[a["key"]] + ("" if a["mode"] else "m")

    for name, chart, ans in rows:
        o = ans["MusicRec"]
        lines.append(f"| {name} | {format(chart, '.1f') if chart else '—'} | {k(o)} ({o['key_conf']:.2f}), "
                     f"{o['tempo']:.1f} ({o['tempo_conf']:.2f}) | "
                     + " | ".join(f"{k(ans[r])}, {ans[r]['tempo']:.1f}" for r in refs) + " |")
    return "\n".join(lines)


def ensure(root: Path, part: str, seed: int, count: int, m21: int) -> Path:
    csv_path = root / f"{part}-seed{seed}" / corpus.TRUTH_CSV
    if not csv_path.exists():
        print(f"building: python -m tools.corpus build {csv_path.parent} --part {part} --seed {seed} "
              f"--count {count} --music21 {m21}", file=sys.stderr, flush=True)
        corpus.build(csv_path.parent, part=part, seed=seed, count=count, music21=m21,
                     progress=lambda d, t, m: print(f"  [{d}/{t}] {m}", file=sys.stderr, flush=True))
    return csv_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path("/tmp/musicrec-corpus"))
    ap.add_argument("--tune-seed", type=int, nargs="+", default=[0], help="one or more tuning-part seeds")
    ap.add_argument("--heldout-seed", type=int, nargs="+", default=[3], help="one or more held-out seeds")
    ap.add_argument("--count", type=int, default=48)
    ap.add_argument("--music21", type=int, default=24)
    ap.add_argument("--only", choices=["tune", "heldout", "none"], default=None,
                    help="one part only, or none (just --real, --corpus and --cost)")
    ap.add_argument("--corpus", type=Path, nargs="+", default=[], metavar="DIR",
                    help="also score these built corpora (any folder with a truth.csv, e.g. a repertoire half "
                         "from `python -m tools.corpus build DIR --part repertoire-heldout`)")
    ap.add_argument("--no-essentia", action="store_true")
    ap.add_argument("--madmom", action="store_true",
                    help="also madmom's key and tempo, run by the interpreter in MADMOM_PYTHON (dev-only reference)")
    ap.add_argument("--cost", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list the misses")
    ap.add_argument("--as-app", action="store_true",
                    help="read each file as the analysis does (a track over 90 s as three stretches joined)")
    ap.add_argument("--real", action="store_true", help="agreement with Essentia on real recordings")
    ap.add_argument("--real-packages", nargs="+", metavar="PACKAGE",
                    help="only these Debian packages' recordings (e.g. asc-music drascula-music fretsonfire-songs-sectoid)")
    args = ap.parse_args()
    provenance.announce(args)
    print()

    parts = [("tune", seed) for seed in args.tune_seed] + [("heldout", seed) for seed in args.heldout_seed]
    if args.only:
        parts = [(part, seed) for part, seed in parts if part == args.only]
    parts += [("corpus", d) for d in args.corpus]
    runs = []
    for part, seed in parts:
        csv_path = seed / corpus.TRUTH_CSV if part == "corpus" else ensure(args.root, part, seed, args.count, args.music21)
        systems = {"MusicRec": lambda d, path: run_engine(d.y, d.channels, d.joins)[0]}
        if args.as_app:  # the same stretches folded as one signal, as the tempo read them before it knew the joins
            systems["MusicRec, joins unknown"] = lambda d, path: run_engine(d.y, d.channels)[0]
        if args.madmom:
            mm = Madmom(csv_path.parent / "madmom.json")
            systems[mm.version] = lambda d, path, mm=mm: mm(d.y, path, reference_key(path, d))
        if not args.no_essentia:
            try:
                ess = Essentia(csv_path.parent / "essentia.json")
                systems[f"Essentia {ess.version}"] = lambda d, path, ess=ess: ess(d.y, path, reference_key(path, d))
            except ImportError:
                print("essentia is not installed: no Essentia rows (pip install essentia)", file=sys.stderr)
        rows = corpus.read_truth(csv_path)
        t0 = time.perf_counter()
        res = evaluate(rows, systems, args.as_app)
        if part == "corpus":
            # two generators' folders may share a name (blind/seed4, blind2/seed4): then the parent says which
            names = [c.name for c in args.corpus or []]
            d = csv_path.parent
            label = name = f"{d.parent.name}/{d.name}" if names.count(d.name) > 1 else d.name
            print(table(f"{label}, {len(rows)} files ({csv_path.parent})", res))
        else:
            label = "TUNING part" if part == "tune" else "HELD-OUT part"
            name = f"{part} seed {seed}"
            print(table(f"{label}: seed {seed}, {len(rows)} files ({csv_path.parent})", res))
        runs.append((name, res))
        print(f"\nReliability of MusicRec's confidence ({label}):\n")
        print(reliability(res["MusicRec"]))
        print(f"\n({time.perf_counter() - t0:.0f} s)\n")
        if args.errors:
            for system, r in res.items():
                print(errors(system, r))
    if runs:
        print("\nSummary, 95 % intervals by resampling pieces (clean and degraded copies together):\n")
        together = pooled(runs)
        print(summary(runs + together))
        for label, res in together:
            print(f"\nReliability of MusicRec's confidence ({label}):\n")
            print(reliability(res["MusicRec"]))
        print("\nKey errors by kind (files):\n")
        print(error_types(runs))
        print()
    if args.real:
        ess = None
        if not args.no_essentia:
            try:
                cache = args.root / "real-essentia.json"
                cache.parent.mkdir(parents=True, exist_ok=True)
                ess = Essentia(cache)
            except ImportError:
                print("essentia is not installed: MusicRec alone", file=sys.stderr)
        mm = Madmom(args.root / "real-madmom.json") if args.madmom else None
        print(real_music(ess, args.real_packages, mm))
    if args.cost:
        print(cost_table())


if __name__ == "__main__":
    main()
