"""Key (pitch class, -1 when there is no tonal centre) and mode from the shared chroma.

Method: energy-weighted, log-compressed chroma summed over the track, correlated with the 24
rotations of several published key profiles; the correlations of the profiles are averaged so no
single profile's bias (Krumhansl's towards minor, Temperley's towards major) decides alone.
Tonality is judged from how clearly the best key stands out of a chroma that is not flat: drums,
noise and speech give a flat or erratic chroma whose best key correlation stays low.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicrec_engine.features.spectrum import Spectrum

# Each profile: (major, minor), index 0 = tonic.
PROFILES = {
    # Krumhansl & Kessler (1982), probe-tone ratings.
    "krumhansl": (
        [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
        [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
    ),
    # Temperley (1999), from the Kostka-Payne textbook excerpts.
    "temperley": (
        [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0],
        [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0],
    ),
    # Albrecht & Shanahan (2013), pitch-class distributions of a classical corpus.
    "albrecht": (
        [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081],
        [0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052],
    ),
}
DEFAULT_PROFILES = ("krumhansl", "temperley", "albrecht")
# Below this best-key correlation (or with too flat a chroma) a track is called atonal (key -1).
MIN_CORRELATION = 0.55
MIN_CONTRAST = 0.18


@dataclass
class KeyEstimate:
    key: int  # 0..11, -1 when atonal
    mode: int  # 1 major, 0 minor (meaningless when key is -1; kept at the best guess)
    confidence: float  # 0..1 for the key
    mode_confidence: float  # 0..1
    scores: np.ndarray  # 24 correlations: 0..11 major, 12..23 minor


def _templates(names=DEFAULT_PROFILES) -> np.ndarray:
    """(len(names), 24, 12) z-scored profile rotations."""
    out = []
    for name in names:
        rows = []
        for prof in PROFILES[name]:
            p = np.asarray(prof, float)
            rows += [np.roll(p, k) for k in range(12)]
        t = np.array(rows)
        t = (t - t.mean(1, keepdims=True)) / t.std(1, keepdims=True)
        out.append(t)
    return np.array(out)


_TEMPLATES = _templates()


def track_chroma(spec: Spectrum) -> np.ndarray:
    """One 12-vector for the track: frames weighted by loudness, then compressed."""
    cached = spec.extras.get("key.track_chroma")
    if cached is not None:
        return cached
    chroma = spec.chroma  # per-frame max-normalised, so loud and quiet frames count alike
    rms = spec.rms[: chroma.shape[1]]
    # Weight by loudness so silences and fades (whose normalised chroma is noise) count little.
    w = rms / (rms.max() + 1e-12)
    vec = (chroma[:, : len(w)] * w).sum(axis=1)
    vec = np.log1p(vec / (vec.max() + 1e-12) * 10.0)
    spec.extras["key.track_chroma"] = vec
    return vec


def correlate(vec: np.ndarray, templates: np.ndarray = _TEMPLATES) -> np.ndarray:
    """Mean Pearson correlation of `vec` with every key template, 24 values."""
    v = vec - vec.mean()
    sd = v.std()
    if sd < 1e-12:
        return np.zeros(24)
    v = v / sd
    return (templates @ v / 12.0).mean(axis=0)


def estimate(spec: Spectrum) -> KeyEstimate:
    vec = track_chroma(spec)
    scores = correlate(vec)
    best = int(np.argmax(scores))
    key, mode = best % 12, 1 if best < 12 else 0
    order = np.sort(scores)[::-1]
    # The runner-up that is not the relative/parallel twin tells how clear the key is.
    margin = order[0] - order[1]
    contrast = float((vec.max() - vec.min()) / (vec.max() + 1e-12))
    tonal = order[0] >= MIN_CORRELATION and contrast >= MIN_CONTRAST and spec.duration >= 1.0
    confidence = float(np.clip(order[0], 0, 1) * np.clip(0.5 + 4 * margin, 0, 1))
    # Mode: the best major versus the best minor reading of the same evidence.
    maj, mnr = scores[:12].max(), scores[12:].max()
    mode_conf = float(np.clip(abs(maj - mnr) * 5, 0, 1))
    if not tonal:
        return KeyEstimate(-1, mode, float(np.clip(1 - order[0], 0, 1)), 0.0, scores)
    return KeyEstimate(key, mode, confidence, mode_conf, scores)
