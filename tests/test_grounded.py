"""The attributes grounded in MusiCNN's tags: each recipe moves the way Spotify's definition says,
the values carry provenance "learned" with the model named as their source, the user's own
trained model still wins, and an analysis that cannot listen keeps its other results."""

from __future__ import annotations

import json

import numpy as np
import pytest
from audio_fixtures import music, write

from musicrec_engine.attributes import Attribute, grounded
from musicrec_engine.listening.vocab import MSD_TAGS, MTT_TAGS


def tags(**given) -> dict:
    """Tag probabilities: everything at a quiet 0.02, the named ones (either vocabulary) as given."""
    out = {"msd": dict.fromkeys(MSD_TAGS, 0.02), "mtt": dict.fromkeys(MTT_TAGS, 0.02)}
    for name, p in given.items():
        name = name.replace("_", " ")
        for vocab in out.values():
            if name in vocab:
                vocab[name] = p
    return out


MEASURED = {"loudness": Attribute(-9.0, "measured", 1.0), "tempo": Attribute(120.0, "measured", 0.8)}


def value(t: dict, name: str, attrs: dict | None = None, desc: dict | None = None) -> float:
    return grounded.attributes(t, attrs or MEASURED, desc)[name].value


def test_each_recipe_follows_its_definition():
    sung = tags(vocal=0.7, vocals=0.6, singing=0.5, female=0.6, woman=0.5, female_vocalists=0.6, voice=0.4)
    instrumental = tags(instrumental=0.4, no_vocals=0.3, no_vocal=0.3, no_voice=0.2)
    assert value(sung, "instrumentalness") < 0.1 < 0.8 < value(instrumental, "instrumentalness")

    acoustic = tags(acoustic=0.5, guitar=0.6, piano=0.4, folk=0.4, classical=0.5, strings=0.4)
    synthetic = tags(electronic=0.6, techno=0.5, synth=0.6, electronica=0.4, beat=0.4)
    assert value(acoustic, "acousticness") > value(synthetic, "acousticness") + 0.3

    happy, sad = tags(happy=0.5, party=0.3, catchy=0.3), tags(sad=0.5, Mellow=0.4)
    assert value(happy, "valence") > value(sad, "valence") + 0.3

    dance = tags(dance=0.6, beats=0.5, beat=0.5, party=0.4, House=0.3)
    ambient = tags(ambient=0.6, slow=0.5, quiet=0.5, classical=0.4)
    steady, loose = {"pulse_clarity": 0.7}, {"pulse_clarity": 0.1}
    assert value(dance, "danceability", desc=steady) > value(ambient, "danceability", desc=loose) + 0.3
    # tempo regularity counts on its own
    assert value(dance, "danceability", desc=steady) > value(dance, "danceability", desc=loose)

    # energy: measured loudness first (as over Spotify's own tracks), then the tags
    metal = tags(metal=0.6, heavy_metal=0.5, loud=0.6, fast=0.5, rock=0.5)
    calm = tags(quiet=0.6, soft=0.5, ambient=0.5, Mellow=0.5)
    loud = {**MEASURED, "loudness": Attribute(-5.0, "measured", 1.0)}
    quiet = {**MEASURED, "loudness": Attribute(-22.0, "measured", 1.0)}
    assert value(calm, "energy", loud) > value(calm, "energy", quiet) + 0.3
    assert value(metal, "energy", MEASURED) > value(calm, "energy", MEASURED) + 0.1
    # a loud pop master is energetic, not pinned at the top of the scale
    assert 0.5 < value(tags(pop=0.5, female_vocalists=0.5), "energy", {**MEASURED, "loudness": Attribute(-7.0, "measured", 1)}) < 0.9


def test_values_say_where_they_come_from_and_what_the_confidence_rests_on():
    out = grounded.attributes(tags(), MEASURED)
    assert set(out) == {"instrumentalness", "acousticness", "danceability", "energy", "valence"}
    for a in out.values():
        assert 0.0 <= a.value <= 1.0
        assert a.provenance == "learned" and a.source == "MusiCNN tags (MSD+MTT)"
        assert "real-music" in a.basis or "Spotify" in a.basis
        assert 0.0 <= a.confidence <= 1.0
    assert out["energy"].to_dict()["source"] == "MusiCNN tags (MSD+MTT)"
    # without both vocabularies nothing is claimed
    assert grounded.attributes({"msd": tags()["msd"]}, MEASURED) == {}


def test_the_calibration_spreads_like_spotify():
    """The quantile maps send their calibration population onto the Spotify sample's quantiles."""
    cal = grounded.calibration()
    for name, c in cal["attributes"].items():
        if c["kind"] != "quantile":
            continue
        assert grounded.to_unit(name, c["raw_q"][0] - 10) == pytest.approx(c["target_q"][0], abs=1e-6)
        assert grounded.to_unit(name, c["raw_q"][-1] + 10) == pytest.approx(c["target_q"][-1], abs=1e-6)
        mid = len(c["levels"]) // 2
        assert grounded.to_unit(name, c["raw_q"][mid]) == pytest.approx(c["target_q"][mid], abs=0.02)
        assert np.all(np.diff(c["raw_q"]) >= 0) and np.all(np.diff(c["target_q"]) >= 0)


def test_the_users_own_model_keeps_its_attributes(tmp_path, monkeypatch):
    from musicrec_engine import paths
    from musicrec_engine.analysis import listening_step

    monkeypatch.setenv("MUSICREC_HOME", str(tmp_path / "home"))
    models = paths.resolve().ensure().models
    attrs = {**MEASURED, "instrumentalness": Attribute(0.123, "learned", 0.9),
             "valence": Attribute(0.456, "learned", 0.9)}
    heard = tags(vocal=0.8, vocals=0.8, singing=0.7)
    grounded_only = listening_step.ground(attrs, heard)
    assert grounded_only["instrumentalness"].source == grounded.SOURCE
    (models / "attributes.manifest.json").write_text(json.dumps({"attributes": ["instrumentalness"]}))
    mixed = listening_step.ground(attrs, heard)
    assert mixed["instrumentalness"].value == 0.123 and mixed["instrumentalness"].source is None
    assert mixed["valence"].source == grounded.SOURCE  # the user's model does not give valence


def test_a_listening_model_that_will_not_load_costs_the_tags_not_the_file(tmp_path, monkeypatch):
    """Altered weights: the file is still analysed (features, measured attributes), has no tags,
    and the result says why in one sentence."""
    import shutil

    from musicrec_engine import listening
    from musicrec_engine.analysis.pipeline import analyze_file

    broken = tmp_path / "musicnn"
    shutil.copytree(listening.weights_dir(), broken)
    data = bytearray((broken / "mtt_musicnn.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / "mtt_musicnn.onnx").write_bytes(bytes(data))
    monkeypatch.setattr(listening, "weights_dir", lambda: broken)
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")
    song = write(tmp_path / "song.wav", music(4.0, seed=3))
    r = analyze_file(song)
    assert r.ok and r.features["mfcc"].shape == (273,) and "tempo" in r.attributes
    assert r.tags == {} and r.embeddings == {}
    assert "MTT listening model" in r.listening_error and "does not match" in r.listening_error
    assert r.warning == r.listening_error and "\n" not in r.warning
    assert all(a.source != grounded.SOURCE for a in r.attributes.values())  # nothing from the tags
