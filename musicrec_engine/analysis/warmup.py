"""Imported by the analysis fork server: one tiny analysis of a synthetic signal, so that every
import and model load the first real file would trigger (decoders, scipy's FFT and signal
modules, the attribute models) happens once there, and each worker forked from it starts warm.

Model caches keyed by file version stay correct in the workers: a retrained model has a new
version and is loaded afresh.
"""

from __future__ import annotations

import logging


def _warm() -> None:
    import av  # noqa: F401
    import numpy as np
    import soundfile  # noqa: F401
    import soxr  # noqa: F401

    from musicrec_engine import features
    from musicrec_engine.attributes.compute import compute_all

    sr = features.spectrum.SR
    t = np.arange(2 * sr) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    spec = features.Spectrum(y)
    compute_all(spec, features.extract(spec))


try:
    _warm()
except Exception:  # a cold worker is slower, not wrong
    logging.getLogger("musicrec.analysis").debug("worker warm-up failed", exc_info=True)
