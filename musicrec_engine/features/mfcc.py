"""MFCC pipeline (after the audio recommender): 13 MFCC + delta + delta-delta, seven statistics each = 273 features.

The MFCCs come from the shared 40-band log-mel spectrogram, so they equal
librosa.feature.mfcc(y, sr=22050, n_mels=40, n_fft=2048, hop_length=512) without a second STFT
(computed by features.dsp, which reproduces librosa 0.11 without importing it).
"""

from __future__ import annotations

import numpy as np

from musicrec_engine.features import dsp
from musicrec_engine.features.schema import STATS7, stats7
from musicrec_engine.features.spectrum import Spectrum

PIPELINE = "mfcc"
VERSION = "1"
N_MFCC = 13
BLOCKS = ("mfcc", "dmfcc", "ddmfcc")  # coefficients, delta, delta-delta


def names() -> list[str]:
    return [f"{b}{i:02d}_{s}" for b in BLOCKS for i in range(N_MFCC) for s in STATS7]


def compute(spec: Spectrum) -> np.ndarray:
    m = dsp.mfcc(spec.log_mel, n_mfcc=N_MFCC)
    # delta's Savitzky-Golay window needs >= 9 frames; clips this short are rejected by decode anyway.
    width = min(9, m.shape[1] - (1 - m.shape[1] % 2))
    d1 = dsp.delta(m, width=width, order=1)
    d2 = dsp.delta(m, width=width, order=2)
    return np.concatenate([stats7(b).reshape(-1) for b in (m, d1, d2)])
