"""Albums that no audio of ours can judge are scored by metadata: the user's like-rates per
artist, label and tag, against MusicBrainz's tags and labels, through the real client and
musicbrainzngs against tests/fake_musicbrainz.py on 127.0.0.1."""

import json
from types import SimpleNamespace

import pytest
from conftest import run_cli
from fake_musicbrainz import FakeMusicBrainz

from musicrec_engine.albums import metadata
from musicrec_engine.attributes import Attribute
from musicrec_engine.engine import Engine


@pytest.fixture
def mb_env(monkeypatch, home):
    with FakeMusicBrainz() as mb:
        monkeypatch.setenv("MUSICREC_MB_HOST", mb.host)
        monkeypatch.setenv("MUSICREC_MB_RATE", "50")
        monkeypatch.setenv("MUSICREC_CONTACT", "tester@example.com")
        yield mb


def rated(eng, folder, artist, genre, likes, dislikes):
    """Library tracks by `artist` tagged `genre`, rated; none of them is on any MusicBrainz album."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, v in enumerate([1] * likes + [0] * dislikes):
        path = folder / f"{artist} {i}.wav"
        path.write_bytes(b"RIFF")  # never decoded: the analysis result is given
        tid = eng.library.store_analysis(
            SimpleNamespace(path=str(path), status="ok", error=None, duration=200.0, content_hash=f"{artist}{i}",
                            features={}, feature_names={}, schema_hash={},
                            attributes={"energy": Attribute(0.5, "estimated", 0.5)}),
            tags={"title": f"Home recording {i}", "artist": artist, "genre": genre})
        eng.rate(tid, v)


def test_albums_with_no_matching_audio_get_a_metadata_score_with_reasons(mb_env, home, tmp_path):
    nina = mb_env.add_artist("Nina Quartet", tags=("jazz", "soul"), albums=3, tracks=24, first_year=1961,
                             label="Blue Note")
    polka = mb_env.add_artist("Polka Kings", tags=("polka",), albums=2, tracks=10, first_year=1970)
    eng = Engine(home)
    rated(eng, tmp_path / "a", "Nina Quartet", "Jazz; Soul", likes=4, dislikes=0)
    rated(eng, tmp_path / "b", "Someone Else", "Soul", likes=3, dislikes=1)
    rated(eng, tmp_path / "c", "Oompah Band", "Polka", likes=0, dislikes=5)
    eng.close()
    r = run_cli("albums", "search", "--artist", "Nina Quartet", "--all", "--json", home=home)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [a["title"] for a in out["albums"]] and len(out["albums"]) == 3
    for a in out["albums"]:
        assert a["scored"] == 0 and a["total"] == 24  # no track of it is known by sound...
        assert a["basis"] == "metadata" and a["recommended"]  # ...but its artist and tags are
        assert a["metadata"]["kinds"] == ["artist", "genre"] and a["metadata"]["coverage"] == pytest.approx(2 / 3, abs=1e-4)
        assert a["metadata"]["label"] == "Blue Note" and a["metadata"]["tags"] == ["jazz", "soul"]
        assert a["reasons"][0].startswith("by metadata (artist, genre; 16 ratings): like probability 0.")
        assert "you liked 4 tracks by this artist" in a["reasons"]
        assert any(x.startswith("jazz and soul, which you rate highly (11 of 12 rated tracks") for x in a["reasons"])
        assert a["mean_probability"] >= 0.65
    assert out["musicbrainz"]["by_metadata"] == 3
    text = run_cli("albums", "search", "--artist", "Nina Quartet", home=home).stdout
    assert "[musicbrainz, by metadata: artist, genre]" in text and "3 judged by metadata" in text

    r = run_cli("albums", "search", "--tag", "polka", "--all", "--json", home=home)
    polka_albums = json.loads(r.stdout)["albums"]
    assert {a["artist"] for a in polka_albums} == {polka.name} and not any(a["recommended"] for a in polka_albums)
    low = polka_albums[0]
    assert low["basis"] == "metadata" and low["metadata"]["kinds"] == ["genre"]  # the artist is new to you
    assert low["reasons"][0].startswith("by metadata, like probability 0.")
    assert any(x.startswith("polka, which you rate low (0 of 5") for x in low["reasons"])
    # its own thresholds, from the command line as from Settings
    r = run_cli("albums", "search", "--artist", "Nina Quartet", "--metadata-probability", "0.95", "--all",
                "--json", home=home)
    strict = json.loads(r.stdout)["albums"]
    assert not any(a["recommended"] for a in strict) and "< 0.95" in strict[0]["reasons"][0]
    r = run_cli("albums", "search", "--artist", "Nina Quartet", "--metadata-min-ratings", "20", "--all",
                "--json", home=home)
    assert "resting on only 16 ratings (needs 20)" in json.loads(r.stdout)["albums"][0]["reasons"][0]
    assert nina.id  # (used by the fake server)


def test_ten_albums_of_one_artist_cost_at_most_twelve_requests_and_none_again(mb_env, home, tmp_path):
    art = mb_env.add_artist("Decade", tags=("folk",), albums=10, tracks=8, label="Folkways")
    eng = Engine(home)
    rated(eng, tmp_path / "a", "Decade", "Folk", likes=3, dislikes=0)
    report = eng.search_albums(artist="Decade")
    searches = [r for r in mb_env.requests if r.path == "/ws/2/release-group/"]
    assert len(searches) == 1 and len(mb_env.requests) - 1 <= 12
    assert len(mb_env.requests) - 1 == 11  # ten releases (with their labels) and the artist's tags once
    assert len(report["albums"]) == 10 and all(a["basis"] == "metadata" for a in report["albums"])
    n = len(mb_env.requests)
    again = eng.search_albums(artist="Decade")
    assert len(mb_env.requests) == n and again["musicbrainz"]["requests"] == 0
    assert [a["mean_probability"] for a in again["albums"]] == [a["mean_probability"] for a in report["albums"]]
    eng.close()
    assert art.id


def test_without_ratings_no_tags_are_asked_for(mb_env, home):
    mb_env.add_artist("Unknown", tags=("rock",), albums=3, tracks=6)
    eng = Engine(home)
    report = eng.search_albums(artist="Unknown")
    assert len(mb_env.requests) == 1 + 3  # nothing to judge metadata by, so no artist look-up
    assert all(a["basis"] == "audio" and not a["recommended"] for a in report["albums"])
    eng.close()


def test_like_rates_use_artist_label_and_tags_smoothed():
    rows = ([{"rating": 1, "artist": "Ana feat. Bo", "label": "Blue Note", "genre": "Hip-Hop"}] * 3
            + [{"rating": 0, "artist": "Cy", "label": "Polka Records", "genre": "polka",
                "tags": [{"tag": "accordion"}]}] * 3)
    rates = metadata.LikeRates.from_rows(rows)
    assert rates.prior == 0.5 and set(rates.artists) == {"ana", "cy"}
    s = metadata.score(rates, "Ana", None, "BLUE NOTE", ["hip hop", "jazz"])
    assert s.kinds == ["artist", "label", "genre"] and s.coverage == 1.0 and s.evidence == 9
    assert s.reasons == ["you liked 3 tracks by this artist", "on BLUE NOTE, whose records you like (3 of 3 liked)",
                         "hip hop, which you rate highly (3 of 3 rated tracks with these tags liked)"]
    # smoothed: three likes make a strong, not a certain, yes
    assert 0.75 < s.probability < 0.95
    heard = metadata.score(rates, "Nobody", None, None, ["Accordion"])
    assert heard.kinds == ["genre"] and heard.probability < 0.5  # a tag the listening model heard counts too
    none = metadata.score(rates, "Nobody", None, None, ["ska"])
    assert none.kinds == [] and none.probability == 0.5 and none.evidence == 0
