"""Same-album precision@5 (query excluded): MusicRec's sound space against the audio recommender's plain method
(cosine over z-scored MFCC-273), computed in the same run on the same files.

Albums are rendered with fluidsynth (General MIDI, FluidR3 soundfont): an album shares its
instrumentation, tempo range, drum style and "production" (EQ tilt, room reverb, drive, level);
its tracks differ in melody, harmony, key and exact tempo. Two disjoint sets: a development set
(instrument pool A, seed 1), the only one looked at while choosing the sound space's settings, and
a held-out test set (instrument pool B, seed 2) whose figures are the ones reported.
Features come from the product's own analysis (musicrec_engine.analysis.pipeline).

    .venv/bin/python benchmarks/bench_similarity_quality.py [--albums 12] [--tracks 5] [--seconds 15]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from provenance import announce, cpu_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
# GM programs (0-based) as (lead, chords, bass) ensembles, two disjoint pools.
POOL_A = [(0, 48, 32), (24, 0, 33), (29, 30, 34), (73, 46, 43), (56, 61, 57), (16, 19, 35), (11, 88, 38),
          (65, 4, 33), (80, 81, 38), (40, 42, 43), (22, 25, 32), (104, 105, 32), (6, 46, 43), (68, 71, 70)]
# No program of one pool is in the other (tests of the held-out pool hear no instrument the settings
# were chosen on); the bass programs of pool B are GM's remaining basses and low instruments.
POOL_B = [(1, 49, 39), (31, 27, 37), (26, 28, 36), (74, 52, 58), (60, 59, 58), (17, 18, 39), (12, 89, 39),
          (66, 5, 37), (82, 87, 39), (41, 44, 45), (21, 26, 36), (106, 107, 39), (8, 45, 37), (69, 72, 58)]
MAJOR, MINOR = [0, 2, 4, 5, 7, 9, 11], [0, 2, 3, 5, 7, 8, 10]


def make_midi(path: Path, ens, bpm: float, key: int, mode: int, drums: str, seconds: float, rng) -> None:
    import mido

    tpb = 480
    mid = mido.MidiFile(ticks_per_beat=tpb)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    mid.tracks.append(meta)
    beats = int(seconds * bpm / 60)
    scale = MAJOR if mode else MINOR
    prog = [0, 3, 4, 0, 5, 3, 4, 0] if rng.random() < 0.5 else [0, 5, 3, 4, 0, 4, 5, 3]
    events: list[tuple[int, mido.Message]] = []

    def note(ch, pitch, start, dur, vel):
        events.append((start, mido.Message("note_on", channel=ch, note=int(pitch), velocity=int(vel))))
        events.append((start + dur, mido.Message("note_off", channel=ch, note=int(pitch), velocity=0)))

    for ch, p in enumerate(ens):
        events.append((0, mido.Message("program_change", channel=ch, program=p)))
    tonic = 60 + key
    for bar in range(beats // 4 + 1):
        deg = prog[bar % len(prog)]
        chord = [scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        t0 = bar * 4 * tpb
        for c in chord:
            note(1, tonic - 12 + c, t0, 4 * tpb - 10, 60)
        for b in range(4):
            note(2, tonic - 24 + chord[0], t0 + b * tpb, tpb - 20, 80)
        steps = rng.choice([1, 2], p=[0.6, 0.4])
        for s in range(4 * steps):
            deg_m = chord[rng.integers(0, 3)] if rng.random() < 0.6 else scale[rng.integers(0, 7)]
            note(0, tonic + deg_m + 12 * rng.integers(0, 2), t0 + s * tpb // steps, tpb // steps - 10,
                 rng.integers(70, 100))
        if drums != "none":
            for b in range(4):
                tb = t0 + b * tpb
                if drums == "rock":
                    note(9, 36 if b % 2 == 0 else 38, tb, 100, 100)
                    note(9, 42, tb, 60, 70)
                    note(9, 42, tb + tpb // 2, 60, 60)
                elif drums == "dance":
                    note(9, 36, tb, 100, 110)
                    note(9, 46, tb + tpb // 2, 60, 70)
                else:  # brushes / light
                    note(9, 44, tb, 60, 50)
                    if b == 2:
                        note(9, 37, tb, 60, 60)
    events.sort(key=lambda e: e[0])
    tr = mido.MidiTrack()
    last = 0
    for t, msg in events:
        tr.append(msg.copy(time=t - last))
        last = t
    mid.tracks.append(tr)
    mid.save(str(path))


def produce(y: np.ndarray, sr: int, prod: dict, rng) -> np.ndarray:
    """An album's production: EQ tilt, room, drive and level."""
    import scipy.signal as ss

    b, a = ss.butter(1, prod["cutoff"] / (sr / 2), btype=prod["eq"])
    y = (1 - prod["eq_mix"]) * y + prod["eq_mix"] * ss.lfilter(b, a, y)
    if prod["room"] > 0:
        n = int(prod["room"] * sr)
        ir = rng.standard_normal(n) * np.exp(-np.linspace(0, 6, n))
        ir[0] = 1.0
        y = ss.fftconvolve(y, ir * 0.3)[: len(y)]
    if prod["drive"] > 0:
        y = np.tanh(prod["drive"] * y / (np.max(np.abs(y)) + 1e-9)) / np.tanh(prod["drive"])
    return (prod["level"] * y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)


def render_set(folder: Path, pool, seed: int, albums: int, tracks: int, seconds: float) -> list[tuple[Path, int]]:
    import soundfile as sf

    rng = np.random.default_rng(seed)
    out = []
    order = rng.permutation(len(pool))[:albums]
    for a, pi in enumerate(order):
        ens = pool[pi]
        base_bpm = rng.uniform(70, 150)
        drums = rng.choice(["none", "rock", "dance", "light"])
        mode_bias = rng.random()
        prod = {"eq": rng.choice(["lowpass", "highpass"]), "cutoff": rng.uniform(300, 4000),
                "eq_mix": rng.uniform(0.2, 0.8), "room": rng.choice([0.0, 0.3, 0.8]),
                "drive": rng.choice([0.0, 1.5, 4.0]), "level": rng.uniform(0.3, 0.95)}
        for t in range(tracks):
            wav = folder / f"album{a:02d}" / f"{t:02d}.wav"
            wav.parent.mkdir(parents=True, exist_ok=True)
            if not wav.exists():
                mid = wav.with_suffix(".mid")
                make_midi(mid, ens, base_bpm * rng.uniform(0.92, 1.08), int(rng.integers(0, 12)),
                          int(rng.random() < mode_bias), drums, seconds, rng)
                raw = wav.with_suffix(".raw.wav")
                subprocess.run(["fluidsynth", "-ni", "-g", "0.5", "-r", "22050", "-F", str(raw), SF2, str(mid)],
                               check=True, capture_output=True, timeout=120)
                y, sr = sf.read(raw, dtype="float32")
                y = y.mean(axis=1) if y.ndim > 1 else y
                sf.write(wav, produce(y[: int(seconds * sr)], sr, prod, rng), sr)
                raw.unlink()
                mid.unlink()
            out.append((wav, a))
    return out


def features(files: list[Path], jobs: int) -> tuple[np.ndarray, np.ndarray]:
    from musicrec_engine.analysis.pipeline import analyze_paths

    got = {}
    for r in analyze_paths([str(f) for f in files], jobs=jobs):
        if r.status != "ok":
            raise SystemExit(f"analysis failed for {r.path}: {r.error}")
        got[str(Path(r.path).resolve())] = r
    rs = [got[str(f.resolve())] for f in files]
    return (np.stack([r.features["mfcc"] for r in rs]).astype(np.float64),
            np.stack([r.features["stats"] for r in rs]).astype(np.float64))


def precision_at(v: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    s = v @ v.T
    np.fill_diagonal(s, -np.inf)  # the query itself is excluded
    top = np.argsort(-s, axis=1)[:, :k]
    return float(np.mean(labels[top] == labels[:, None]))


def evaluate(mfcc: np.ndarray, stats: np.ndarray, labels: np.ndarray, settings: dict) -> dict:
    from musicrec_engine.features import mfcc as mfcc_pipeline
    from musicrec_engine.features import stats as stats_pipeline
    from musicrec_engine.search.similarity import SoundSpace, zscore_cosine_space

    names = mfcc_pipeline.names() + stats_pipeline.names()
    both = np.hstack([mfcc, stats])
    out = {"baseline: z-scored MFCC-273 (the audio recommender)": precision_at(zscore_cosine_space(mfcc), labels),
           "z-scored MFCC + stats, all columns": precision_at(zscore_cosine_space(both), labels),
           "whitened MFCC + stats, all columns": precision_at(
               SoundSpace(**settings).fit(both).transform(both), labels),
           "sound space (product): sound columns, whitened": precision_at(
               SoundSpace(**settings, names=names).fit(both).transform(both), labels)}
    # Not a method: how far any linear map of these features can go on this set, given the answers.
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from musicrec_engine.search.encoding import normalise

    z = zscore_cosine_space(both) * 1.0
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(z, labels).transform(z)
    out["ceiling: LDA fitted WITH this set's album labels (cheating)"] = precision_at(
        normalise(lda.astype(np.float32)), labels)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--albums", type=int, default=12)
    ap.add_argument("--tracks", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", help="folder for the rendered audio (reused when present)")
    ap.add_argument("--dev-only", action="store_true", help="only the development set (for choosing settings)")
    a = ap.parse_args()
    announce(a)
    work = Path(a.keep or tempfile.mkdtemp(prefix="bench-simq-"))
    t0 = time.perf_counter()
    from musicrec_engine.search.similarity import SoundSpace

    settings = {"shrink": SoundSpace().shrink, "max_components": SoundSpace().max_components}
    sets = [("development (pool A)", POOL_A, 1)] + ([] if a.dev_only else [("held-out test (pool B)", POOL_B, 2)])
    cpu = cpu_name()
    print(f"machine: {os.cpu_count()} cores, {cpu}")
    print(f"{a.albums} albums x {a.tracks} tracks x {a.seconds:.0f} s per set; sound space settings {settings}\n")
    print("| set | method | same-album precision@5 | vs baseline |")
    print("|---|---|---|---|")
    for name, pool, seed in sets:
        files = render_set(work / f"set{seed}", pool, seed, a.albums, a.tracks, a.seconds)
        cached = work / f"set{seed}" / "features.npz"  # rendering and analysis are the slow part
        if cached.exists():
            z = np.load(cached)
            mfcc, stats = z["mfcc"], z["stats"]
        else:
            mfcc, stats = features([f for f, _ in files], a.jobs)
            np.savez(cached, mfcc=mfcc, stats=stats)
        labels = np.array([lab for _, lab in files])
        res = evaluate(mfcc, stats, labels, settings)
        base = res["baseline: z-scored MFCC-273 (the audio recommender)"]
        for method, p in res.items():
            print(f"| {name} | {method} | {p:.3f} | {p / base:.2f}x |")
    print(f"\nchance level: {(a.tracks - 1) / (a.albums * a.tracks - 1):.3f}; "
          f"total time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
