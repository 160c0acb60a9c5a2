"""Speed of the analysis pipeline against a straightforward librosa implementation of
the audio recommender and, when the `essentia` package is importable, Essentia's MusicExtractor.

All timings are per file, wall clock, one core (BLAS/OpenMP pinned to one thread), in one run on
the same files, so the ratios hold even on a shared, noisy machine. Also measured: a cached
re-analysis, throughput with --jobs 1 vs 2, peak memory of a worker on a 10-minute file, and how
closely the cheap HPSS and f0 follow librosa's HPSS and pYIN on the same files.

    ./dev bench bench_features [--quick] [--workdir DIR] [--only coldstart --tree before=/tmp/old]
    ./dev bench bench_features --only stages --tree before=/tmp/old [--tracks 6 --rounds 3]

Test audio is synthetic (tests/audio_fixtures.music), written as MP3 the first time and kept in
the work folder. Essentia is a dev-only comparison: its AGPL licence keeps it out of the product.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"
# The seed-style code runs librosa's numba kernels (pYIN, peak picking). A numba cache shared with
# other processes compiling at the same time has been left inconsistent (segfaults on load), so
# this benchmark compiles into its own cache; the warm-up call keeps compile time out of the table.
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "musicrec-bench-numba"))

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from audio_fixtures import music, write  # noqa: E402
from provenance import announce  # noqa: E402

from musicrec_engine import features  # noqa: E402
from musicrec_engine.analysis.pipeline import analyze_file, analyze_paths  # noqa: E402
from musicrec_engine.audio import decode as audio  # noqa: E402
from musicrec_engine.features.cache import FeatureCache  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402


def make_files(workdir: Path, quick: bool) -> dict[str, list[Path]]:
    plan = {"30 s clip": (30.0, 2 if quick else 3), "4 min track": (240.0, 1 if quick else 2)}
    out = {}
    for label, (seconds, n) in plan.items():
        out[label] = []
        for i in range(n):
            p = workdir / f"bench_{int(seconds)}s_{i}.mp3"
            if not p.exists():
                print(f"writing {p.name} ...", file=sys.stderr, flush=True)
                write(p, music(seconds, key=(3 * i) % 12, mode=i % 2, bpm=90 + 17 * i, seed=100 + i))
            out[label].append(p)
    return out


# --- the pipelines compared -------------------------------------------------------------------
def ours(path: Path) -> dict:
    d = audio.decode(path)
    return features.extract(Spectrum(d.y))


def seed_style(path: Path) -> dict:
    """Seed 000 as a straightforward librosa program would write it: each feature its own call
    (each recomputing its STFT), librosa HPSS and pYIN, beat_track and onset_detect."""
    import librosa

    y, sr = librosa.load(str(path), sr=22050, mono=True)
    out = {}
    mf = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_mels=40, n_fft=2048, hop_length=512)
    for m in (mf, librosa.feature.delta(mf), librosa.feature.delta(mf, order=2)):
        out.setdefault("mfcc", []).append([m.mean(1), m.std(1), m.min(1), m.max(1), np.median(m, 1),
                                           np.percentile(m, 25, 1), np.percentile(m, 75, 1)])
    out["centroid"] = librosa.feature.spectral_centroid(y=y, sr=sr)
    out["bandwidth"] = librosa.feature.spectral_bandwidth(y=y, sr=sr)
    out["rolloff"] = librosa.feature.spectral_rolloff(y=y, sr=sr, roll_percent=0.85)
    out["flatness"] = librosa.feature.spectral_flatness(y=y)
    S = np.abs(librosa.stft(y))
    out["flux"] = np.sqrt((np.diff(S, axis=1) ** 2).sum(0))
    out["rms"] = librosa.feature.rms(y=y)
    out["zcr"] = librosa.feature.zero_crossing_rate(y)
    env = np.abs(y)
    out["attack"] = np.argmax(env >= 0.9 * env.max()) / sr
    out["temporal_centroid"] = (np.arange(len(y)) * env).sum() / env.sum() / sr
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr)
    oenv = librosa.onset.onset_strength(y=y, sr=sr)
    out["beat_strength"] = oenv[beats].mean() if len(beats) else 0.0
    out["onset_rate"] = len(librosa.onset.onset_detect(y=y, sr=sr)) / (len(y) / sr)
    out["chroma"] = librosa.feature.chroma_stft(y=y, sr=sr)
    y_h, y_p = librosa.effects.hpss(y)
    out["hpr_db"] = 10 * np.log10((np.sum(y_h**2) + 1e-10) / (np.sum(y_p**2) + 1e-10))
    f0, voiced, _ = librosa.pyin(y_h, fmin=55.0, fmax=880.0, sr=sr)
    out["f0_median"] = float(np.nanmedian(f0)) if np.any(voiced) else 0.0
    # tristimulus/inharmonicity from harmonic peaks would add more; the cost is already set by pYIN
    return out


ESSENTIA_CODE = """
import sys, time, json
import essentia
essentia.log.infoActive = False
import essentia.standard as es
ex = es.MusicExtractor(lowlevelStats=["mean", "stdev"], rhythmStats=["mean", "stdev"], tonalStats=["mean", "stdev"])
t0 = time.perf_counter()
pool, _ = ex(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t0, "n": len(pool.descriptorNames())}))
"""


def essentia_seconds(path: Path) -> float:
    """MusicExtractor's time on one file, in its own process: Essentia and librosa's LLVM
    (numba) in one process have crashed this benchmark, and a child keeps the licences apart."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", ESSENTIA_CODE, str(path)], capture_output=True, text=True,
                         env=env, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"essentia failed: {out.stderr[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def timed(fn, path: Path, repeats: int = 1) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(path)
        best = min(best, time.perf_counter() - t0)
    return best


def have_essentia() -> bool:
    import importlib.util

    return importlib.util.find_spec("essentia") is not None


def speed_table(files: dict[str, list[Path]], quick: bool) -> list[str]:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    ours(files["30 s clip"][0])  # warm-up: imports and librosa's numba kernels
    seed_style(files["30 s clip"][0]) if not quick else None
    ess = have_essentia()
    rows = ["| input | this pipeline s/file | seed-style librosa s/file | ratio | Essentia MusicExtractor s/file | ratio |",
            "|---|---|---|---|---|---|"]
    for label, paths in files.items():
        t_ours = statistics.median(timed(ours, p, repeats=2) for p in paths)
        seed_paths = paths[:1]  # pYIN makes this the long part of the run: one file per size
        t_seed = statistics.median(timed(seed_style, p) for p in seed_paths)
        t_ess = statistics.median(essentia_seconds(p) for p in seed_paths) if ess else None
        ess_cells = f"{t_ess:.2f} | {t_ess / t_ours:.1f}x" if ess else "not installed | -"
        rows.append(f"| {label} (MP3) | {t_ours:.2f} | {t_seed:.2f} | {t_seed / t_ours:.1f}x | {ess_cells} |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def ours_table(files: dict[str, list[Path]], quick: bool) -> list[str]:
    """This pipeline alone, wall and CPU time: CPU time is what a quiet core would take."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    ours(files["30 s clip"][0])
    rows = ["| input | wall s/file | CPU s/file | of which decode (CPU s) |", "|---|---|---|---|"]
    for label, paths in files.items():
        wall, cpu, dec = [], [], []
        for p in paths:
            for _ in range(2):
                w0, c0 = time.perf_counter(), time.process_time()
                d = audio.decode(p)
                c1 = time.process_time()
                features.extract(Spectrum(d.y))
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
                dec.append(c1 - c0)
        rows.append(f"| {label} (MP3) | {min(wall):.2f} | {min(cpu):.2f} | {min(dec):.2f} |")
    return rows


def agreement_table(files: dict[str, list[Path]]) -> list[str]:
    """Cheap HPSS ratio and SHS f0 against librosa HPSS and pYIN on the same signals."""
    import librosa

    from musicrec_engine.features import stats

    rows = ["| signal | hpr_db (ours) | librosa HPSS hpr_db | f0 median (ours) | pYIN f0 median |", "|---|---|---|---|---|"]
    sr = 22050
    t = np.arange(8 * sr) / sr
    signals = {
        "piano-like tone A3": sum(0.6**k * np.sin(2 * np.pi * 220 * (k + 1) * t) for k in range(8)) * np.exp(-t % 1),
        "synthetic band, no drums": music(8.0, drums=False, seed=1),
        "synthetic band with drums": music(8.0, drums=True, seed=1),
        "bench clip (MP3)": audio.decode(files["30 s clip"][0]).y[: 8 * sr],
    }
    ours_h, ref_h = [], []
    for name, y in signals.items():
        y = np.asarray(y, np.float32)
        v = dict(zip(features.schema("stats").names, stats.compute(Spectrum(y)), strict=True))
        S = np.abs(librosa.stft(y))
        H, P = librosa.decompose.hpss(S)
        ref = 10 * np.log10(((H**2).sum() + 1e-10) / ((P**2).sum() + 1e-10))
        f0, voiced, _ = librosa.pyin(y, fmin=55.0, fmax=880.0, sr=sr)
        pf0 = float(np.nanmedian(f0)) if np.any(voiced) else float("nan")
        ours_h.append(v["hpr_db"])
        ref_h.append(ref)
        rows.append(f"| {name} | {v['hpr_db']:.1f} | {ref:.1f} | {v['f0_median']:.0f} Hz | {pf0:.0f} Hz |")
    rows.append(f"\nCorrelation of hpr_db with librosa's over these signals: r = {np.corrcoef(ours_h, ref_h)[0, 1]:.3f}")
    return rows


def cache_and_jobs_table(files: dict[str, list[Path]], workdir: Path) -> list[str]:
    rows = ["| measurement | figure | reference (same run) | ratio |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        cache = FeatureCache(Path(tmp) / "features.sqlite3")
        track = files["4 min track"][0]
        t0 = time.perf_counter()
        first = analyze_file(track, cache=cache)
        full = time.perf_counter() - t0
        hits = []
        for _ in range(10):
            t0 = time.perf_counter()
            r = analyze_file(track, cache=cache)
            hits.append(time.perf_counter() - t0)
            assert r.cached
        hit = statistics.median(hits)
        rows.append(f"| re-analysis of an unchanged 4-min file (cache hit, median of 10) | {hit * 1000:.1f} ms | "
                    f"first analysis incl. attributes {full:.2f} s | {hit / full:.4f} |")
        assert first.ok
        cache.close()
    import shutil

    batch = workdir / "batch"
    batch.mkdir(exist_ok=True)
    clips = []
    for i in range(12):  # distinct files (copies): the same path or inode would be analysed once
        dst = batch / f"clip{i:02d}.mp3"
        if not dst.exists():
            shutil.copy(files["30 s clip"][i % len(files["30 s clip"])], dst)
        clips.append(dst)
    speeds = {}
    for jobs in (1, 2):
        t0 = time.perf_counter()
        n = sum(r.ok for r in analyze_paths(clips, jobs=jobs))
        speeds[jobs] = n / (time.perf_counter() - t0)
    rows.append(f"| throughput, {len(clips)} x 30 s clips, --jobs 2, first batch (starts the workers) | "
                f"{speeds[2]:.2f} files/s | --jobs 1: {speeds[1]:.2f} files/s | {speeds[2] / speeds[1]:.2f}x |")
    t0 = time.perf_counter()
    n = sum(r.ok for r in analyze_paths(clips, jobs=2))
    warm = n / (time.perf_counter() - t0)
    rows.append(f"| same, a second batch (the fork server is up: workers fork in ms) | {warm:.2f} files/s | "
                f"--jobs 1: {speeds[1]:.2f} files/s | {warm / speeds[1]:.2f}x |")
    t0 = time.perf_counter()
    # What the fork server does before its first fork: the worker imports and one tiny analysis.
    subprocess.run([sys.executable, "-c", "import musicrec_engine.analysis.pipeline, musicrec_engine.analysis.warmup"],
                   cwd=ROOT, check=True)
    rows.append(f"| start of one worker process (imports + warm-up analysis) | {time.perf_counter() - t0:.1f} s | "
                f"one 30 s clip: {1 / speeds[1]:.2f} s | {(time.perf_counter() - t0) * speeds[1]:.1f} |")
    return rows


# VmHWM, not ru_maxrss: a child's ru_maxrss keeps the parent's size from before exec.
HWM = "int(next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')).split()[1]) / 1024"
MEMORY_CODE = """
import json, sys
from musicrec_engine import features
from musicrec_engine.audio import decode as audio
from musicrec_engine.analysis.pipeline import analyze_file
mode, path = sys.argv[1], sys.argv[2]
if mode == "features":
    d = audio.decode(path)
    features.extract(features.Spectrum(d.y))
else:
    assert analyze_file(path).ok
print(json.dumps(""" + HWM + """))
"""


def memory_table(workdir: Path) -> list[str]:
    import soundfile as sf

    path = workdir / "bench_10min_stereo44k.flac"
    if not path.exists():
        y = music(60.0, seed=7)
        import soxr

        y44 = soxr.resample(y, 22050, 44100).astype(np.float32)
        with sf.SoundFile(path, "w", samplerate=44100, channels=2) as f:
            for _ in range(10):
                f.write(np.stack([y44, 0.8 * y44], axis=1))
    base = json.loads(subprocess.run([sys.executable, "-c", "import json, numpy, scipy, librosa.feature, librosa.onset;"
                                      f"print(json.dumps({HWM}))"], capture_output=True, text=True, cwd=ROOT).stdout)
    rows = ["| 10-minute stereo 44.1 kHz FLAC, one process | peak RSS |", "|---|---|",
            f"| reference: Python + numpy + scipy + librosa imported, nothing analysed | {base:.0f} MB |"]
    for mode, label in (("features", "decode + both feature pipelines"),
                        ("full", "full analysis (+ measured/learned/estimated attributes)")):
        out = subprocess.run([sys.executable, "-c", MEMORY_CODE, mode, str(path)], capture_output=True, text=True,
                             cwd=ROOT)
        mb = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")
        rows.append(f"| {label} | {mb:.0f} MB |")
    return rows


# --- cold start: the first analysis in a fresh process, with and without librosa at run time ----
COLD_CHILD = """
import resource, runpy, sys, time
t0 = time.perf_counter()
sys.argv = ["musicrec", *sys.argv[1:]]
try:
    runpy.run_module("musicrec_engine", run_name="__main__")
except SystemExit as e:
    assert not e.code, e.code
ru = resource.getrusage(resource.RUSAGE_SELF)
heavy = ",".join(m for m in ("librosa", "numba") if m in sys.modules) or "none"
print("COLD", time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, heavy, file=sys.stderr)
"""

FEATURE_CHILD = """
import sys, time
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from musicrec_engine import features
from musicrec_engine.audio import decode as audio
from musicrec_engine.features.spectrum import Spectrum
features.extract(Spectrum(audio.decode(sys.argv[1]).y))  # warm-up: imports, kernels, filter banks
best = (float("inf"), float("inf"))
for _ in range(2):
    w0, c0 = time.perf_counter(), time.process_time()
    features.extract(Spectrum(audio.decode(sys.argv[2]).y))
    best = min(best, (time.perf_counter() - w0, time.process_time() - c0))
print("FEAT", *best)
"""


def _cold(root: Path, argv: list[str], numba_cache: Path) -> tuple[float, float, str]:
    """Wall s, CPU s (user + system, all threads) and heavy modules of one CLI run from `root`,
    measured inside the child from its first line (interpreter start-up itself is the same for all)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    env.pop("PYTHONPATH", None)
    out = subprocess.run([sys.executable, "-c", COLD_CHILD, *argv], capture_output=True, text=True, cwd=root,
                         env=env, timeout=900)
    line = next((ln for ln in out.stderr.splitlines() if ln.startswith("COLD ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"{root}: {' '.join(argv)} failed: {out.stderr[-800:]}")
    _, wall, cpu, heavy = line.split()
    return float(wall), float(cpu), heavy


def coldstart_table(files: dict[str, list[Path]], workdir: Path, trees: list[tuple[str, Path]]) -> list[str]:
    """Each tree (a checkout of this repository, e.g. `git worktree add /tmp/old <commit>`) runs
    `musicrec analyze` on a 30 s MP3: first with an empty numba cache (a bundle's first start:
    numba's cache is keyed by the install path, so nothing pre-built ships), then again with the
    cache that run left (later starts). Each run gets a fresh data folder, so nothing is a feature
    cache hit. Python's own bytecode is compiled by an untimed run first, as a bundle ships it."""
    clip, track = files["30 s clip"][0], files["4 min track"][0]
    rows = ["| tree | run | wall s | CPU s | librosa/numba imported |", "|---|---|---|---|---|"]
    feat = {}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp = Path(tmp)
        for k, (label, root) in enumerate(trees):
            _cold(root, ["--home", str(tmp / f"h{k}"), "analyze", str(clip), "--json"], tmp / f"pyc-numba{k}")
            for cmd in (["analyze", str(clip), "--json"], ["features", str(clip), "--pipeline", "stats", "--json"]):
                numba_cache = tmp / f"numba{k}-{cmd[0]}"
                for run in ("first (empty numba cache)", "later (numba cache kept)"):
                    home = tmp / f"home{k}-{cmd[0]}-{run[:5]}"
                    wall, cpu, heavy = _cold(root, ["--home", str(home), *cmd], numba_cache)
                    rows.append(f"| {label} | `musicrec {cmd[0]}` {run} | {wall:.1f} | {cpu:.1f} | {heavy} |")
                    print(rows[-1], file=sys.stderr, flush=True)
            out = subprocess.run([sys.executable, "-c", FEATURE_CHILD, str(clip), str(track)], capture_output=True,
                                 text=True, cwd=root, env={**os.environ, "NUMBA_CACHE_DIR": str(tmp / "numba-feat")},
                                 timeout=900)
            line = next(ln for ln in out.stdout.splitlines() if ln.startswith("FEAT "))
            feat[label] = tuple(float(x) for x in line.split()[1:])
    rows += ["", "| tree | 4-min track: decode + both pipelines, wall s | CPU s |", "|---|---|---|"]
    rows += [f"| {label} | {w:.2f} | {c:.2f} |" for label, (w, c) in feat.items()]
    return rows


# --- the feature stage by part, on real recordings, this tree against others in the same run ------
STAGES_CHILD = r"""
import json, sys, time
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from musicrec_engine import features
from musicrec_engine.analysis import plan
from musicrec_engine.audio import decode as audio
from musicrec_engine.features import mfcc, stats
from musicrec_engine.features.spectrum import Spectrum

paths, rounds = json.loads(sys.argv[1]), int(sys.argv[2])
signals = [audio.decode(p, plan=plan.segments).y for p in paths]  # what the analysis reads: the planned stretches


def ready(y):
    s = Spectrum(y)
    s.magnitude
    return s


# Each part on a spectrum whose magnitude (and, where a part reads it, mel) is already there.
PARTS = {
    "spectrum (STFT magnitude)": (lambda y: y, lambda y: Spectrum(y).magnitude),
    "mel + log-mel + onsets": (ready, lambda s: (s.mel, s.log_mel, s.onset_env)),
    "chroma (tuning + filter bank)": (ready, lambda s: s.chroma),
    "rms": (ready, lambda s: s.rms),
    "spectral shape (centroid .. flux)": (ready, lambda s: stats._spectral(s)),
    "spectral contrast": (ready, lambda s: stats._contrast(s)),
    "harmonic/percussive ratio": (ready, lambda s: stats._hpss(s)),
    "f0, tristimulus, inharmonicity": (ready, lambda s: stats._harmonic(s)),
    "MFCC + deltas (from log-mel)": (lambda y: (lambda s: (s, s.log_mel))(ready(y))[0], lambda s: mfcc.compute(s)),
    "whole stage: both vectors from the signal": (lambda y: y, lambda y: features.extract(Spectrum(y))),
}
for y in signals[:1]:  # warm-up: imports, filter banks
    features.extract(Spectrum(y))
best = {name: [float("inf")] * len(signals) for name in PARTS}
for _ in range(rounds):
    for name, (prepare, run) in PARTS.items():
        for i, y in enumerate(signals):
            arg = prepare(y)
            t0 = time.process_time()
            run(arg)
            best[name][i] = min(best[name][i], time.process_time() - t0)
seconds = sum(len(y) for y in signals) / 22050
print("STAGES " + json.dumps({"seconds": seconds, "cpu": {k: sum(v) for k, v in best.items()}}))
"""


def stages_table(trees: list[tuple[str, Path]], n_files: int, rounds: int) -> list[str]:
    """CPU time of each part of the feature stage on real recordings (benchmarks/realmusic.py:
    every n-th track, read as the analysis reads it, analysis/plan.py), in one child process per
    tree, the trees taking turns `rounds` times so a load change on a shared machine falls on all
    of them; the best of the runs per file, summed over the files, per minute of audio read."""
    import realmusic

    found = realmusic.albums()
    if not found:
        raise SystemExit(realmusic.INSTALL_HINT)
    tracks = sorted(realmusic.all_tracks(found), key=lambda at: at[1].key)
    paths = [str(t.path) for _, t in tracks[:: max(1, len(tracks) // n_files)][:n_files]]
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for label, root in trees:
            out = subprocess.run([sys.executable, "-c", STAGES_CHILD, json.dumps(paths), "1"], capture_output=True,
                                 text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, timeout=1800)
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("STAGES ")), None)
            if out.returncode != 0 or line is None:
                raise RuntimeError(f"{root}: the stage timing failed: {out.stderr[-800:]}")
            got = json.loads(line[len("STAGES "):])
            if label in best:
                got["cpu"] = {k: min(v, best[label]["cpu"].get(k, v)) for k, v in got["cpu"].items()}
            best[label] = got
    minutes = next(iter(best.values()))["seconds"] / 60
    labels = [label for label, _ in trees]
    head = " | ".join(f"{label} ms / audio min" for label in labels)
    ratios = " | ".join(f"{label} / {labels[0]}" for label in labels[1:])
    rows = [f"{len(paths)} real tracks, {minutes:.1f} min of audio read (the analysis plan's stretches), "
            f"best of {rounds} rounds per file, one thread, CPU time.", "",
            f"| part | {head} | {ratios} |", "|---|" + "---|" * (2 * len(labels) - 1)]
    for part in best[labels[0]]["cpu"]:
        cells = [best[label]["cpu"].get(part, float("nan")) * 1000 / minutes for label in labels]
        rows.append(f"| {part} | " + " | ".join(f"{c:.1f}" for c in cells) + " | "
                    + " | ".join(f"{c / cells[0]:.2f}" for c in cells[1:]) + " |")
    return rows


def main() -> None:
    import faulthandler

    faulthandler.enable()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer files (a smoke run)")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "musicrec-bench-features"))
    ap.add_argument("--only", choices=["speed", "ours", "agreement", "cache", "memory", "coldstart", "stages"],
                    action="append")
    ap.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR",
                    help="coldstart, stages: another checkout to compare with this one (repeatable)")
    ap.add_argument("--tracks", type=int, default=6, help="stages: real tracks timed")
    ap.add_argument("--rounds", type=int, default=3, help="stages: turns each tree takes")
    args = ap.parse_args()
    announce(args)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if any("=" not in t for t in args.tree):
        ap.error("--tree takes LABEL=DIR, e.g. before=/tmp/old")
    trees = [(label, Path(d)) for label, d in (t.split("=", 1) for t in args.tree)]
    if any(not (d / "musicrec_engine").is_dir() for _, d in trees):
        ap.error("--tree DIR must be a checkout of this repository (a musicrec_engine/ folder in it)")
    if args.only == ["stages"]:  # real recordings only: no synthetic files needed
        print("\n".join(stages_table([*trees, ("this tree", ROOT)], args.tracks, args.rounds)))
        return
    files = make_files(workdir, args.quick)
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")
    print(f"Machine: nproc {os.cpu_count()}, {cpu}; load average {os.getloadavg()[0]:.1f} at start\n")
    sections = {"speed": lambda: speed_table(files, args.quick), "ours": lambda: ours_table(files, args.quick),
                "agreement": lambda: agreement_table(files), "cache": lambda: cache_and_jobs_table(files, workdir),
                "memory": lambda: memory_table(workdir),
                "coldstart": lambda: coldstart_table(files, workdir, [*trees, ("this tree", ROOT)]),
                "stages": lambda: stages_table([*trees, ("this tree", ROOT)], args.tracks, args.rounds)}
    for name in args.only or list(sections):
        rows = sections[name]()
        print("\n".join(rows) + "\n", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
