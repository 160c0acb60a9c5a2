"""Measured attributes: tempo (+ the audio recommender's tempo bin), key, mode and loudness.

All four read the shared Spectrum (magnitude spectrogram, samples) so they add little to an
analysis that computes the features anyway. Methods: measured/tempo.py, measured/key.py,
measured/loudness.py; their accuracy on audio with known answers, their calibration and their
agreement with Essentia on real recordings: benchmarks/bench_attributes.py (docs/BENCHMARKS.md,
measured tempo and key).
"""

from __future__ import annotations

from musicrec_engine.attributes import Attribute, tempo_bin
from musicrec_engine.attributes.measured import key as _key
from musicrec_engine.attributes.measured import loudness as _loudness
from musicrec_engine.attributes.measured import tempo as _tempo
from musicrec_engine.features.spectrum import Spectrum

PROVENANCE = "measured"


def measure(spec: Spectrum) -> dict[str, Attribute]:
    t = _tempo.estimate(spec)
    k = _key.estimate(spec)
    loud, loud_conf = _loudness.measure(spec)
    return {
        "tempo": Attribute(float(t.bpm), PROVENANCE, round(t.confidence, 3)),
        "tempo_bin": Attribute(int(tempo_bin(t.bpm)), PROVENANCE, round(t.confidence, 3)),
        "key": Attribute(int(k.key), PROVENANCE, round(k.confidence, 3)),
        # With no tonal centre the mode is a guess; its confidence says so.
        "mode": Attribute(int(k.mode), PROVENANCE, round(k.mode_confidence if k.key >= 0 else 0.0, 3)),
        "loudness": Attribute(round(loud, 2), PROVENANCE, round(loud_conf, 3)),
    }
