"""Integrated loudness (ITU-R BS.1770-4: K-weighted, gated) in dB, Spotify's scale (about -60..0).

pyloudnorm does the measuring. The engine analyses a mono downmix (L+R)/2; BS.1770 sums the
channel powers instead, so for a stereo source whose channels are mostly the same (the usual
mix) the downmix reads 3 dB low. When the decoder records `spec.extras["channels"] >= 2` that
3 dB is added back.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from musicrec_engine.features.spectrum import Spectrum

FLOOR_DB = -60.0  # Spotify's scale bottoms out about here; silence reads as the floor
STEREO_DOWNMIX_DB = 10 * math.log10(2)
BLOCK_S = 0.4


def integrated(y: np.ndarray, sr: int) -> float:
    """BS.1770 integrated loudness in LUFS of a mono signal; -inf for silence."""
    import pyloudnorm

    if len(y) < int(BLOCK_S * sr) + 1:
        return -math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns on clipping; the value is still right
        return float(pyloudnorm.Meter(sr).integrated_loudness(np.asarray(y, np.float64)))


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
