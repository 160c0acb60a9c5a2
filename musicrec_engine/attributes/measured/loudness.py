"""Integrated loudness (ITU-R BS.1770-4: K-weighted, gated) in dB, Spotify's scale (about -60..0).

Measured as pyloudnorm measures (same K-weighting filters, same gating; the tests compare), but
filtered with numpy: SciPy's signal module, which pyloudnorm imports, costs a second of every
cold start. The engine analyses a mono downmix (L+R)/2; BS.1770 sums the
channel powers instead, so for a stereo source whose channels are mostly the same (the usual
mix) the downmix reads 3 dB low. When the decoder records `spec.extras["channels"] >= 2` that
3 dB is added back.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from musicrec_engine.features.spectrum import Spectrum

FLOOR_DB = -60.0  # Spotify's scale bottoms out about here; silence reads as the floor
STEREO_DOWNMIX_DB = 10 * math.log10(2)
BLOCK_S = 0.4  # gating block (BS.1770-4)
OVERLAP = 0.75
ABSOLUTE_GATE = -70.0  # LUFS


def _biquad(kind: str, gain_db: float, q: float, fc: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ cookbook biquad (b, a), normalised by a0: pyloudnorm's IIRfilter designs."""
    A, w0 = 10 ** (gain_db / 40.0), 2.0 * np.pi * fc / sr
    alpha, cw, sa = np.sin(w0) / (2.0 * q), np.cos(w0), 2 * np.sqrt(A)
    if kind == "high_shelf":
        b = [A * ((A + 1) + (A - 1) * cw + sa * alpha), -2 * A * ((A - 1) + (A + 1) * cw),
             A * ((A + 1) + (A - 1) * cw - sa * alpha)]
        a = [(A + 1) - (A - 1) * cw + sa * alpha, 2 * ((A - 1) - (A + 1) * cw), (A + 1) - (A - 1) * cw - sa * alpha]
    else:  # high_pass
        b = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2]
        a = [1 + alpha, -2 * cw, 1 - alpha]
    return np.array(b) / a[0], np.array(a) / a[0]


# BS.1770's K-weighting as pyloudnorm builds it: a +4 dB shelf above 1.5 kHz, then a 38 Hz high-pass.
K_WEIGHTING = (("high_shelf", 4.0, 1 / np.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0))


@lru_cache(maxsize=8)
def k_weighting_response(sr: int) -> np.ndarray:
    """Impulse response of the K-weighting cascade, 0.25 s long: its poles decay by e^-60 within that."""
    h = np.zeros(sr // 4)
    h[0] = 1.0
    for stage in K_WEIGHTING:
        b, a = _biquad(*stage, sr)
        x, h = h.tolist(), h.copy()
        y1 = y2 = x1 = x2 = 0.0
        for i, v in enumerate(x):  # the recursion, once per sample rate
            y = b[0] * v + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            h[i], x2, x1, y2, y1 = y, x1, v, y1, y
    return h


class _KWeighting:
    """K-weighting applied chunk by chunk (FFT convolution with the impulse response, the tail
    carried into the next chunk): the same output as filtering the whole signal at once.

    Convolved in pieces that fit a 2**16-point FFT with the response's spectrum computed once:
    one 2**20-point FFT per 30 s chunk cost 20 times more per sample (0.4 s of a 4-minute track).
    """

    NFFT = 1 << 16

    def __init__(self, sr: int):
        self.h = k_weighting_response(sr)
        self.nfft = max(self.NFFT, 1 << (2 * len(self.h) - 1).bit_length())
        self.hf = np.fft.rfft(self.h, self.nfft)
        self.step = self.nfft - len(self.h) + 1
        self.tail = np.zeros(len(self.h) - 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(len(x))
        for i in range(0, len(x), self.step):
            piece = x[i:i + self.step]
            y = np.fft.irfft(np.fft.rfft(piece, self.nfft) * self.hf, self.nfft)[:len(piece) + len(self.h) - 1]
            y[:len(self.tail)] += self.tail
            out[i:i + len(piece)] = y[:len(piece)]
            # What rings on past this piece (the older tail was added in above, so it is included).
            self.tail = y[len(piece):].copy()
        return out


def integrated(y: np.ndarray, sr: int) -> float:
    """BS.1770-4 integrated loudness in LUFS of a mono signal; -inf for silence.

    pyloudnorm's K-weighting filters, with the gating vectorised: pyloudnorm's own per-block
    Python loop costs 1.7 s on a 4-minute track. Blocks are 400 ms with 75 % overlap, so each is
    four consecutive 100 ms segments. Agrees with pyloudnorm to 0.01 dB (see the tests).
    """
    seg = int(round(BLOCK_S * (1 - OVERLAP) * sr))
    n_seg = len(y) // seg
    if n_seg < 4:
        return -math.inf
    # Filtered a chunk at a time: the same result as one call, without a float64 copy of a whole
    # 10-minute track in memory.
    kw = _KWeighting(sr)
    energy = np.empty(n_seg, np.float64)
    per_chunk = max(1, (30 * sr) // seg)
    for i in range(0, n_seg, per_chunk):
        j = min(n_seg, i + per_chunk)
        x = kw(np.asarray(y[i * seg: j * seg], np.float64))
        x = x.reshape(j - i, seg)
        energy[i:j] = np.einsum("ij,ij->i", x, x)
    z = (energy[:-3] + energy[1:-2] + energy[2:-1] + energy[3:]) / (4 * seg)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(z)
        gated = z[block_lufs >= ABSOLUTE_GATE]
        if len(gated) == 0:
            return -math.inf
        relative = -0.691 + 10 * np.log10(gated.mean()) - 10.0
        keep = z[(block_lufs > relative) & (block_lufs > ABSOLUTE_GATE)]
        return float(-0.691 + 10 * np.log10(keep.mean())) if len(keep) else -math.inf


def measure(spec: Spectrum) -> tuple[float, float]:
    """(loudness dB, confidence)."""
    lufs = integrated(spec.y, spec.sr)
    if not math.isfinite(lufs):
        # Silence or too short to gate: report the floor, but say we are not sure.
        return FLOOR_DB, 0.0 if spec.duration < BLOCK_S else 0.5
    if spec.extras.get("channels", 1) >= 2:
        lufs += STEREO_DOWNMIX_DB
    # Gating needs a few blocks before the value settles; a 3 s clip is already solid.
    confidence = float(np.clip(spec.duration / 3.0, 0.2, 1.0))
    return float(np.clip(lufs, FLOOR_DB, 0.0)), confidence
