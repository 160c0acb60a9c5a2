"""Integrated loudness (ITU-R BS.1770-4: K-weighted, gated) in dB, Spotify's scale (about -60..0).

pyloudnorm does the measuring. The engine analyses a mono downmix (L+R)/2; BS.1770 sums the
channel powers instead, so for a stereo source whose channels are mostly the same (the usual
mix) the downmix reads 3 dB low. When the decoder records `spec.extras["channels"] >= 2` that
3 dB is added back.
"""

from __future__ import annotations

import math

import numpy as np

from musicrec_engine.features.spectrum import Spectrum

FLOOR_DB = -60.0  # Spotify's scale bottoms out about here; silence reads as the floor
STEREO_DOWNMIX_DB = 10 * math.log10(2)
BLOCK_S = 0.4  # gating block (BS.1770-4)
OVERLAP = 0.75
ABSOLUTE_GATE = -70.0  # LUFS


def _k_weighting_sos(sr: int) -> np.ndarray:
    """pyloudnorm's two K-weighting biquads (high shelf, high pass) as second-order sections."""
    import pyloudnorm

    rows = []
    for stage in pyloudnorm.Meter(sr)._filters.values():
        b, a = stage.b * stage.passband_gain, stage.a
        rows.append(np.concatenate([b / a[0], a / a[0]]))
    return np.array(rows)


def integrated(y: np.ndarray, sr: int) -> float:
    """BS.1770-4 integrated loudness in LUFS of a mono signal; -inf for silence.

    pyloudnorm's K-weighting filters, with the gating vectorised: pyloudnorm's own per-block
    Python loop costs 1.7 s on a 4-minute track. Blocks are 400 ms with 75 % overlap, so each is
    four consecutive 100 ms segments. Agrees with pyloudnorm to 0.01 dB (see the tests).
    """
    from scipy.signal import sosfilt, sosfilt_zi

    seg = int(round(BLOCK_S * (1 - OVERLAP) * sr))
    n_seg = len(y) // seg
    if n_seg < 4:
        return -math.inf
    sos = _k_weighting_sos(sr)
    # Filtered a chunk at a time with the filter state carried over: the same result as one call,
    # without a float64 copy of a whole 10-minute track in memory.
    zi = sosfilt_zi(sos) * 0.0
    energy = np.empty(n_seg, np.float64)
    per_chunk = max(1, (30 * sr) // seg)
    for i in range(0, n_seg, per_chunk):
        j = min(n_seg, i + per_chunk)
        x, zi = sosfilt(sos, np.asarray(y[i * seg: j * seg], np.float64), zi=zi)
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
