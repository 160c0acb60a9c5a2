"""Similar tracks through the listening model: the sound space uses the MusiCNN embeddings, and
each neighbour says which tags it shares with the query. Real analysis, real library."""

from __future__ import annotations

import pytest
from audio_fixtures import drums, music, write


@pytest.fixture(autouse=True)
def one_patch(monkeypatch):
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")


def test_neighbours_come_from_the_embeddings_and_share_tags(tmp_path, home):
    from musicrec_engine.engine import Engine
    from musicrec_engine.search.similarity import ListeningSpace

    beats = [write(tmp_path / f"beat{i}.wav", drums(5.0, bpm=bpm, seed=i)) for i, bpm in enumerate((96, 124, 150))]
    tunes = [write(tmp_path / f"tune{i}.wav", music(5.0, key=k, bpm=bpm, seed=10 + i))
             for i, (k, bpm) in enumerate(((0, 80), (5, 100), (9, 72)))]
    eng = Engine(home)
    try:
        results = list(eng.analyze([str(p) for p in beats + tunes], jobs=1))
        assert all(r.ok and r.embeddings for r in results)
        ids, _, space = eng.similarity.sound_space()
        assert isinstance(space, ListeningSpace) and len(ids) == 6
        query = eng.track(str(beats[0]))
        near = eng.similar(track_id=query["id"], top=2, source="library")
        assert [r["space"] for r in near] == ["sound", "sound"]
        assert {r["path"].rsplit("/", 1)[-1] for r in near} == {"beat1.wav", "beat2.wav"}
        for r in near:
            assert r["shared_tags"], r
            assert set(r["shared_tags"]) <= {t["tag"] for t in query["tags"]}
        # a file outside the library is placed in the same space, and finds the same neighbours
        other = write(tmp_path / "elsewhere" / "beat9.wav", drums(5.0, bpm=110, seed=9))
        by_file = eng.similar(file=str(other), top=2, source="library")
        assert {r["path"].rsplit("/", 1)[-1] for r in by_file} <= {"beat0.wav", "beat1.wav", "beat2.wav"}
        assert all(r["shared_tags"] for r in by_file)
    finally:
        eng.close()
