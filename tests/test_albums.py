"""Album recommendations: the album recommender's thresholds, and the MusicBrainz search end to end (real library,
real catalog import, real musicbrainzngs against tests/fake_musicbrainz.py on 127.0.0.1)."""

import csv
import json
import threading
import time

import pytest
from conftest import SHARED_DATA, run_cli
from fake_musicbrainz import FakeMusicBrainz

from musicrec_engine.albums import scoring as alb
from musicrec_engine.engine import Engine
from musicrec_engine.library.catalogs import import_csv
from musicrec_engine.online.coverart import CoverArt
from musicrec_engine.online.musicbrainz import RELEASE_INCLUDES

TH = alb.Thresholds(liked_probability=0.5, liked_share=0.5, min_tracks=5, min_coverage=0.5)


def album(probs, title="A", total=None, attrs=None):
    tracks = [alb.AlbumTrack(f"{title} {i}", p, (attrs or {}).get(i, {})) for i, p in enumerate(probs)]
    return alb.Album(f"k:{title}", title, "Artist", "library", tracks, total_tracks=total)


# --- scoring (pure) ---------------------------------------------------------------------------
def test_an_album_is_recommended_when_enough_of_its_tracks_are_liked():
    s = alb.score_album(album([0.9, 0.8, 0.7, 0.2, 0.1, 0.6]), TH)
    assert s.recommended and s.liked == 4 and s.scored == 6 and s.liked_share == pytest.approx(4 / 6)
    stricter = alb.score_album(album([0.9, 0.8, 0.7, 0.2, 0.1, 0.6]), alb.Thresholds(liked_share=0.7))
    assert not stricter.recommended and "4 of 6 scored tracks liked (67% < 70%)" in stricter.reasons[0]


def test_each_threshold_can_hold_an_album_back():
    short = alb.score_album(album([0.9] * 4), TH)
    assert not short.recommended and "only 4 tracks (needs 5)" in short.reasons[0]
    assert alb.score_album(album([0.9] * 4), alb.Thresholds(min_tracks=4)).recommended
    assert "only 1 track (needs 5)" in alb.score_album(album([0.9]), TH).reasons[0]  # not "1 tracks"
    sparse = alb.score_album(album([0.9, 0.9, None, None, None, None]), TH)
    assert not sparse.recommended and "features for only 2 of 6 tracks" in sparse.reasons[0]
    assert alb.score_album(album([0.9, 0.9, None, None, None, None]), alb.Thresholds(min_coverage=0.3)).recommended
    lukewarm = alb.score_album(album([0.45] * 6), TH)
    assert not lukewarm.recommended
    assert alb.score_album(album([0.45] * 6), alb.Thresholds(liked_probability=0.4)).recommended
    with pytest.raises(ValueError, match="between 0 and 1"):
        alb.Thresholds(liked_share=1.5).check()


def test_ranking_by_share_then_mean_probability():
    a = album([0.9, 0.9, 0.9, 0.9, 0.2], "four fifths")
    b = album([0.6, 0.6, 0.6, 0.6, 0.6], "all lukewarm")
    c = album([0.99, 0.99, 0.99, 0.99, 0.99], "all loved")
    d = album([0.1] * 5, "disliked")
    order = [s.album.title for s in alb.rank([d, a, b, c], TH)]
    assert order == ["all loved", "all lukewarm", "four fifths", "disliked"]


def test_reasons_name_the_liked_tracks_and_what_they_share():
    loud = {i: {"energy": 0.9, "valence": 0.5} for i in range(5)}
    calm = {i: {"energy": 0.2, "valence": 0.5} for i in range(5)}
    liked = album([0.95, 0.9, 0.8, 0.7, 0.3], "Loud", attrs=loud)
    other = album([0.1] * 5, "Calm", attrs=calm)
    s = next(x for x in alb.rank([liked, other], TH) if x.album.title == "Loud")
    text = " | ".join(s.reasons)
    # each liked track with what its number means, not a bare probability
    assert ("Loud 0 (95% likely to be liked), Loud 1 (90% likely to be liked), "
            "Loud 2 (80% likely to be liked) and 1 more") in text
    assert "energetic (energy 0.9" in text and "valence" not in text  # valence does not set them apart


def test_library_albums_group_by_album_artist_and_a_rating_beats_a_prediction():
    rows = [{"id": 1, "title": "One", "artist": "X feat. Y", "album_artist": "X", "album": "Record",
             "rating": 1, "predicted_like": 0.1, "attributes": {"energy": {"value": 0.5}}},
            {"id": 2, "title": "Two", "artist": "X", "album_artist": "X", "album": "record", "rating": None,
             "predicted_like": 0.3, "attributes": {}},
            {"id": 3, "title": "Loose", "artist": "Z", "album": None, "rating": 1}]
    (a,) = alb.library_albums(rows)
    assert [t.probability for t in a.tracks] == [1.0, 0.3] and a.tracks[0].attributes == {"energy": 0.5}


def test_catalog_albums_count_the_tracks_that_cannot_be_scored():
    rows = [{"id": i, "catalog_id": 1, "album_id": "A", "album": "Alb", "artist": "X", "title": f"t{i}",
             "rating": None, "predicted_like": 0.9 if i < 2 else None} for i in range(6)]
    rows += [{"id": 9, "catalog_id": 1, "album_id": "B", "album": "Unheard", "artist": "Y", "title": "u",
              "rating": None, "predicted_like": None}]
    scored, totals = alb.scored_catalog_rows([rows[:3], rows[3:]])  # two pages
    assert len(scored) == 2 and {k: t["n"] for k, t in totals.items()} == {(1, "A"): 6, (1, "B"): 1}
    a, b = sorted(alb.catalog_albums(scored, totals), key=lambda a: a.title)
    s = alb.score_album(a, TH)
    assert s.total == 6 and s.coverage == pytest.approx(2 / 6) and not s.recommended
    assert (b.title, b.artist, b.total, b.tracks) == ("Unheard", "Y", 1, [])  # listed, though nothing to score


def test_an_album_found_in_several_places_is_listed_once():
    mine = alb.Album("l", "Same Record", "The Band", "library", [])
    mb = alb.Album("m", "Same Record (Remastered)", "the band", "musicbrainz", [])
    cat = alb.Album("c", "Same Record", "The Band", "catalog", [])
    other = alb.Album("o", "Other Record", "The Band", "catalog", [])
    assert [a.key for a in alb.without_duplicates([cat, mb, other, mine])] == ["l", "o"]
    assert [a.key for a in alb.without_duplicates([cat, mb])] == ["m"]


# --- MusicBrainz discovery end to end --------------------------------------------------------
COLUMNS = ["mbid", "artist", "recording_title", "release_title", "bpm", "key_key", "key_scale", "danceable",
           "release_year"]


def write_catalog(path, art, album_indexes):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i in album_indexes:
            a = art.albums[i]
            for n, (rid, title, _ms) in enumerate(a.tracks):
                w.writerow([rid, art.name, title, a.title, 100 + 10 * i + n, "C", "major", 0.1 * (i % 10), a.year])


@pytest.fixture
def fake_mb():
    with FakeMusicBrainz() as mb:
        yield mb


@pytest.fixture
def mb_env(fake_mb, monkeypatch, home):
    monkeypatch.setenv("MUSICREC_MB_HOST", fake_mb.host)
    monkeypatch.setenv("MUSICREC_MB_RATE", "20")
    monkeypatch.setenv("MUSICREC_CONTACT", "tester@example.com")
    return fake_mb


def twenty_albums(fake_mb, home, tmp_path):
    """20 albums of 6 tracks: 1-5 all liked, 6-10 all disliked, 11-20 unknown to us."""
    art = fake_mb.add_artist("Twenty", tags=("indie",), albums=20, tracks=6, first_year=1990)
    eng = Engine(home)
    write_catalog(tmp_path / "ab.csv", art, range(10))
    import_csv(eng.library, tmp_path / "ab.csv", name="seed004")
    ratings = {rid: int(i < 5) for i in range(10) for rid, _, _ in art.albums[i].tracks}
    assert eng.library.rate_by_mbid(ratings)["matched"] == 60
    return art, eng


def test_a_twenty_album_search_costs_one_request_per_album_and_none_when_repeated(mb_env, home, tmp_path):
    art, eng = twenty_albums(mb_env, home, tmp_path)
    messages = []
    report = eng.search_albums(artist="Twenty", progress=lambda d, t, m: messages.append(m))
    # one search, one release lookup per album, and the artist's tags for the 10 albums that
    # cannot be judged by sound
    assert len(mb_env.requests) == 1 + 20 + 1
    assert [r.path for r in mb_env.requests].count(f"/ws/2/artist/{art.id}") == 1
    assert report["musicbrainz"]["requests"] == 22 and report["errors"] == []
    recommended = [a["title"] for a in report["albums"] if a["recommended"]]
    assert sorted(recommended) == sorted(art.albums[i].title for i in range(5))
    unknown = [a for a in report["albums"] if a["title"] == art.albums[15].title][0]
    # judged by metadata instead: half of the artist's 60 rated tracks were liked, so no
    assert unknown["coverage"] == 0 and unknown["basis"] == "metadata" and not unknown["recommended"]
    assert unknown["reasons"][0] == "by metadata, like probability 0.50 < 0.65"
    assert "you liked 30 of 60 tracks by this artist" in unknown["reasons"]
    assert report["musicbrainz"]["albums_with_enough_coverage"] == 10
    assert report["musicbrainz"]["tracks_matched"] == 60 and report["musicbrainz"]["tracks"] == 120
    assert "album 1 of 20" in messages[0] and "about 1 s left" in messages[0]  # 20 lookups at 20/s

    again = eng.search_albums(artist="Twenty")
    assert len(mb_env.requests) == 22  # everything came from the cache
    assert [a["key"] for a in again["albums"]] == [a["key"] for a in report["albums"]]
    eng.close()


def test_search_by_tag_and_years_and_predictions_instead_of_ratings(mb_env, home, tmp_path):
    art = mb_env.add_artist("Predicted", tags=("shoegaze",), albums=4, tracks=5, first_year=2000)
    mb_env.add_artist("Other Genre", tags=("polka",), albums=2, tracks=5, first_year=2000)
    eng = Engine(home)
    write_catalog(tmp_path / "ab.csv", art, range(4))
    import_csv(eng.library, tmp_path / "ab.csv", name="seed004")
    rows = {r["mbid"]: r["id"] for r in eng.library.catalog_tracks()}
    liked_album = art.albums[2]
    eng.library.set_catalog_predictions({rows[rid]: (0.8 if a is liked_album else 0.2)
                                         for a in art.albums for rid, _, _ in a.tracks})
    report = eng.search_albums(tag="shoegaze", years=(2001, 2003))
    titles = [a["title"] for a in report["albums"]]
    assert sorted(titles) == sorted(a.title for a in art.albums[1:4])  # 2000 is outside, polka never
    assert [a["title"] for a in report["albums"] if a["recommended"]] == [liked_album.title]
    assert report["albums"][0]["mean_probability"] == pytest.approx(0.8)
    eng.close()


def test_liked_artists_seed_the_search_and_a_503_burst_loses_nothing(mb_env, home, tmp_path):
    art, eng = twenty_albums(mb_env, home, tmp_path)
    kindred = mb_env.add_artist("Kindred", tags=("indie",), albums=3, first_year=1995)  # same tag, same years
    mb_env.add_artist("Later Kindred", tags=("indie",), albums=2, first_year=2015)  # same tag, later
    mb_env.add_artist("Stranger", tags=("polka",), albums=3, first_year=1995)
    mb_env.fail_next(3, status=503)
    report = eng.albums(source="musicbrainz", backoff_base=0.05)
    mb = [a for a in report["albums"] if a["source"] == "musicbrainz"]
    assert len(mb) == 23 and {a["artist"] for a in mb} == {"Twenty", "Kindred"}
    assert [r.status for r in mb_env.requests[:4]] == [503, 503, 503, 200]
    # artist look-up, the artist's albums, the tag's albums, then one look-up per album
    paths = [r.path for r in mb_env.requests if r.status == 200]
    assert paths[:3] == ["/ws/2/artist/", "/ws/2/release-group/", "/ws/2/release-group/"]
    # ...and the tags of the two artists whose albums are judged by metadata (Twenty's unheard half, Kindred)
    assert len(paths) == 26 + 2 and sorted(paths[-2:]) == sorted(f"/ws/2/artist/{a.id}" for a in (art, kindred))
    assert report["errors"] == []
    # `all` adds the MusicBrainz albums from the cache only: no new request
    n = len(mb_env.requests)
    everything = eng.albums(source="all")
    assert len(mb_env.requests) == n
    # the seed catalog's partial albums are the same records: listed once, with MusicBrainz's full track list
    assert len(everything["albums"]) == 23 and {a["source"] for a in everything["albums"]} == {"musicbrainz"}
    assert all(a["cover_url"].endswith(f"/release/{a['release_id']}/front-250") for a in everything["albums"])
    eng.close()


def test_losing_the_network_midway_keeps_the_albums_found_so_far(mb_env, home, tmp_path):
    art, eng = twenty_albums(mb_env, home, tmp_path)

    def progress(done, total, msg):
        if done == 3:
            mb_env.close()

    report = eng.search_albums(artist="Twenty", progress=progress)
    assert len(report["albums"]) == 3
    assert report["errors"][0]["item"] == "the remaining 17 albums"
    assert "cannot reach MusicBrainz" in report["errors"][0]["error"]
    eng.close()


def test_one_bad_album_is_reported_and_the_rest_still_scored(mb_env, home, tmp_path):
    art, eng = twenty_albums(mb_env, home, tmp_path)
    eng.search_albums(artist="Twenty", progress=None)  # warm the cache except...
    key = eng.musicbrainz()._key("get_release_by_id", {"id": art.albums[3].release_id,
                                                       "includes": RELEASE_INCLUDES})
    eng.library.cache_put(key, b"", -1)  # ...one album (expired at once), which now breaks
    mb_env.malformed_next(1)
    report = eng.search_albums(artist="Twenty")
    assert len(report["albums"]) == 19 and len(report["errors"]) == 1
    assert art.albums[3].title in report["errors"][0]["item"]
    assert "not valid ws/2 XML" in report["errors"][0]["error"]
    eng.close()


def test_a_refused_request_is_one_album_s_error_not_the_search_s(mb_env, home, tmp_path):
    art, eng = twenty_albums(mb_env, home, tmp_path)
    eng.search_albums(artist="Twenty")
    key = eng.musicbrainz()._key("get_release_by_id", {"id": art.albums[7].release_id,
                                                       "includes": RELEASE_INCLUDES})
    eng.library.cache_put(key, b"", -1)  # expire that one album
    mb_env.fail_next(1, status=400)
    report = eng.search_albums(artist="Twenty")
    assert len(report["albums"]) == 19
    assert report["errors"] == [{"item": f"album {art.albums[7].title} ({art.albums[7].release_id})",
                                 "error": "MusicBrainz refused the request (HTTP 400 Bad Request)"}]
    eng.close()


def test_cancel_stops_the_search_and_keeps_what_was_found(mb_env, home, tmp_path):
    art, eng = twenty_albums(mb_env, home, tmp_path)
    cancel = threading.Event()

    def progress(done, total, msg):
        if done == 3:
            cancel.set()

    report = eng.search_albums(artist="Twenty", progress=progress, cancel=cancel)
    assert report["cancelled"] and 2 <= len(report["albums"]) <= 4
    assert len(mb_env.requests) <= 5
    eng.close()


def test_cli_search_prints_recommended_albums_as_json(mb_env, home, tmp_path):
    art, eng = twenty_albums(mb_env, home, tmp_path)
    eng.close()
    r = run_cli("albums", "search", "--artist", "Twenty", "--json", "--min-tracks", "6", home=home)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert sorted(a["title"] for a in out["albums"]) == sorted(art.albums[i].title for i in range(5))
    assert "s left" in r.stderr
    strict = run_cli("albums", "search", "--artist", "Twenty", "--min-tracks", "7", home=home)
    assert strict.returncode == 0 and "No album passes the thresholds yet" in strict.stdout
    assert len(mb_env.requests) == 22  # the second run came from the cache


def test_cli_bad_input_is_one_clear_line(mb_env, home, monkeypatch):
    r = run_cli("albums", "search", home=home)
    assert r.returncode == 2 and "nothing to search for" in r.stderr
    r = run_cli("albums", "search", "--artist", "X", "--years", "90s", home=home)
    assert r.returncode == 2 and "years must look like 1990-1999" in r.stderr
    monkeypatch.delenv("MUSICREC_CONTACT")
    r = run_cli("albums", "search", "--artist", "X", home=home)
    assert r.returncode == 2 and "contact address" in r.stderr and "Traceback" not in r.stderr
    assert mb_env.requests == []
    mb_env.add_artist("Known", albums=1)
    r = run_cli("albums", "search", "--artist", "Known", "--contact", "me@example.org", "--all", home=home)
    assert r.returncode == 0 and "Known Album 1" in r.stdout, r.stderr
    r = run_cli("albums", "search", "--artist", "Known", "--years", "1990", "--all", home=home)  # remembered
    assert r.returncode == 0 and "Known Album 1" in r.stdout, r.stderr
    # two searches and one release look-up (the second run found the release in the cache)
    assert all("me@example.org" in q.user_agent for q in mb_env.requests) and len(mb_env.requests) == 3


SPOTIFY_COLS = ["id", "name", "album", "album_id", "artists", "danceability", "energy", "key", "loudness", "mode",
                "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo", "year"]


@pytest.mark.slow  # trains the real taste model (torch, 5-fold CV): about 30 s
def test_unrated_albums_are_scored_by_the_trained_taste_model(home, tmp_path):
    """Seed 004's whole flow: rate tracks, train, predict the catalog, recommend albums nobody rated."""
    import random

    rnd = random.Random(1)
    path = tmp_path / "catalog.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SPOTIFY_COLS)
        for a in range(12):
            loud = a % 2 == 0  # the user likes loud, energetic albums
            for t in range(8):
                e = rnd.uniform(0.75, 0.95) if loud else rnd.uniform(0.05, 0.25)
                w.writerow([f"t{a}_{t}", f"Song {a}.{t}", f"Album {a}", f"al{a}", f"['Artist {a}']", 0.5, round(e, 3),
                            5, -8 if loud else -20, 1, 0.05, round(1 - e, 3), 0.1, 0.1, 0.5, 120 if loud else 80, 2000])
    eng = Engine(home)
    import_csv(eng.library, path, name="c")
    for r in eng.library.catalog_tracks():
        if r["album_id"] in {f"al{i}" for i in range(6)}:  # albums 0-5 rated, 6-11 never seen
            eng.library.set_catalog_rating(r["id"], int(r["energy"] > 0.5))
    eng.train_taste(params={"ensemble": 1, "epochs": 60})
    assert eng.predict_catalog() == 96
    report = eng.albums("catalog")
    unrated = {a["title"]: a for a in report["albums"] if int(a["title"].split()[1]) >= 6}
    assert {t for t, a in unrated.items() if a["recommended"]} == {"Album 6", "Album 8", "Album 10"}
    assert all(t["rated"] is None and t["probability"] > 0.5 for t in unrated["Album 8"]["tracks"])
    eng.close()


SEED004 = SHARED_DATA / "album-recommender"


@pytest.mark.skipif(not (SEED004 / "my_liked_and_disliked_tracks.csv").is_file(),
                    reason=f"the album recommender's data not found in {SEED004}")
def test_seed_004_data_gives_albums_whose_ratings_carry_them(home):
    eng = Engine(home)
    import_csv(eng.library, SEED004 / "liked_and_disliked_tracks_with_acoustic_and_music_brainz_features.csv")
    with open(SEED004 / "my_liked_and_disliked_tracks.csv") as f:
        liked = {r["mbid"]: int(r["liked"]) for r in csv.DictReader(f)}
    eng.library.rate_by_mbid(liked)
    report = eng.albums("catalog", alb.Thresholds(min_tracks=3))
    rows = eng.library.catalog_tracks()
    recommended = [a for a in report["albums"] if a["recommended"]]
    assert recommended and all(a["total"] >= 3 for a in recommended)
    for a in recommended:  # the share comes from the user's own likes in the CSV
        mine = [liked[r["mbid"]] for r in rows if r["album"] == a["title"] and r["artist"] == a["artist"]]
        assert sum(mine) / len(mine) >= 0.5 and len(mine) == a["scored"]
    held_back = [a for a in report["albums"] if a["total"] >= 3 and not a["recommended"]]
    assert held_back and all(a["liked_share"] < 0.5 for a in held_back)
    eng.close()


def test_cli_asks_for_the_contact_address_at_a_terminal_and_keeps_it(mb_env, home, monkeypatch):
    import os
    import pty
    import subprocess
    import sys

    from conftest import ROOT

    mb_env.add_artist("Asked", albums=1)
    monkeypatch.delenv("MUSICREC_CONTACT")
    master, slave = pty.openpty()
    os.write(master, b"typed@example.org\n")
    r = subprocess.run([sys.executable, "-m", "musicrec_engine", "albums", "search", "--artist", "Asked", "--all"],
                       stdin=slave, capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env={**os.environ, "MUSICREC_HOME": str(home)})
    os.close(master)
    os.close(slave)
    assert "contact address" in r.stderr and r.returncode == 0, r.stderr
    assert "Asked Album 1" in r.stdout
    assert all("typed@example.org" in q.user_agent for q in mb_env.requests)
    assert Engine(home).musicbrainz_settings().contact == "typed@example.org"


# --- cover art ---------------------------------------------------------------------------------
def test_cover_art_is_fetched_in_the_background_and_kept_on_disk(fake_mb, tmp_path):
    art = fake_mb.add_artist("Covers", albums=2)
    bare = fake_mb.add_artist("No Covers", albums=1, has_art=False)
    covers = CoverArt(tmp_path / "covers", base_url=fake_mb.url, interval=0.05)
    done = {}
    ready = threading.Event()

    def on_ready(rid, path):
        done[rid] = path
        if len(done) == 2:
            ready.set()

    fake_mb.slow_next(1, 0.5)
    t = time.monotonic()
    assert covers.get(art.albums[0].release_id, on_ready) is None
    assert covers.get(bare.albums[0].release_id, on_ready) is None
    assert time.monotonic() - t < 0.2  # never blocks the caller
    assert ready.wait(5)
    assert done[art.albums[0].release_id].read_bytes().startswith(b"\x89PNG")
    assert done[bare.albums[0].release_id] is None
    n = len(fake_mb.requests)
    assert covers.get(art.albums[0].release_id) == done[art.albums[0].release_id]
    assert covers.get(bare.albums[0].release_id) is None
    time.sleep(0.1)
    assert len(fake_mb.requests) == n  # both answers remembered on disk
    covers.close()
