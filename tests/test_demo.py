"""The demo library a new user sees first: tagged, analysed, and spread over the attribute bars
like released music rather than all at one end."""

from musicrec_engine.engine import Engine
from musicrec_engine.library import demo


def test_demo_tracks_are_tagged_and_read_like_released_music(home):
    eng = Engine(home)
    try:
        results = list(eng.analyze(eng.make_demo_library(seconds=6.0)))
        assert [r.status for r in results] == ["ok"] * len(demo.TRACKS)
        tracks = {t["title"]: t for t in eng.library.tracks()}
        assert set(tracks) == {t.title for t in demo.TRACKS}
        assert {t["artist"] for t in tracks.values()} == {demo.DEMO_ARTIST}

        def attr(title, name):
            return tracks[title]["attributes"][name]["value"]

        by_texture = {x: [t.title for t in demo.TRACKS if t.texture == x] for x in demo.LEVEL}
        for texture, titles in by_texture.items():
            for title in titles:  # mastered near its level (the mono downmix reads up to 3 dB low)
                assert demo.LEVEL[texture] - 4 < attr(title, "loudness") < demo.LEVEL[texture] + 1, title
        energy = {x: [attr(title, "energy") for title in titles] for x, titles in by_texture.items()}
        assert max(energy["soft"]) < min(energy["plain"]) and max(energy["plain"]) < min(energy["bright"])
        assert min(energy["soft"]) > 0.05  # quiet, not silent
        # a second run finds the files in place and writes nothing
        before = {p: p.stat().st_mtime_ns for p in eng.demo_folder.iterdir()}
        eng.make_demo_library(seconds=6.0)
        assert {p: p.stat().st_mtime_ns for p in eng.demo_folder.iterdir()} == before
    finally:
        eng.close()
