"""What the listening model hears, as a user meets it: `analyze --json` carries tags and the
embedding's schema, `musicrec tags FILE` prints them (analysing the file first when needed), and
the library keeps them. Real subprocesses, real files, the shipped MusiCNN weights; one patch per
track keeps each analysis fast (MUSICREC_LISTEN_PATCHES)."""

from __future__ import annotations

import json

import pytest
from audio_fixtures import drums, music, write
from conftest import run_cli

from musicrec_engine.listening.vocab import MSD_TAGS, MTT_TAGS


@pytest.fixture(autouse=True)
def one_patch(monkeypatch):
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_analyze_json_carries_both_vocabularies_and_the_embedding_schema(tmp_path, home):
    song = write(tmp_path / "song.flac", music(6.0, key=7, mode=1, bpm=124, seed=4))
    beat = write(tmp_path / "beat.wav", drums(6.0, bpm=128, seed=2))
    r = run_cli("analyze", str(song), str(beat), "--json", "--jobs", "1", home=home)
    assert r.returncode == 0, r.stderr
    rows = {row["path"].rsplit("/", 1)[-1]: row for row in _lines(r.stdout)}
    for row in rows.values():
        assert set(row["tags"]) == {"msd", "mtt"}
        assert list(row["tags"]["msd"]) == list(MSD_TAGS) and list(row["tags"]["mtt"]) == list(MTT_TAGS)
        assert all(0.0 <= p <= 1.0 for v in row["tags"].values() for p in v.values())
        emb = row["embedding"]
        assert emb["pipelines"] == {"msd": 200, "mtt": 200}
        assert emb["schema"].startswith("musicnn-port/") and emb["schema"].endswith("patches=1")
        assert "warning" not in row
    # the two clips sound different, and the model says so: their tag profiles differ
    a, b = (rows[n]["tags"]["mtt"] for n in ("song.flac", "beat.wav"))
    assert max(abs(a[t] - b[t]) for t in MTT_TAGS) > 0.05
    top_beat = sorted(b, key=b.get, reverse=True)[:5]
    assert {"drums", "beat", "beats", "techno", "electronic", "fast", "dance"} & set(top_beat), top_beat

    # a second run answers from the cache, with the same tags
    again = {row["path"].rsplit("/", 1)[-1]: row for row in _lines(
        run_cli("analyze", str(song), "--json", home=home).stdout)}
    assert again["song.flac"]["cached"] is True
    assert again["song.flac"]["tags"] == rows["song.flac"]["tags"]

    # and the library has them, with the embeddings as feature vectors
    from musicrec_engine.engine import Engine
    from musicrec_engine.library import heard_tags

    eng = Engine(home)
    try:
        t = eng.track(str(song))
        stored = heard_tags.track_tags(eng.library, t["id"])
        assert stored["mtt"] == pytest.approx(rows["song.flac"]["tags"]["mtt"], abs=1e-4)
        assert t["tags"] and t["tags"][0]["prob"] >= t["tags"][-1]["prob"]
        ids, mat, names, _ = eng.library.features("musicnn-mtt")
        assert t["id"] in ids.tolist() and mat.shape[1] == 200 and names[0] == "mtt_emb_0"
    finally:
        eng.close()


def test_tags_command_analyses_a_new_file_and_prints_the_top_tags(tmp_path, home):
    song = write(tmp_path / "new song.ogg", music(5.0, seed=9))
    r = run_cli("tags", str(song), "--top", "3", home=home)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("MSD") and lines[4].startswith("MTT") and len(lines) == 8
    probs = [float(line.split()[0]) for line in lines[1:4]]
    assert probs == sorted(probs, reverse=True)

    # now in the library: asked again, nothing is analysed, and --json gives every tag
    j = run_cli("tags", str(song), "--json", "--top", "2", home=home)
    assert j.returncode == 0, j.stderr
    out = json.loads(j.stdout)
    assert len(out["tags"]["msd"]) == 50 and len(out["tags"]["mtt"]) == 50
    assert [len(v) for v in out["top"].values()] == [2, 2]
    assert "analysed" not in j.stderr
    assert out["schema"].endswith("patches=1") and out["error"] is None


def test_tags_command_refuses_bad_input_in_one_line(tmp_path, home):
    missing = run_cli("tags", str(tmp_path / "nowhere.mp3"), home=home)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    text = tmp_path / "letter.mp3"
    text.write_text("not a song")
    bad = run_cli("tags", str(text), home=home)
    assert bad.returncode == 1 and "text file" in bad.stderr and "Traceback" not in bad.stderr
    usage = run_cli("tags", str(text), "--top", "0", home=home)
    assert usage.returncode == 2


def test_self_test_names_the_reason_when_the_listening_model_cannot_load(tmp_path, monkeypatch):
    import shutil

    from app import selftest
    from musicrec_engine import listening

    broken = tmp_path / "musicnn"
    shutil.copytree(listening.weights_dir(), broken)
    (broken / "msd_musicnn.onnx").unlink()
    monkeypatch.setattr(listening, "weights_dir", lambda: broken)
    with pytest.raises(listening.WeightsError, match="MSD listening model .* is missing"):
        selftest.check_listening(selftest.Context(tmp_path))


def test_the_engine_filters_tracks_by_tag(tmp_path, home):
    """`tag:NAME` in Engine.tracks(filter=...): exactly the tracks the listening model gave that tag."""
    from musicrec_engine.engine import Engine
    from musicrec_engine.library import heard_tags

    beat = write(tmp_path / "beat.wav", drums(5.0, bpm=128, seed=3))
    tune = write(tmp_path / "tune.wav", music(5.0, key=2, bpm=70, seed=8))
    eng = Engine(home)
    try:
        assert all(r.ok for r in eng.analyze([str(beat), str(tune)], jobs=1))
        by_name = {t["path"].rsplit("/", 1)[-1]: t for t in eng.tracks()}
        beat_tags = [t["tag"] for t in by_name["beat.wav"]["tags"]]
        tune_tags = {t["tag"] for t in by_name["tune.wav"]["tags"]}
        only_beat = next(t for t in beat_tags if t not in tune_tags)
        term = "tag:" + only_beat.replace(" ", "_")
        assert [t["path"] for t in eng.tracks(filter=term)] == [by_name["beat.wav"]["path"]]
        assert [t["path"] for t in eng.tracks(filter=term.upper())] == [by_name["beat.wav"]["path"]]
        assert eng.tracks(filter=f"{term} tune") == []  # every term must hold
        assert len(eng.tracks(filter="tag:no_such_tag")) == 0
        # the same set the library's own tag look-up gives
        assert heard_tags.tracks_with_tag(eng.library, only_beat) == {by_name["beat.wav"]["id"]}
    finally:
        eng.close()
