"""Tempo in BPM from the shared magnitude spectrogram, with explicit octave-error handling.

1. Onset envelope: half-wave rectified spectral flux of the log magnitude (0..6 kHz, 557 bins).
   The 40-band mel onset envelope misses the soft note changes of legato organ or strings;
   per-bin flux hears them (tempo Accuracy2 on rendered chorales went from 0.88 to 0.98).
2. Autocorrelation of that envelope (one FFT), detrended so crescendos do not look periodic.
3. For every candidate tempo on a fine log grid (30..300 BPM), the comb of the autocorrelation
   at the whole multiples of its period: the mean over all multiples (salience), and separately
   over odd and even multiples. Long lags pin the period to a fraction of a frame, which 1-frame
   lag resolution could not (4 % at 190 BPM is less than one frame).
4. Octave decision. A tempo's odd multiples are its off-beats: if they are much weaker than its
   even multiples, the pulse is a subdivision of a slower beat (eighth notes under a 65 BPM
   ballad), and it is penalised. Between a tempo and its half, whose combs agree when beats are
   not accented, a log-normal prior decides. The score is salience x prior x off-beat factor;
   the best relative at x2, x1/2, x3, x1/3, x3/2, x2/3 is reported with the runner-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicrec_engine.features.spectrum import Spectrum

MIN_BPM, MAX_BPM = 30.0, 300.0
GRID = MIN_BPM * (MAX_BPM / MIN_BPM) ** np.linspace(0, 1, 1200)  # 0.19 % steps
PRIOR_CENTER = 140.0  # BPM: best summed Accuracy1 over both tuning sets (120, 130, 140 tried)
PRIOR_OCTAVES = 1.0  # standard deviation of the prior, in octaves
OFFBEAT_MIN = 0.85  # odd/even comb ratio at which a pulse counts as a full beat level
OFFBEAT_POWER = 2.0
MAX_LAG_S = 8.0
MAX_HARMONICS = 24
FLUX_MAX_HZ = 6000.0
FLUX_BLOCK = 2048  # frames
# log(1 + c * magnitude / max): c = 100 rather than 1000 keeps the fluctuations of a noise floor
# (MP3/M4A copies with added noise) from swamping soft onsets; chosen on the tuning corpus.
FLUX_COMPRESSION = 100.0
RELATIVES = (1.0, 2.0, 0.5, 3.0, 1 / 3, 1.5, 2 / 3)


@dataclass
class TempoEstimate:
    bpm: float  # 0.0 when there is no pulse (silence, too short)
    confidence: float  # 0..1
    candidates: list[tuple[float, float]]  # (bpm, score) of the octave relatives, best first


def onset_envelope(spec: Spectrum) -> np.ndarray:
    """Spectral flux of the log magnitude, one value per STFT frame (cached in spec.extras).

    Worked through in blocks of frames (each with the frame before it), so a 10-minute track
    never needs a full-size log spectrogram next to the shared one.
    """
    cached = spec.extras.get("tempo.flux")
    if cached is not None:
        return cached
    frames = spec.magnitude.T  # frames x bins; contiguous with the shared frame-major storage
    top = min(frames.shape[1], int(FLUX_MAX_HZ * spec.n_fft / spec.sr) + 1)
    scale = np.float32(FLUX_COMPRESSION / (float(frames[:, :top].max()) + 1e-12))
    flux = np.zeros(frames.shape[0], np.float64)
    for i in range(1, frames.shape[0], FLUX_BLOCK):
        block = frames[i - 1:i + FLUX_BLOCK, :top] * scale
        np.log1p(block, out=block)
        d = np.diff(block, axis=0)
        np.maximum(d, 0, out=d)
        flux[i:i + len(d)] = d.sum(axis=1, dtype=np.float64)
    spec.extras["tempo.flux"] = flux
    return flux


def _acf(env: np.ndarray, fps: float) -> np.ndarray:
    k = int(round(fps))  # one second of trend
    if len(env) > 2 * k:
        env = env - np.convolve(env, np.ones(k) / k, mode="same")
    env = env - env.mean()
    n = len(env)
    f = np.fft.rfft(env, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n]
    acf /= np.arange(n, 0, -1)  # unbiased: long lags see fewer overlapping frames
    return acf / (acf[0] + 1e-12)


def combs(acf: np.ndarray, fps: float, bpms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(all, odd, even) mean autocorrelation at multiples of each tempo's period."""
    max_lag = min(len(acf) - 1, MAX_LAG_S * fps)
    ks = np.arange(1, MAX_HARMONICS + 1)
    lags = (60.0 * fps / bpms)[:, None] * ks[None, :]
    valid = lags <= max_lag
    vals = np.where(valid, np.interp(np.where(valid, lags, 0), np.arange(len(acf)), acf), 0.0)
    odd, even = valid & (ks % 2 == 1), valid & (ks % 2 == 0)

    def mean(mask):
        return (vals * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)

    return mean(valid), mean(odd), mean(even)


def prior(bpm: np.ndarray | float) -> np.ndarray:
    return np.exp(-0.5 * (np.log2(np.asarray(bpm) / PRIOR_CENTER) / PRIOR_OCTAVES) ** 2)


def score(sal: np.ndarray, odd: np.ndarray, even: np.ndarray, bpms: np.ndarray) -> np.ndarray:
    ratio = np.clip(odd / np.maximum(even, 1e-3), 0, 1)
    offbeat = np.minimum(1.0, ratio / OFFBEAT_MIN) ** OFFBEAT_POWER
    return np.maximum(sal, 0) * prior(bpms) * offbeat


def estimate(spec: Spectrum) -> TempoEstimate:
    fps = spec.sr / spec.hop
    if spec.duration < 3.0:
        return TempoEstimate(0.0, 0.0, [])
    env = onset_envelope(spec)
    if len(env) < 4 or env.std() < 1e-8:
        return TempoEstimate(0.0, 0.0, [])
    acf = _acf(env, fps)
    sal, odd, even = combs(acf, fps, GRID)
    sc = score(sal, odd, even, GRID)
    i = int(np.argmax(sc))
    bpm = float(GRID[i])
    if sc[i] <= 0:
        return TempoEstimate(0.0, 0.0, [])
    # The octave relatives, each at its own local best, tell how sure the octave choice is.
    cands = []
    for r in RELATIVES:
        near = np.abs(GRID / (bpm * r) - 1) < 0.03
        if near.any():
            j = np.flatnonzero(near)[int(np.argmax(sc[near]))]
            cands.append((round(float(GRID[j]), 2), float(sc[j])))
    cands.sort(key=lambda c: -c[1])
    runner = cands[1][1] if len(cands) > 1 else 0.0
    clarity = 1.0 - max(runner, 0.0) / sc[i]
    confidence = float(np.clip(sal[i], 0, 1) * (0.5 + 0.5 * clarity))
    return TempoEstimate(round(bpm, 2), confidence, cands)
