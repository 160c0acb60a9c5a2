"""Tempo of songs longer than 90 s, read as the app reads them: three 20-s stretches joined, with the
joins known to the tempo method (the product) and without (folded straight across them, as before).

    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_joined_tempo.py

The songs are 100-s clips from the test suite's own generator of textures (tests/test_tempo_levels.py:
kits that mark the beat plainly, sparsely or not at all, under a pad, strummed chords or an oom-pah),
at three tempi; the stretches start between beats, as they do in almost every real song.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_tempo_levels import clip  # noqa: E402

from benchmarks import provenance  # noqa: E402
from benchmarks.bench_throughput import join_segments  # noqa: E402
from musicrec_engine.analysis import plan  # noqa: E402
from musicrec_engine.attributes.measured import tempo  # noqa: E402
from musicrec_engine.features.spectrum import SR, Spectrum  # noqa: E402

KITS = ("backbeat", "four", "hats8kick", "none")
ACCOMPANIMENTS = ("pad", "strum", "oompah")
TEMPI = (92.0, 128.0, 150.0)


def main() -> None:
    provenance.announce(None)
    print("| kit | accompaniment | BPM | joins known | across the joins |")
    print("|---|---|---|---|---|")
    tally = {"joins known": [], "across the joins": []}
    cpu = dict.fromkeys(tally, 0.0)
    for kit, accomp, bpm in itertools.product(KITS, ACCOMPANIMENTS, TEMPI):
        y = clip(bpm, kit=kit, accomp=accomp, seconds=100.0, seed=1)
        joined, joins = join_segments(y, SR, plan.segments(len(y) / SR))
        cells = []
        for name, spec in (("joins known", Spectrum(joined, joins=joins)), ("across the joins", Spectrum(joined))):
            _ = spec.magnitude  # the shared spectrogram is not the tempo's cost
            t0 = time.process_time()
            e = tempo.estimate(spec)
            cpu[name] += time.process_time() - t0
            right = abs(e.bpm / bpm - 1) <= 0.04
            tally[name].append((right, e.confidence >= 0.8))
            cells.append(f"{e.bpm:.1f} ({e.confidence:.2f}){' right' if right else ''}")
        print(f"| {kit} | {accomp} | {bpm:.0f} | " + " | ".join(cells) + " |", flush=True)
    print("\n| read | Accuracy1 | sure | sure and right | tempo CPU-s per song |")
    print("|---|---|---|---|---|")
    for name, res in tally.items():
        print(f"| {name} | {np.mean([r for r, _ in res]):.3f} ({sum(r for r, _ in res)}/{len(res)}) | "
              f"{sum(s for _, s in res)} | {sum(r and s for r, s in res)} | {cpu[name] / len(res):.3f} |")


if __name__ == "__main__":
    main()
