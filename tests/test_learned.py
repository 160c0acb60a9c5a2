"""The shipped default learned model: loaded with its manifest, right on audio it never saw, fast."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import music

from musicrec_engine.attributes import estimated, learned
from musicrec_engine.attributes.compute import compute_all
from musicrec_engine.features.spectrum import SR, Spectrum
from tools import trainset

MANIFEST = learned.DEFAULT_DIR / f"{learned.DEFAULT_NAME}.manifest.json"
FOUR = ["speechiness", "acousticness", "liveness", "instrumentalness"]
needs_tools = pytest.mark.skipif(shutil.which("fluidsynth") is None or shutil.which("espeak-ng") is None
                                 or not trainset.SF2.exists(), reason="fluidsynth, its GM SoundFont or espeak-ng missing")


def _manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def _descriptors(y) -> dict:
    return {"descriptors": estimated.descriptor_vector(Spectrum(y))}


def test_default_model_ships_with_a_manifest_of_held_out_metrics():
    m = _manifest()
    assert m["input"]["schema_hash"] == estimated.descriptor_schema_hash(), "retrain: descriptors changed"
    assert set(m["attributes"]) == set(FOUR)
    assert "held-out seed" in m["protocol"]
    for name in FOUR:
        assert 0.5 < m["metrics"]["attributes"][name]["auc"] <= 1.0
    assert (learned.DEFAULT_DIR / "default_attributes.joblib").stat().st_size < 8e6  # "a few MB"


def test_learned_values_carry_provenance_and_manifest_confidence(home):
    out = learned.predict(_descriptors(music(5.0, seed=11)))
    m = _manifest()["metrics"]["attributes"]
    assert set(out) == set(FOUR)
    for name, a in out.items():
        assert a.provenance == "learned"
        assert 0.0 <= a.value <= 1.0
        assert a.confidence == pytest.approx(m[name]["confidence"])


@needs_tools
def test_speech_is_recognised_as_speech_and_music_is_not(home, tmp_path):
    out = tmp_path / "talk.wav"
    subprocess.run(["espeak-ng", "-v", "en-gb", "-w", str(out),
                    "This is the six o'clock news. The council met today to discuss the new bridge across the river, "
                    "and the weather will stay dry until the weekend."], check=True, capture_output=True)
    talk, sr = sf.read(out, dtype="float32")
    assert sr == SR
    talk = talk + 1e-4 * np.random.default_rng(0).standard_normal(talk.size).astype(np.float32)
    p_talk = learned.predict(_descriptors(talk))
    p_music = learned.predict(_descriptors(music(6.0, bpm=100, seed=12)))
    assert p_talk["speechiness"].value > 0.6
    assert p_music["speechiness"].value < 0.3
    assert p_talk["instrumentalness"].value < p_music["instrumentalness"].value


@needs_tools
@pytest.mark.slow
def test_default_model_is_right_on_clips_from_an_unseen_seed(home):
    """A seed the model never saw in training or evaluation: most facts must come out right."""
    right, total = 0, 0
    for y, lab in trainset.generate(12, seed=777, seconds=5.0, batch=12):
        p = learned.predict(_descriptors(y))
        checks = [(p["liveness"].value > 0.5) == bool(lab["liveness"]),
                  (p["instrumentalness"].value > 0.5) == bool(lab["instrumentalness"]),
                  (p["speechiness"].value > 0.2) == bool(lab["speech_present"])]
        if lab["acousticness"] != "":
            checks.append((p["acousticness"].value > 0.5) == bool(lab["acousticness"]))
        right += sum(checks)
        total += len(checks)
    assert right / total >= 0.8, f"{right}/{total} facts right"


def test_compute_all_prefers_learned_over_estimated(home):
    out = compute_all(Spectrum(music(4.0, seed=13)), {})
    for name in FOUR:
        assert out[name].provenance == "learned"
    for name in ("energy", "valence", "danceability"):
        assert out[name].provenance == "estimated"


def test_no_inputs_means_no_learned_values_rather_than_an_error(home):
    assert learned.predict({}) == {}
    assert learned.predict({"descriptors": np.zeros(3, np.float32)}) == {}  # wrong width


def test_fast_prediction_path_matches_sklearn_exactly(home):
    """modelfile.fast_output must give sklearn's own numbers."""
    from musicrec_engine.attributes import modelfile

    model = learned.active_models(None)[0]
    X = np.stack([estimated.descriptor_vector(Spectrum(music(3.0, key=k, bpm=90 + 10 * k, drums=k % 2 == 0, seed=k)))
                  for k in range(4)])
    for group in model.bundle["groups"]:
        st = group["model"]
        ref = st.predict_proba(X) if group["kind"] == "classification" else st.predict(X)
        np.testing.assert_allclose(modelfile.fast_output(st, X), ref, rtol=1e-5, atol=1e-6)
