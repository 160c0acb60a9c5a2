"""Short synthetic 16 kHz clips on which the original musicnn (TensorFlow) and the torch port are
compared. Deterministic (fixed seeds, numpy only), so tests/test_listening.py regenerates exactly
what tools/musicnn/convert.py fed the original model instead of storing the audio.

Lengths are chosen so musicnn's own batching (non-overlapping 187-frame patches from frame 0)
gives one or two patches per clip; the loud clip would overflow musicnn's float16 cast.
"""

from __future__ import annotations

import numpy as np

SR = 16000


def _tones(seconds: float) -> np.ndarray:
    """A major triad with a few harmonics and a slow tremolo."""
    t = np.arange(int(seconds * SR)) / SR
    y = np.zeros_like(t)
    for f0 in (220.0, 277.18, 329.63):
        for h in range(1, 5):
            y += np.sin(2 * np.pi * f0 * h * t) / h
    return 0.1 * y * (1 + 0.3 * np.sin(2 * np.pi * 2.0 * t))


def _noise(seconds: float) -> np.ndarray:
    """Pink-ish noise: white noise through a one-pole low-pass, then normalised."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal(int(seconds * SR))
    y = np.empty_like(w)
    acc = 0.0
    for i, v in enumerate(w):  # a few seconds only
        acc = 0.98 * acc + v
        y[i] = acc
    y -= y.mean()
    return 0.2 * y / np.abs(y).max()


def _drums(seconds: float) -> np.ndarray:
    """120 BPM: kick on every beat (falling sine sweep), snare (noise burst) on 2 and 4, closed
    hi-hat (high-passed noise) on eighths."""
    rng = np.random.default_rng(2)
    n = int(seconds * SR)
    y = np.zeros(n)
    beat = SR // 2
    tk = np.arange(int(0.25 * SR)) / SR
    kick = np.sin(2 * np.pi * (50 * tk + 60 * (1 - np.exp(-tk * 30)) / 30 * 4)) * np.exp(-tk * 12)
    ts = np.arange(int(0.2 * SR)) / SR
    snare = rng.standard_normal(len(ts)) * np.exp(-ts * 20) * 0.6 + np.sin(2 * np.pi * 180 * ts) * np.exp(-ts * 25) * 0.4
    th = np.arange(int(0.05 * SR)) / SR
    hat = np.diff(rng.standard_normal(len(th) + 1)) * np.exp(-th * 80) * 0.15
    for i, start in enumerate(range(0, n, beat // 2)):
        parts = [hat]
        if i % 2 == 0:
            parts.append(kick)
            if (i // 2) % 2 == 1:
                parts.append(snare)
        for p in parts:
            m = min(len(p), n - start)
            y[start:start + m] += p[:m]
    return 0.5 * y


def _loud_saw(seconds: float) -> np.ndarray:
    """A hard-clipped sawtooth bass line at full scale: loud enough that musicnn's float16 mel
    spectrogram overflows (10000 * x > 65504)."""
    t = np.arange(int(seconds * SR)) / SR
    notes = np.array([55.0, 55.0, 73.42, 65.41])
    f = notes[(t * 2).astype(int) % len(notes)]
    phase = np.cumsum(f) / SR
    return np.clip(1.6 * (2 * (phase % 1.0) - 1), -1, 1)


def _sweep(seconds: float) -> np.ndarray:
    """A quiet logarithmic sine sweep 100 Hz -> 6 kHz."""
    t = np.arange(int(seconds * SR)) / SR
    f0, f1 = 100.0, 6000.0
    k = np.log(f1 / f0) / seconds
    return 0.05 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)


RECIPES = {"tones": (_tones, 4.0), "noise": (_noise, 6.5), "drums": (_drums, 6.5),
           "loud_saw": (_loud_saw, 3.5), "sweep": (_sweep, 6.2)}


def reference_clips() -> dict[str, np.ndarray]:
    """name -> float32 mono signal at 16 kHz."""
    return {name: fn(seconds).astype(np.float32) for name, (fn, seconds) in RECIPES.items()}


def musicnn_starts(n_frames: int, patch: int = 187) -> list[int]:
    """Patch starts of musicnn's extractor.batch_data with no overlap: 0, 187, ... while a whole
    patch fits."""
    return list(range(0, n_frames - patch + 1, patch))
