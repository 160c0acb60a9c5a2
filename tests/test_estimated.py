"""Estimated attributes: descriptor formulas after Spotify's definitions, on audio with known content."""

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import music

from musicrec_engine.attributes import UNIT_ATTRIBUTES, estimated
from musicrec_engine.attributes.compute import compute_all
from musicrec_engine.features.spectrum import SR, Spectrum

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def _speech(tmp_path, seconds=6.0) -> np.ndarray:
    text = "Good evening. Tonight we talk about the history of the river and the people who live beside it."
    out = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(out), text], check=True, capture_output=True)
    y, sr = sf.read(out, dtype="float32")
    assert sr == SR
    return np.resize(y, int(seconds * SR))


def test_every_unit_attribute_is_estimated_on_the_0_1_scale():
    out = estimated.estimate(Spectrum(music(5.0, seed=1)))
    for name in UNIT_ATTRIBUTES:
        assert out[name].provenance == "estimated"
        assert 0.0 <= out[name].value <= 1.0
        assert out[name].confidence < 0.5  # an estimate never claims to be sure
    assert -60 <= out["loudness"].value <= 0


@needs_espeak
def test_speech_is_speechier_and_less_instrumental_than_music(tmp_path):
    talk = estimated.estimate(Spectrum(_speech(tmp_path)))
    song = estimated.estimate(Spectrum(music(6.0, bpm=110, seed=2)))
    assert talk["speechiness"].value > song["speechiness"].value + 0.1
    assert talk["instrumentalness"].value < song["instrumentalness"].value


def test_loud_drums_are_more_energetic_and_danceable_than_quiet_chords():
    loud = music(6.0, bpm=128, drums=True, seed=3)
    quiet = 0.05 * music(6.0, bpm=70, drums=False, seed=3)
    e_loud, e_quiet = estimated.estimate(Spectrum(loud)), estimated.estimate(Spectrum(quiet))
    assert e_loud["energy"].value > e_quiet["energy"].value
    assert e_loud["danceability"].value > e_quiet["danceability"].value


def test_too_short_audio_gives_no_estimate_instead_of_an_error():
    assert estimated.estimate(Spectrum(np.zeros(100, np.float32))) == {}


def test_measured_values_win_and_all_eleven_attributes_are_present(home):
    out = compute_all(Spectrum(music(5.0, key=7, mode=1, seed=4)), {})
    for name in UNIT_ATTRIBUTES + ["loudness", "tempo", "key", "mode"]:
        assert name in out, name
        assert out[name].provenance in ("measured", "learned", "estimated")
    for name in ("tempo", "key", "mode", "loudness"):
        assert out[name].provenance == "measured"


def test_descriptor_schema_names_every_value_and_is_stable():
    spec = Spectrum(music(3.0, seed=5))
    vec = estimated.descriptor_vector(spec)
    assert vec.shape == (len(estimated.descriptor_names()),)
    assert np.all(np.isfinite(vec))
    assert estimated.descriptor_schema_hash() == estimated.descriptor_schema_hash()


def test_fallback_key_and_tempo_follow_the_music():
    spec = Spectrum(music(8.0, key=9, mode=1, bpm=120, seed=6))
    out = estimated.estimate(spec)
    assert out["key"].value in (9, 6)  # A major, or its relative minor F# at worst
    assert 100 <= out["tempo"].value <= 145 or 55 <= out["tempo"].value <= 65


def _notes(kind: str, seconds: float = 6.0) -> np.ndarray:
    """One note a second: held square waves (a synth lead) or plucked tones dying away (a guitar)."""
    out = np.zeros(int(seconds * SR), np.float32)
    n = SR
    t = np.arange(n) / SR
    for i, f0 in enumerate([220.0, 247.0, 262.0, 294.0, 330.0, 294.0][: int(seconds)]):
        if kind == "square":
            y = 0.2 * np.sign(np.sin(2 * np.pi * f0 * t)) * np.minimum(1, t / 0.01)
        else:
            y = sum(np.sin(2 * np.pi * k * f0 * t) * np.exp(-t * 3 * k) / k for k in range(1, 12)) * 0.3
        out[i * n:(i + 1) * n] = y
    return out + 1e-4 * np.random.default_rng(0).standard_normal(out.size).astype(np.float32)


def test_band_dynamics_tell_held_synth_notes_from_decaying_plucked_ones():
    held, plucked = estimated.descriptors(Spectrum(_notes("square"))), estimated.descriptors(Spectrum(_notes("pluck")))
    for band in ("250_500", "500_1000", "1000_2000"):
        assert held[f"bsteady_{band}"] > plucked[f"bsteady_{band}"] + 0.2, band
        assert plucked[f"bdecay_{band}"] > held[f"bdecay_{band}"] + 0.1, band
