"""Measured attributes: tempo (+ the audio recommender's tempo bin), key, mode and loudness.

All four read the shared Spectrum (magnitude spectrogram, samples) so they add little to an
analysis that computes the features anyway. Methods: measured/tempo.py, measured/key.py,
measured/loudness.py; their accuracy on audio with known answers, their calibration and their
agreement with Essentia on real recordings: benchmarks/bench_attributes.py (docs/BENCHMARKS.md,
measured tempo and key).
"""

from __future__ import annotations

from musicrec_engine.attributes import Attribute, key_label, tempo_bin
from musicrec_engine.attributes.measured import key as _key
from musicrec_engine.attributes.measured import loudness as _loudness
from musicrec_engine.attributes.measured import tempo as _tempo
from musicrec_engine.features.spectrum import Spectrum

PROVENANCE = "measured"
# Below these confidences the next best reading is named (the tooltips show it).
UNSURE_KEY = 0.8
UNSURE_TEMPO = 0.8
# How a tempo relates to another metrical level of the same music, in words (ratio other / reading).
LEVELS = ((2.0, "twice as fast"), (0.5, "half as fast"), (3.0, "three times as fast"),
          (1 / 3, "a third as fast"), (1.5, "three beats in the time of two"),
          (2 / 3, "two beats in the time of three"), (4.0, "four times as fast"), (0.25, "a quarter as fast"))


def measure(spec: Spectrum) -> dict[str, Attribute]:
    t = _tempo.estimate(spec)
    k = _key.estimate(spec)
    loud, loud_conf = _loudness.measure(spec)
    return {
        "tempo": Attribute(float(t.bpm), PROVENANCE, round(t.confidence, 3), basis=tempo_basis(t)),
        "tempo_bin": Attribute(int(tempo_bin(t.bpm)), PROVENANCE, round(t.confidence, 3)),
        "key": Attribute(int(k.key), PROVENANCE, round(k.confidence, 3), basis=key_basis(k)),
        # With no tonal centre the mode is a guess; its confidence says so.
        "mode": Attribute(int(k.mode), PROVENANCE, round(k.mode_confidence if k.key >= 0 else 0.0, 3)),
        "loudness": Attribute(round(loud, 2), PROVENANCE, round(loud_conf, 3)),
    }


def tempo_basis(t: _tempo.TempoEstimate) -> str | None:
    """For an unsure tempo, the other metrical level it was weighed against: the usual doubt is
    whether the beat is what a listener taps or its half, double or third (even eighths with
    nothing marking the beat, a tune alone), and naming that level tells a listener what to check."""
    if t.bpm <= 0 or t.confidence >= UNSURE_TEMPO or t.alternative <= 0:
        return None
    ratio = t.alternative / t.bpm
    how = next((words for r, words in LEVELS if abs(ratio / r - 1) < 0.04), None)
    return f"Could also be {t.alternative:.0f} BPM{f' ({how})' if how else ''}, the next best reading."


def key_basis(k: _key.KeyEstimate) -> str | None:
    """For an unsure key, the reading it was weighed against: the usual confusions are a fifth
    away or the relative key, and naming it tells a listener what to check by ear."""
    if k.key < 0 or k.confidence >= UNSURE_KEY or k.alternative < 0:
        return None
    other = key_label(k.alternative % 12, 1 if k.alternative < 12 else 0)
    if not k.fits_profile:
        return f"Its notes fit no major or minor key well (modal or pentatonic?): the nearest reading, {other} next."
    return f"Could also be {other}, the next best reading."
