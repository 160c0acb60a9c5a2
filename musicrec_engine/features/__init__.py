"""Feature extraction: one shared spectrum per file feeds both pipelines (MFCC-273 and statistical).

`extract(spec)` returns {pipeline: vector}; `schema(pipeline, window)` names every value and hashes
the parameters, so vectors from different versions or window policies are never mixed.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from musicrec_engine.features import dsp, mfcc, spectrum, stats
from musicrec_engine.features.schema import Schema
from musicrec_engine.features.spectrum import Spectrum

PIPELINES = {"mfcc": mfcc, "stats": stats}


@cache
def schema(pipeline: str, window: str = "full") -> Schema:
    from musicrec_engine.audio import decode as audio

    mod = PIPELINES[pipeline]
    params = {"sr": spectrum.SR, "n_fft": spectrum.N_FFT, "hop": spectrum.HOP, "n_mels": spectrum.N_MELS,
              "window": window, "max_seconds": audio.MAX_SECONDS if window == "full" else audio.SEED_SECONDS,
              # The librosa release whose values features.dsp reproduces (librosa itself is not used
              # at run time); the key and value are the ones the installed version used to give, so
              # caches and models keyed on these hashes stay valid.
              "librosa": dsp.LIBROSA_COMPAT}
    return Schema(pipeline, mod.VERSION, tuple(mod.names()), params)


def extract(spec: Spectrum, pipelines=tuple(PIPELINES)) -> dict[str, np.ndarray]:
    out = {}
    for name in pipelines:
        vec = PIPELINES[name].compute(spec)
        expected = len(schema(name).names)
        if vec.shape != (expected,):  # a pipeline and its name list drifted apart: never emit unnamed values
            raise RuntimeError(f"{name} pipeline produced {vec.shape[0]} values for {expected} names")
        out[name] = vec.astype(np.float64)
    return out

