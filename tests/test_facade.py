"""The facade as the one door: what the app and the CLI ask of `Engine` with plain arguments —
the library's text filter, album thresholds, the analysis child-process protocol, MusicBrainz
contact rules and the `mbid, liked` rating files."""

import json
import subprocess

import pytest
from audio_fixtures import tagged_clip
from conftest import ROOT, run_cli

from musicrec_engine.engine import Engine, MusicRecError, UsageError


@pytest.fixture
def three_tracks(home, tmp_path):
    music_dir = tmp_path / "Music"
    tagged_clip(music_dir / "a.flac", key=9, mode=0, title="Air on a String", artist="Johann Sebastian Bach",
           album="Suites", genre="Baroque")
    tagged_clip(music_dir / "b.flac", key=0, mode=1, title="Prelude", artist="Johann Sebastian Bach", album="WTC",
           genre="Baroque")
    tagged_clip(music_dir / "c.flac", key=7, mode=1, title="Blue in Green", artist="Miles Davis", album="Kind of Blue",
           genre="Jazz")
    eng = Engine(home)
    results = list(eng.analyze([str(music_dir)], jobs=1))
    assert [r.status for r in results] == ["ok"] * 3
    yield eng
    eng.close()


def test_filter_needs_every_word_and_reads_tags_key_and_mode(three_tracks):
    eng = three_tracks
    titles = lambda text: sorted(t["title"] for t in eng.tracks(filter=text))  # noqa: E731
    assert titles("") == ["Air on a String", "Blue in Green", "Prelude"]
    assert titles("bach") == ["Air on a String", "Prelude"]
    assert titles("BACH wtc") == ["Prelude"]  # every word must match, in any field, any case
    assert titles("jazz blue") == ["Blue in Green"]
    assert titles("bach jazz") == []
    # the measured key and mode are searchable as the table shows them
    by_title = {t["title"]: t for t in eng.tracks()}
    air = by_title["Air on a String"]["attributes"]
    mode_word = "major" if air["mode"]["value"] >= 0.5 else "minor"
    assert "Air on a String" in titles(f"bach {mode_word}")
    key_name = Engine.KEY_NAMES[int(air["key"]["value"])]
    assert "Air on a String" in titles(f"{key_name.lower()} suites")
    # a view that keeps each row's text gets the same answer
    f = eng.track_filter("bach wtc")
    assert [t["title"] for t in eng.tracks() if f.matches_text(f.search_text(t))] == ["Prelude"]


def test_album_thresholds_are_plain_values_with_the_defaults_filled_in(home):
    defaults = Engine.album_thresholds()
    assert {k: defaults[k] for k in ("liked_probability", "liked_share", "min_tracks", "min_coverage")} == \
        {"liked_probability": 0.5, "liked_share": 0.5, "min_tracks": 5, "min_coverage": 0.5}
    assert Engine.album_thresholds(min_tracks=2, liked_share=None)["min_tracks"] == 2
    with pytest.raises(UsageError, match="liked share must be between 0 and 1"):
        Engine.album_thresholds(liked_share=1.5)
    with Engine(home) as eng:
        with pytest.raises(UsageError, match="unknown album threshold"):
            eng.albums("library", thresholds={"min_track": 3})
        out = eng.albums("library", thresholds={"min_tracks": 2})
    assert out["thresholds"]["min_tracks"] == 2 and out["thresholds"]["liked_probability"] == 0.5


def test_analysis_child_process_protocol(home, tmp_path):
    good = tagged_clip(tmp_path / "in" / "good.flac", title="Good One", artist="Someone")
    bad = tmp_path / "in" / "bad.mp3"
    bad.write_bytes(b"not audio" * 50)
    with Engine(home) as eng:
        assert eng.audio_files([tmp_path / "in"]) == [str(bad), str(good)]
        cmd, env = eng.analysis_command([tmp_path / "in"], jobs=1)
        proc = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=300)
        assert proc.returncode == 1  # one file failed, the other was analysed
        lines = [eng.read_analysis_line(raw) for raw in proc.stdout.splitlines()]
        by_name = {r["path"].rsplit("/", 1)[-1]: r for r in lines}
        assert set(by_name) == {"good.flac", "bad.mp3"}
        assert by_name["bad.mp3"]["status"] == "error" and by_name["bad.mp3"]["error"]
        assert by_name["good.flac"]["status"] == "ok"
        # an ok line means the track is already in this engine's library
        assert eng.track(by_name["good.flac"]["path"])["title"] == "Good One"
    assert Engine.read_analysis_line("analysed 1/2: something") is None
    assert Engine.read_analysis_line(b'{"path": "caf\\udce9.wav", "status": "ok"}')["path"] == "caf\udce9.wav"
    assert Engine.read_analysis_line(b'{"path": "caf\xe9.wav", "status": "error"}')["status"] == "error"


def test_contact_is_an_email_or_a_web_page():
    assert Engine.valid_contact("me@example.org") and Engine.valid_contact(" https://example.org/me ")
    assert not Engine.valid_contact("me") and not Engine.valid_contact("") and not Engine.valid_contact(None)
    assert not Engine.valid_contact("ftp://example.org")


def test_both_rating_imports_read_mbid_csv_the_same_strict_way(home, tmp_path):
    good = "b1a9c0e9-d987-4042-ae91-78d6a3267d69"
    csv = tmp_path / "r.csv"
    csv.write_text(f"mbid,liked\n{good},1\nnot-an-id,1\n{good.upper()[:-1]}X,0\n{good},maybe\n")
    outs = []
    for argv in (["rate", "--csv", str(csv), "--json"], ["catalog", "ratings", str(csv), "--json"]):
        r = run_cli(*argv, home=home)
        assert r.returncode == 1, r.stderr  # rows were skipped: said, and the exit status says so
        assert "line 3: 'not-an-id' is not a MusicBrainz recording id" in r.stderr
        assert "line 5: liked is 'maybe', expected 1 (like) or 0 (dislike)" in r.stderr
        outs.append(json.loads(r.stdout))
    assert outs[0] == outs[1] == {"ratings": 1, "matched": 0, "unmatched": 1, "problems": 3}
    (tmp_path / "x.csv").write_text("id,like\n1,1\n")
    with Engine(home) as eng, pytest.raises(MusicRecError, match="expected a header with the columns mbid and liked"):
        eng.rate_by_mbid_csv(tmp_path / "x.csv")
