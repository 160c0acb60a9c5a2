"""CPU cost of listening (MusiCNN tags + embeddings) per track, by number of patches.

    .venv/bin/python benchmarks/bench_listening.py [--seconds 240] [--sr 22050] [--repeats 3]

<<<<<<<< HEAD:benchmarks/bench_listening.py
Measures process time (CPU-seconds, torch on one thread, as in the analysis' one process per core)
of `listening.listen` on a synthetic 4-minute mono signal at the decoder's rate (22.05 kHz, so
the partial resampling to 16 kHz is included), for MSD alone, MTT alone and both; plus the time to
import torch and load both models once per process. The best of --repeats runs is reported
(the machine may be shared). Target: both models <= 0.5 CPU-s per 4-minute track.
========
- seed baseline: cosine over z-scored MFCC-273 (the seed's method);
- today's sound space: MFCC + statistical features, sound columns, whitened (search.similarity);
- the MusiCNN embeddings (mean 200-value penultimate layer over the patches), each model and both;
- combinations of the embeddings with today's sound space.

Same-album precision@5: for every track, the share of its 5 nearest others that come from its own
album (albums with fewer than 6 tracks cap it below 1 for every method alike).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_listening_real.py [--cache DIR] [--patches 1,2,4,8]
>>>>>>>> 584ae50 (benchmarks: bench_listening_real.py (bench_listening.py is the port's cost benchmark)):benchmarks/bench_listening_real.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PATCHES = (1, 2, 3, 4, 6, 8, 12)


def signal(seconds: float, sr: int) -> np.ndarray:
    """Drums-and-chords-like test audio: noise bursts on a beat over a few tones."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (110.0, 220.0, 277.2, 329.6))
    env = np.exp(-((t * 2) % 1.0) * 20)
    y += 0.3 * env * rng.standard_normal(len(t))
    return y.astype(np.float32)


def cpu(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="CPU-seconds of listening per track")
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--sr", type=int, default=22050)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--patches", type=int, nargs="+", default=list(PATCHES))
    args = ap.parse_args(argv)
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
<<<<<<<< HEAD:benchmarks/bench_listening.py
    print(f"bench_listening  args: {' '.join(sys.argv[1:]) or '(defaults)'}  {vars(args)}  git {rev or '?'}")
========
    counts = [int(c) for c in ns.patches.split(",")]
    print(f"bench_listening_real.py --cache {ns.cache} --patches {ns.patches} --default {ns.default}  (git {rev})")
    rows, info = load(Path(ns.cache), counts)
    labels = np.array([r["album"] for r in rows])
    print(f"{info['tracks']} real tracks in {info['albums']} albums "
          f"({sum(r['sung'] for r in rows)} sung), {sum(float(r['duration']) for r in rows) / 60:.0f} min\n")
>>>>>>>> 584ae50 (benchmarks: bench_listening_real.py (bench_listening.py is the port's cost benchmark)):benchmarks/bench_listening_real.py

    t0 = time.process_time()
    w0 = time.perf_counter()
    import torch

    from musicrec_engine import listening

    listening.load("msd")
    listening.load("mtt")
    print(f"import torch + load both models: {time.process_time() - t0:.2f} CPU-s ({time.perf_counter() - w0:.2f} s wall), "
          f"torch threads {torch.get_num_threads()}")
    y = signal(args.seconds, args.sr)
    listening.listen(y, args.sr, n_patches=1)  # first call sets up oneDNN's kernels

    rows = []
    for n in args.patches:
        row = [n]
        for models in (("msd",), ("mtt",), ("msd", "mtt")):
            row.append(cpu(lambda m=models, n=n: listening.listen(y, args.sr, n_patches=n, models=m), args.repeats))
        rows.append(row)
    print(f"\n{args.seconds:.0f} s signal at {args.sr} Hz, CPU-s per track (best of {args.repeats})")
    print(f"{'patches':>8} {'audio s':>8} {'MSD':>7} {'MTT':>7} {'both':>7} {'both/patch':>11}")
    for n, a, b, c in rows:
        print(f"{n:>8} {n * 3:>8} {a:>7.3f} {b:>7.3f} {c:>7.3f} {c / n:>11.3f}")
    ok = [n for n, *_r, c in rows if c <= 0.5]
    print(f"\nmost patches within 0.5 CPU-s for both models: {max(ok) if ok else 'none'}; "
          f"default is {listening.DEFAULT_PATCHES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
