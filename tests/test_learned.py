"""The shipped default learned model: loaded with its manifest, right on audio it never saw; and a
pickle in the data folder is never loaded."""

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
    # trained on the training pools only; scored on a new seed of them and on the held-out pools
    # rendered with the other SoundFont
    assert "trained on seed 1 of the train pools, fluidr3 SoundFont" in m["protocol"]
    assert "unseen generator: seed 2 of the heldout pools, musescore SoundFont" in m["protocol"]
    assert "seen generator: seed 3 of the train pools, fluidr3 SoundFont" in m["protocol"]
    for name in FOUR:
        for fig in (m["metrics"]["attributes"][name], m["metrics"]["seen_generator"][name]):
            assert 0.5 < fig["auc"] <= 1.0 and fig["auc_ci"][0] <= fig["auc"] <= fig["auc_ci"][1]
            assert fig["accuracy_ci"][0] <= fig["accuracy"] <= fig["accuracy_ci"][1]
        unseen = m["metrics"]["attributes"][name]
        # a generated-audio AUC is not shown as certainty about real music
        assert 0.0 <= unseen["confidence"] <= 0.5
        assert unseen["basis"].startswith("generated audio only") and "real recordings" in unseen["basis"]
    assert learned.default_model_path().stat().st_size < 8e6  # "a few MB"


def test_learned_values_carry_provenance_and_manifest_confidence(home):
    out = learned.predict(_descriptors(music(5.0, seed=11)))
    m = _manifest()["metrics"]["attributes"]
    assert set(out) == set(FOUR)
    for name, a in out.items():
        assert a.provenance == "learned"
        assert 0.0 <= a.value <= 1.0
        assert a.confidence == pytest.approx(m[name]["confidence"]) and a.confidence <= 0.5
        # what the detail panel and `analyze --json` show beside the value
        assert a.source == "trained on generated audio only"
        assert a.basis == m[name]["basis"] and "never checked against real recordings" in a.basis
        assert a.to_dict()["basis"] == a.basis


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


def _facts_right(clips, attributes) -> tuple[int, int]:
    right, total = 0, 0
    for y, lab in clips:
        p = learned.predict(_descriptors(y))
        checks = {"liveness": (p["liveness"].value > 0.5) == bool(lab["liveness"]),
                  "instrumentalness": (p["instrumentalness"].value > 0.5) == bool(lab["instrumentalness"]),
                  "speechiness": (p["speechiness"].value > 0.2) == bool(lab["speech_present"])}
        if lab["acousticness"] != "":
            checks["acousticness"] = (p["acousticness"].value > 0.5) == bool(lab["acousticness"])
        right += sum(v for k, v in checks.items() if k in attributes)
        total += sum(1 for k in checks if k in attributes)
    return right, total


@needs_tools
@pytest.mark.slow
def test_default_model_is_right_on_clips_from_an_unseen_seed(home):
    """A seed of the training pools the model never saw: most facts must come out right."""
    right, total = _facts_right(trainset.generate(12, seed=777, seconds=5.0, batch=12), FOUR)
    assert right / total >= 0.8, f"{right}/{total} facts right"


@pytest.mark.skipif(not trainset.SOUNDFONTS["musescore"].exists(), reason="the MuseScore General SoundFont is missing")
@needs_tools
@pytest.mark.slow
def test_default_model_hears_speech_audiences_and_voices_from_an_unseen_generator(home):
    """Instruments, kits, voices, sentences and a SoundFont training never heard: speech, audience
    and voice still come out right (acousticness does not carry over: docs/BENCHMARKS.md)."""
    clips = trainset.generate(12, seed=778, seconds=5.0, batch=12, pool="heldout", soundfont="musescore")
    right, total = _facts_right(clips, ["speechiness", "liveness", "instrumentalness"])
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


class _Marker:
    """Unpickling this creates the marker file: what a crafted model file could do instead."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_crafted_pickle_in_the_data_folder_is_refused_never_loaded(tmp_path):
    """The pickled model file of earlier versions, with a manifest that matches it in every way
    (kind, format, checksum, the current feature schema): status and analysis must not unpickle it."""
    import pickle

    from conftest import run_cli

    from musicrec_engine import features
    from musicrec_engine.attributes import modelfile
    from musicrec_engine.audio.synth import write

    home, marker = tmp_path / "home", tmp_path / "unpickled-marker"
    models = home / "models"
    models.mkdir(parents=True)
    crafted = models / "attributes.joblib"
    crafted.write_bytes(pickle.dumps(_Marker(marker)))
    hashes = {p: features.schema(p).hash for p in features.PIPELINES}
    manifest = {"format": 1, "kind": "musicrec-attributes", "name": "user", "sha256": modelfile.file_sha256(crafted),
                "input": {"pipeline": "mfcc+stats", "schema_hash": modelfile.combined_schema_hash(hashes),
                          "n_features": 503}, "attributes": ["energy"], "metrics": {}}
    (models / "attributes.manifest.json").write_text(json.dumps(manifest))

    r = run_cli("attributes", "status", home=home)
    assert not marker.exists(), "the crafted pickle ran"
    assert r.returncode == 0, r.stderr
    refused = [ln for ln in r.stdout.splitlines() if ln.startswith("refused:")]
    assert len(refused) == 1 and "attributes.joblib" in refused[0] and "pickle" in refused[0]
    assert "never loaded" in refused[0]
    r = run_cli("attributes", "status", "--json", home=home)
    st = json.loads(r.stdout)
    assert [s["used"] for s in st if s["path"].endswith("attributes.joblib")] == [False]

    song = tmp_path / "song.wav"
    write(song, music(3.0, seed=4))
    r = run_cli("analyze", str(song), "--json", home=home)
    assert not marker.exists(), "the crafted pickle ran during analysis"
    assert r.returncode == 0, r.stderr
    attrs = json.loads(r.stdout.splitlines()[0])["attributes"]
    # the refused model gave nothing: energy comes from the listening model's tags, as without it
    assert attrs["energy"]["provenance"] == "learned" and attrs["energy"]["source"] == "MusiCNN tags (MSD+MTT)"
    assert attrs["speechiness"]["provenance"] == "learned"  # the shipped model still works
    # ...and its values say what their confidence rests on
    for name in ("speechiness", "liveness"):
        assert attrs[name]["source"] == "trained on generated audio only"
        assert attrs[name]["basis"].startswith("generated audio only") and attrs[name]["confidence"] <= 0.5
    assert "attributes.joblib is a pickle" in (home / "logs" / "musicrec.log").read_text()


def test_self_test_fails_with_the_reason_when_the_shipped_model_cannot_load(tmp_path, monkeypatch):
    """A shipped model that fails to load must fail the bundle's self-test, not fall back silently."""
    from app import selftest
    from musicrec_engine.engine import Engine

    altered = tmp_path / "models"
    altered.mkdir()
    for p in (learned.default_model_path(), MANIFEST):
        shutil.copy(p, altered / p.name)
    onnx = altered / learned.default_model_path().name
    onnx.write_bytes(onnx.read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(learned, "DEFAULT_DIR", altered)
    ctx = selftest.Context(tmp_path)
    ctx.engine = Engine(tmp_path / "home")
    try:
        with pytest.raises(AssertionError, match="does not match the checksum"):
            selftest.check_learned(ctx)
        monkeypatch.setattr(learned, "DEFAULT_DIR", tmp_path / "nowhere")
        with pytest.raises(AssertionError, match="default_attributes.onnx is missing"):
            selftest.check_learned(ctx)
    finally:
        ctx.engine.close()
