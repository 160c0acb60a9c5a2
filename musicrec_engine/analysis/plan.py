"""Which parts of a track the analysis reads: a bounded cost per track, whatever its length.

A long track is read as a few segments spread over it (the decoders seek to each one), and every
consumer works on those segments joined: both feature vectors, tempo, key, loudness, the learned
attributes, and the listening model's patches (which it resamples to 16 kHz from the same decoded
buffer). A track not much longer than the segments together is read whole: seeking would save
little. Whole-track statistics of a song are close to those of three well-spread stretches of it;
what each choice costs in accuracy against reading everything, on real recordings, is measured by
benchmarks/bench_throughput.py --accuracy (docs/BENCHMARKS.md, "Throughput on real recordings").

MUSICREC_ANALYSIS_PLAN overrides the plan: "whole" reads every track whole (up to the decoder's
10-minute cap, as before segments), "NxS" reads N segments of S seconds (benchmarks compare).
"""

from __future__ import annotations

import os

ENV = "MUSICREC_ANALYSIS_PLAN"
SEGMENTS = 3
SEGMENT_SECONDS = 20.0
# Read whole when the track is at most this many times the planned seconds.
WHOLE_FACTOR = 1.5


def settings() -> tuple[int, float] | None:
    """(segments, seconds each) of this process's plan, or None when tracks are read whole."""
    value = os.environ.get(ENV, "").strip().lower()
    if value == "whole":
        return None
    if value:
        try:
            n, s = value.split("x")
            n, s = int(n), float(s)
            if 1 <= n <= 20 and 3.0 <= s <= 300.0:
                return n, s
        except ValueError:
            pass
    return SEGMENTS, SEGMENT_SECONDS


def describe() -> str:
    """Names the plan, for the key a cached analysis must match."""
    got = settings()
    return "whole" if got is None else f"segments={got[0]}x{got[1]:g};whole<={WHOLE_FACTOR:g}"


def segments(duration: float | None, n: int | None = None, seconds: float | None = None) -> list[tuple[float, float]]:
    """(start, length) in seconds of each stretch to read from a track of `duration` seconds, or
    [] to read it whole (unknown duration, a short track, or the plan says whole).

    Segment i is centred at (i + 1/2)/n of the track: with three, one in the first third, one in
    the middle and one in the last third, none at the very start or end (intros, fade-outs).
    """
    if n is None or seconds is None:
        got = settings()
        if got is None:
            return []
        n, seconds = got
    if not duration or duration <= WHOLE_FACTOR * n * seconds:
        return []
    out = []
    for i in range(n):
        centre = (i + 0.5) / n * duration
        start = min(max(0.0, centre - seconds / 2), duration - seconds)
        out.append((round(start, 3), float(seconds)))
    return out
