"""Key (pitch class, -1 when there is no tonal centre) and mode from the shared magnitude spectrogram.

Method: a pitch-class profile of the whole track from spectral peaks (track_chroma), square-root
compressed, correlated with the 24 rotations of a published key profile that has been smeared by
the harmonics every played note carries (which otherwise pull the estimate a fifth up).
No tonal centre: drums, noise and speech give a flat chroma whose best key correlation stays low.
Accuracy on audio with known keys: benchmarks/bench_attributes.py, docs/BENCHMARKS.md.
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
# Albrecht-Shanahan alone scored best on the tuning corpus (composed, chorales and the test
# fixtures alike); Temperley's leans to major and Krumhansl's to minor on rendered audio, and
# averaging them in made it worse. The others stay for experiments (correlate(vec, _templates(...))).
DEFAULT_PROFILES = ("albrecht",)
F_MIN, F_MAX = 80.0, 2500.0
# A played note also sounds its harmonics: the 3rd is a fifth up, the 5th a major third up.
# Profiles are smeared by the first HARMONICS partials (amplitude HARMONIC_SLOPE**(h-1)) so a
# strong dominant in the chroma is not mistaken for the tonic (the classic fifth error).
HARMONIC_PC = [0, 0, 7, 0, 4, 7, 10, 0]
HARMONICS = 4
HARMONIC_SLOPE = 0.8
# Atonal (key -1) when the best key correlates below MIN_CORRELATION or the chroma is flatter
# than MAX_FLATNESS: midway between GM drum kits, white/brown noise and espeak-ng speech (best
# <= 0.62, flatness >= 0.97) and the tuning corpus (best >= 0.75, flatness <= 0.94).
MIN_CORRELATION = 0.68
MAX_FLATNESS = 0.955


@dataclass
class KeyEstimate:
    key: int  # 0..11, -1 when atonal
    mode: int  # 1 major, 0 minor (meaningless when key is -1; kept at the best guess)
    confidence: float  # 0..1 for the key
    mode_confidence: float  # 0..1
    scores: np.ndarray  # 24 correlations: 0..11 major, 12..23 minor


def _templates(names=DEFAULT_PROFILES, harmonics=HARMONICS, slope=HARMONIC_SLOPE) -> np.ndarray:
    """(len(names), 24, 12) z-scored, harmonic-smeared profile rotations."""
    out = []
    for name in names:
        rows = []
        for prof in PROFILES[name]:
            p = np.asarray(prof, float)
            p = sum(slope**h * np.roll(p, HARMONIC_PC[h]) for h in range(harmonics))
            rows += [np.roll(p, k) for k in range(12)]
        t = np.array(rows)
        t = (t - t.mean(1, keepdims=True)) / t.std(1, keepdims=True)
        out.append(t)
    return np.array(out)


_TEMPLATES = _templates()


def track_chroma(spec: Spectrum) -> np.ndarray:
    """One 12-vector for the track from spectral peaks (an HPCP-like pitch-class profile).

    Spectral peaks, refined by parabolic interpolation, resolve pitch far better than spreading
    every STFT bin over the chroma (2048-point bins are a semitone wide near 180 Hz). Only
    80..2500 Hz counts: below, the bins are too coarse; above, mostly upper harmonics and
    cymbals. Each peak adds sqrt(magnitude / frame maximum) times a cosine window around the
    nearest equal-tempered pitch, after a global tuning correction.
    """
    cached = spec.extras.get("key.track_chroma")
    if cached is not None:
        return cached
    mag = spec.magnitude
    df = spec.sr / spec.n_fft
    lo, hi = max(1, int(F_MIN / df)), min(mag.shape[0] - 1, int(F_MAX / df) + 1)
    a, b, c = mag[lo - 1:hi - 1], mag[lo:hi], mag[lo + 1:hi + 1]
    frame_max = mag.max(axis=0) + 1e-12
    peaks = (b > a) & (b >= c) & (b > frame_max * 1e-3)
    fi, ti = np.nonzero(peaks)
    A, B, C = a[fi, ti], b[fi, ti], c[fi, ti]
    den = A - 2 * B + C
    delta = np.where(den < 0, 0.5 * (A - C) / np.where(den < 0, den, -1.0), 0.0)
    freq = (fi + lo + delta) * df
    weight = np.sqrt(np.maximum(B - 0.25 * (A - C) * delta, 0) / frame_max[ti])
    vec = np.zeros(12)
    if len(freq):
        pitch = 12 * np.log2(freq / 440.0) + 69
        # Global tuning: the weighted circular mean of every peak's distance to the semitone grid.
        dev = pitch - np.round(pitch)
        pitch -= np.angle(np.sum(weight**2 * np.exp(2j * np.pi * dev))) / (2 * np.pi)
        near = np.round(pitch)
        dev = pitch - near
        w = weight * np.cos(np.pi * dev) ** 2  # 1 on the semitone, 0 half a semitone away
        vec = np.bincount(near.astype(int) % 12, weights=w, minlength=12)
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


def flatness(vec: np.ndarray) -> float:
    """Geometric over arithmetic mean of the chroma: 1 for a flat one (noise, drums), lower for music."""
    p = vec / (vec.sum() + 1e-12)
    return float(np.exp(np.mean(np.log(p + 1e-9))) * 12)


def estimate(spec: Spectrum) -> KeyEstimate:
    vec = track_chroma(spec)
    scores = correlate(np.sqrt(vec))  # compressed, so one loud sustained note does not decide
    best = int(np.argmax(scores))
    key, mode = best % 12, 1 if best < 12 else 0
    order = np.sort(scores)[::-1]
    margin = order[0] - order[1]
    flat = flatness(vec) if vec.any() else 1.0
    tonal = order[0] >= MIN_CORRELATION and flat <= MAX_FLATNESS and spec.duration >= 1.0
    # Clear keys correlate well above the atonal level and beat the runner-up by a margin.
    confidence = float(np.clip((order[0] - MIN_CORRELATION) / (0.95 - MIN_CORRELATION), 0, 1)
                       * np.clip(0.4 + 3 * margin, 0, 1))
    # Mode: the best major against the best minor reading of the same evidence.
    maj, mnr = scores[:12].max(), scores[12:].max()
    mode_conf = float(np.clip(abs(maj - mnr) * 5, 0, 1))
    if not tonal:
        # Confidence that there is no key: how far the evidence sits from a tonal track's.
        sure = max((flat - MAX_FLATNESS) / (1 - MAX_FLATNESS), (MIN_CORRELATION - order[0]) / 0.3)
        return KeyEstimate(-1, mode, float(np.clip(0.5 + sure, 0, 1)), 0.0, scores)
    return KeyEstimate(key, mode, confidence, mode_conf, scores)
