"""Playlists through the engine: seeds, taste radio, a path, a filter; diversity, the artist gap,
length, smooth order, reasons; saved playlists in the library and M3U8/XSPF files.

The library is real (SQLite, real short audio files on disk); each track's features are drawn
around its album's centre, so "sounds alike" has a known answer: the same album."""

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from audio_fixtures import music, write

from musicrec_engine.attributes import Attribute
from musicrec_engine.engine import Engine
from musicrec_engine.errors import MusicRecError, UsageError
from musicrec_engine.playlists import order

ALBUMS, PER_ALBUM, DIM = 6, 6, 273 + 40
GENRES = ["Jazz; Soul", "Jazz", "Rock", "Rock", "Electronic", "Folk"]


def make_library(eng, folder: Path, seed: int = 0) -> dict:
    """ALBUMS albums of PER_ALBUM tracks; tracks alternate between two artists per album. Returns
    {(album, i): track id}."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (ALBUMS, DIM)) * 2
    clip = music(0.2)
    ids = {}
    for a in range(ALBUMS):
        for i in range(PER_ALBUM):
            path = write(folder / f"Album {a}" / f"{i + 1:02d} Song {a}-{i}.wav", clip)
            vec = centres[a] + rng.normal(0, 0.4, DIM)
            attrs = {"tempo": 80 + 10 * a + 2 * i, "key": (a * 7 + i) % 12, "mode": i % 2,
                     "energy": round(0.1 + 0.15 * a, 2), "danceability": 0.5}
            res = SimpleNamespace(
                path=str(path), status="ok", error=None, duration=150.0 + 10 * i, content_hash=f"h{seed}-{a}-{i}",
                features={"mfcc": vec[:273].astype(np.float32), "stats": vec[273:].astype(np.float32)},
                feature_names={"mfcc": [f"m{k}" for k in range(273)], "stats": [f"s{k}" for k in range(40)]},
                schema_hash={"mfcc": "m1", "stats": "s1"},
                attributes={k: Attribute(float(v), "measured", 1.0) for k, v in attrs.items()})
            ids[(a, i)] = eng.library.store_analysis(res, tags={
                "title": f"Song {a}-{i}", "artist": f"Artist {a}{'ab'[i % 2]}", "album": f"Album {a}",
                "genre": GENRES[a], "year": 1970 + 5 * a})
    return ids


@pytest.fixture
def lib_ids(eng, tmp_path):
    return make_library(eng, tmp_path / "music")


def album_of(t) -> int:
    return int(t["album"].split()[-1])


def gap_kept(tracks, gap) -> bool:
    artists = [t["artist"] for t in tracks]
    return all(artists[i] not in artists[max(0, i - gap):i] for i in range(len(artists)))


def test_more_like_this_starts_with_the_seed_and_stays_near_it(eng, lib_ids):
    seed = lib_ids[(2, 0)]
    eng.rate(lib_ids[(2, 3)], 0)  # disliked: never comes back
    pl = eng.make_playlist("seeds", seeds=[seed], size=5, diversity=0.0, artist_gap=0)
    assert pl["space"] == "sound"
    ids = [t["id"] for t in pl["tracks"]]
    assert ids[0] == seed and len(ids) == 5 and len(set(ids)) == 5
    assert lib_ids[(2, 3)] not in ids
    # the four others of the seed's album that are not disliked are the closest there are
    assert {album_of(t) for t in pl["tracks"]} == {2}
    assert pl["tracks"][0]["why"] == ["the seed you chose"]
    for t in pl["tracks"][1:]:
        assert re.match(r"sounds like “Song 2-0” by Artist 2a \(similarity 0\.\d\d by sound\)", t["why"][0]), t["why"]
    # a path to the seed works as a seed too, and two seeds mix their albums
    two = eng.make_playlist("seeds", seeds=[str(eng.library.track(seed)["path"]), lib_ids[(4, 0)]], size=9,
                            diversity=0.0, artist_gap=0)
    assert {album_of(t) for t in two["tracks"]} == {2, 4}


def test_diversity_spreads_the_playlist_over_more_albums(eng, lib_ids):
    seed = lib_ids[(0, 0)]
    plain = eng.make_playlist("seeds", seeds=[seed], size=8, diversity=0.0, artist_gap=0)
    varied = eng.make_playlist("seeds", seeds=[seed], size=8, diversity=0.8, artist_gap=0)
    assert len({album_of(t) for t in varied["tracks"]}) > len({album_of(t) for t in plain["tracks"]}) + 1


def test_the_artist_gap_is_kept_or_the_playlist_says_why_it_stopped(eng, lib_ids):
    for gap in (1, 3):
        pl = eng.make_playlist("seeds", seeds=[lib_ids[(1, 0)]], size=12, artist_gap=gap)
        assert len(pl["tracks"]) == 12 and gap_kept(pl["tracks"], gap), gap
    # 12 artists in the library: a gap of 12 cannot go past 12 tracks, and says so
    pl = eng.make_playlist("seeds", seeds=[lib_ids[(1, 0)]], size=20, artist_gap=12)
    assert len(pl["tracks"]) == 12 and gap_kept(pl["tracks"], 12)
    assert any("stopped at 12 tracks" in n for n in pl["notes"])


def test_length_in_minutes(eng, lib_ids):
    pl = eng.make_playlist("filter", expression="year>=1970", minutes=20)
    secs = [t["duration"] for t in pl["tracks"]]
    assert sum(secs) >= 20 * 60 > sum(secs[:-1])
    assert pl["seconds"] == pytest.approx(sum(secs), abs=0.1)


def test_smooth_order_makes_steps_no_rougher_than_the_ranking(eng, lib_ids):
    kw = {"seeds": [lib_ids[(3, 0)]], "size": 14, "diversity": 0.5, "artist_gap": 0}
    smooth = eng.make_playlist("seeds", smooth=True, **kw)
    ranked = eng.make_playlist("seeds", smooth=False, **kw)
    assert {t["id"] for t in smooth["tracks"]} == {t["id"] for t in ranked["tracks"]}  # same tracks

    def roughness(tracks):
        rows = [{"tempo": t["tempo"], "camelot": _camelot(t["key"])} for t in tracks]
        return sum(order.transition_cost(a, b) for a, b in zip(rows, rows[1:], strict=False))

    assert roughness(smooth["tracks"]) < roughness(ranked["tracks"])
    assert any("after the previous track: tempo" in w for t in smooth["tracks"][1:] for w in t["why"])


def _camelot(label):
    return (int(label[:-1]), label[-1]) if label else None


def test_a_playlist_being_made_keeps_its_tracks_when_the_library_changes_meanwhile(eng, lib_ids, tmp_path):
    """The pool a playlist is being made from stays whole while another thread replaces it (the app
    prepares the next one after each analysis batch); a pool nothing uses any more is freed."""
    import gc
    import weakref

    in_use = eng.playlist_pool()  # what make_playlist holds while it chooses
    before = [t["id"] for t in in_use.tracks]
    make_library(eng, tmp_path / "more", seed=1)  # an analysis batch: the library changed
    assert eng.prepare_playlists() == 2 * len(before)  # the next pool, built in a worker by the app
    assert [t["id"] for t in in_use.tracks] == before
    pl = eng.make_playlist("seeds", seeds=[before[0]], size=5)
    assert len(pl["tracks"]) == 5

    unused = weakref.ref(eng.playlist_pool())
    make_library(eng, tmp_path / "again", seed=2)
    eng.prepare_playlists()
    gc.collect()
    assert unused() is None

def test_camelot_wheel():
    assert order.camelot_label(0, 1) == "8B" and order.camelot_label(9, 0) == "8A"  # C major, A minor
    assert order.camelot_label(7, 1) == "9B" and order.camelot_label(4, 0) == "9A"  # G major, E minor
    assert order.harmonic_neighbours(order.camelot(0, 1), order.camelot(7, 1))  # a fifth apart
    assert order.harmonic_neighbours(order.camelot(0, 1), order.camelot(9, 0))  # relative minor
    assert not order.harmonic_neighbours(order.camelot(0, 1), order.camelot(6, 1))  # a tritone
    assert order.tempo_steps(120, 60) == 0  # half time is the same tempo


def test_a_path_walks_from_one_album_to_another(eng, lib_ids):
    a, b = lib_ids[(0, 0)], lib_ids[(5, 0)]
    pl = eng.make_playlist("path", start=a, end=b, size=8, artist_gap=1)
    tracks = pl["tracks"]
    assert [tracks[0]["id"], tracks[-1]["id"]] == [a, b] and len(tracks) == 8
    assert gap_kept(tracks, 1)
    sp = eng.similarity.sound_space()
    pos = {int(i): n for n, i in enumerate(sp[0].tolist())}
    vec = sp[1]
    to_end = [float(vec[pos[t["id"]]] @ vec[pos[b]]) for t in tracks]
    to_start = [float(vec[pos[t["id"]]] @ vec[pos[a]]) for t in tracks]
    # it moves: the first half is nearer the start than the end, the second half the other way
    assert all(s > e for s, e in zip(to_start[1:3], to_end[1:3], strict=True))
    assert all(e > s for s, e in zip(to_start[-3:-1], to_end[-3:-1], strict=True))
    assert "step 1 of 7 from “Song 0-0”" in tracks[1]["why"][0]
    with pytest.raises(UsageError):
        eng.make_playlist("path", start=a, end=a)


def test_filter_lets_through_only_what_it_says(eng, lib_ids):
    pl = eng.make_playlist("filter", expression="tag:jazz energy<0.2", size=30)
    assert pl["tracks"] and {t["album"] for t in pl["tracks"]} == {"Album 0"}  # jazz with energy 0.1
    assert pl["tracks"][0]["why"][0] == "matches tag:jazz (jazz, soul), energy 0.10 < 0.2"
    soul = eng.make_playlist("filter", expression='tag:soul -artist:"Artist 0b"', size=30)
    assert {t["artist"] for t in soul["tracks"]} == {"Artist 0a"}
    keyed = eng.make_playlist("filter", expression="key:Am", size=30, artist_gap=0)
    assert keyed["tracks"] and all(t["key"] == "8A" for t in keyed["tracks"])
    for bad, said in [("energy<<1", "cannot read 'energy<<1'"), ("loudnes>3", "unknown attribute 'loudnes'"),
                      ("mood:sad", "unknown field 'mood'"), ("key:H", "is not a key"), ("", "empty")]:
        with pytest.raises(UsageError, match=said):
            eng.make_playlist("filter", expression=bad or " ")
    with pytest.raises(MusicRecError, match="no playable track matches"):
        eng.make_playlist("filter", expression="tag:polka")


def test_each_kind_of_filter_term_over_a_whole_pool():
    from musicrec_engine.playlists import expr

    tracks = [
        {"id": 1, "title": "Blue Train", "artist": "John Coltrane", "genre": "Hip Hop; Jazz", "path": "/m/bt.flac",
         "year": 1957, "rating": 1, "predicted_like": 0.9, "attributes": {"energy": {"value": 0.3},
                                                                           "key": {"value": 9}, "mode": {"value": 0}}},
        {"id": 2, "title": "Café", "artist": "Ana", "genre": "Rock", "path": "/m/other/cafe.mp3", "year": 2001,
         "rating": None, "predicted_like": None, "attributes": {"energy": {"value": 0.8}}},
        {"id": 3, "title": "Quiet", "artist": "Bo", "genre": None, "path": "/m/quiet.ogg", "rating": 0,
         "predicted_like": 0.2, "attributes": {}},
    ]
    cols = expr.Columns(tracks)

    def passing(expression):
        return [t["id"] for t, ok in zip(tracks, expr.mask(expr.parse(expression), cols), strict=True) if ok]

    assert passing("energy<0.5") == [1]
    assert passing("energy!=0.5") == [1, 2]  # a track without energy never passes a comparison...
    assert passing("-energy<0.5") == [2, 3]  # ...and passes its negation
    assert passing("tag:hip") == [1] and passing('tag:"hip hop"') == [1] and passing("tag:ro") == []
    assert passing("artist:coltrane year<1960") == [1] and passing("title:cafe") == [2]  # accents ignored
    assert passing("other") == [2]  # a bare word is looked for in the path too
    assert passing("key:Am") == [1] and passing("minor") == [1] and passing("major") == []
    assert (passing("liked"), passing("disliked"), passing("unrated")) == ([1], [3], [2])
    assert passing("like>0.5") == [1]
    tracks[1]["predicted_like"] = 0.7  # the taste model scored it since: read afresh, not kept
    assert passing("like>0.5") == [1, 2]


def test_taste_radio_plays_likely_likes_and_never_a_dislike(eng, lib_ids):
    with pytest.raises(MusicRecError, match="rate some tracks, then train"):
        eng.make_playlist("taste")
    # the user likes the energetic albums (4, 5) and dislikes the calm ones (0, 1)
    for a in (0, 1, 4, 5):
        for i in range(3):
            eng.rate(lib_ids[(a, i)], int(a >= 4))
    eng.train_taste(params={"ensemble": 2})
    pl = eng.make_playlist("taste", size=10, diversity=0.0)
    ids = {t["id"] for t in pl["tracks"]}
    disliked = {lib_ids[(a, i)] for a in (0, 1) for i in range(3)}
    assert not ids & disliked
    assert np.mean([album_of(t) >= 4 for t in pl["tracks"]]) >= 0.7
    top = pl["tracks"][0]
    assert top["why"][0].startswith("your taste model gives it ") and top["predicted_like"] > 0.5
    assert any(w.startswith("you liked ") and "other track" in w for t in pl["tracks"] for w in t["why"])
    fresh = eng.make_playlist("taste", size=10, exclude_rated=True)
    assert all(t["rating"] is None for t in fresh["tracks"])


def test_catalog_rows_are_only_to_discover(eng, lib_ids, tmp_path):
    import pandas as pd

    rows = pd.DataFrame({"id": [f"sp{i}" for i in range(20)], "name": [f"Far {i}" for i in range(20)],
                         "album": "Elsewhere", "album_id": "e1", "artists": "['Someone Else']",
                         "energy": 0.7, "danceability": 0.5, "valence": 0.5, "acousticness": 0.2,
                         "instrumentalness": 0.1, "liveness": 0.1, "speechiness": 0.05, "key": 1,
                         "loudness": -8.0, "mode": 1, "tempo": [100.0 + i for i in range(20)]})
    rows.to_csv(tmp_path / "cat.csv", index=False)
    eng.import_catalog(tmp_path / "cat.csv", name="cat")
    pl = eng.make_playlist("seeds", seeds=[lib_ids[(4, 1)]], size=5, discover=4)
    assert all(t["path"] and Path(t["path"]).is_file() for t in pl["tracks"])
    assert len(pl["discover"]) == 4 and all(d["catalog"] == "cat" and d["title"].startswith("Far ")
                                            for d in pl["discover"])
    assert all("path" not in d for d in pl["discover"])
    assert pl["discover"][0]["why"][0].startswith("like “Song 4-1” (")


def test_saved_playlists_keep_order_and_reasons_and_can_be_edited(eng, lib_ids):
    pl = eng.make_playlist("seeds", seeds=[lib_ids[(1, 0)]], size=6)
    saved = eng.save_playlist("Evening", pl)
    assert [t["id"] for t in saved["tracks"]] == [t["id"] for t in pl["tracks"]]
    assert saved["tracks"][1]["why"] == pl["tracks"][1]["why"] and saved["rules"]["mode"] == "seeds"
    assert saved["rules"]["seeds"] == [lib_ids[(1, 0)]] and saved["rules"]["options"]["size"] == 6
    with pytest.raises(MusicRecError, match="already exists"):
        eng.save_playlist("evening", pl)  # names are unique whatever their case
    ids = [t["id"] for t in saved["tracks"]]
    new = [ids[2], ids[0], ids[3], lib_ids[(5, 5)]]  # reorder, drop two, add one by hand
    edited = eng.set_playlist_tracks("Evening", new)
    assert [t["id"] for t in edited["tracks"]] == new
    assert edited["tracks"][0]["why"] == saved["tracks"][2]["why"] and edited["tracks"][3]["why"] == ["added by you"]
    assert eng.rename_playlist("Evening", "Late")["name"] == "Late"
    eng.close()
    again = Engine(eng.paths.data)  # a new process sees the same playlist
    try:
        assert [(p["name"], p["count"]) for p in again.playlists()] == [("Late", 4)]
        assert [t["id"] for t in again.playlist("late")["tracks"]] == new
        with pytest.raises(MusicRecError, match="not in the library"):
            again.set_playlist_tracks("Late", [999999])
        assert [t["id"] for t in again.playlist("Late")["tracks"]] == new  # nothing half written
        assert again.delete_playlist("Late") and again.playlists() == []
        with pytest.raises(MusicRecError, match="no playlist named"):
            again.playlist("Late")
        with pytest.raises(UsageError):
            again.save_playlist("  ", [new[0]])
    finally:
        again.close()


def test_export_m3u8_and_xspf_list_existing_files_in_order(eng, lib_ids, tmp_path):
    pl = eng.make_playlist("seeds", seeds=[lib_ids[(2, 0)]], size=6)
    eng.save_playlist("Out", pl)
    gone = Path(pl["tracks"][3]["path"])
    gone.unlink()  # a file deleted since: left out of the exports, and said so
    want = [t["path"] for t in pl["tracks"] if Path(t["path"]) != gone]
    out = tmp_path / "lists"
    out.mkdir()
    rep = eng.export_playlist("Out", out / "rel.m3u8", relative=True)
    assert rep["written"] == 5 and rep["skipped"] == [str(gone)]
    lines = (out / "rel.m3u8").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U" and lines[1] == "#PLAYLIST:Out"
    entries = [ln for ln in lines if ln and not ln.startswith("#")]
    infos = [ln for ln in lines if ln.startswith("#EXTINF:")]
    assert [os.path.normpath(out / e) for e in entries] == [os.path.normpath(p) for p in want]
    assert not any(os.path.isabs(e) for e in entries)
    first = pl["tracks"][0]
    assert infos[0] == f"#EXTINF:{int(first['duration'])},{first['artist']} - {first['title']}"
    eng.export_playlist("Out", out / "abs.m3u8")
    assert [ln for ln in (out / "abs.m3u8").read_text().splitlines() if not ln.startswith("#")] == want
    eng.export_playlist("Out", out / "list.xspf")
    ns = {"x": "http://xspf.org/ns/0/"}
    root = ET.parse(out / "list.xspf").getroot()
    assert root.find("x:title", ns).text == "Out"
    locs = [el.text for el in root.findall("x:trackList/x:track/x:location", ns)]
    assert locs == [Path(p).as_uri() for p in want]
    notes = [el.text for el in root.findall("x:trackList/x:track/x:annotation", ns)]
    assert notes[0] == "the seed you chose"
    with pytest.raises(UsageError, match=".m3u8 or .xspf"):
        eng.export_playlist("Out", out / "list.txt")
    with pytest.raises(MusicRecError, match="no such folder"):
        eng.export_playlist("Out", tmp_path / "nowhere" / "x.m3u8")


def test_an_older_library_gains_the_playlist_tables_and_keeps_its_tracks(tmp_path):
    import sqlite3

    from musicrec_engine.library.migrations import MIGRATIONS
    from musicrec_engine.library.store import Library

    db = tmp_path / "old.sqlite3"
    c = sqlite3.connect(db)
    c.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    version = next(i for i, m in enumerate(MIGRATIONS) if "CREATE TABLE playlists" in m)
    for m in MIGRATIONS[:version]:
        c.executescript(m)
    c.execute("INSERT INTO schema_version VALUES (?)", (version,))
    c.execute("INSERT INTO tracks (path, added_at, title) VALUES ('/x.wav', 0, 'Old')")
    c.commit()
    c.close()
    lib = Library(db)
    try:
        assert lib.schema_version >= version + 1 and [t["title"] for t in lib.tracks()] == ["Old"]
        from musicrec_engine.library import playlists as store

        assert store.save(lib, "Kept", [{"track_id": lib.tracks()[0]["id"]}])["count"] == 1
    finally:
        lib.close()


def test_the_demo_library_makes_a_playlist(eng):
    assert all(r.status == "ok" for r in eng.analyze(eng.make_demo_library(seconds=4.0)))
    first = eng.library.tracks()[0]
    pl = eng.make_playlist("seeds", seeds=[first["id"]], size=5)
    # one artist only: the default gap gives way (and says so) rather than giving one track
    assert len(pl["tracks"]) == 5 and pl["notes"] and "not enough other artists" in pl["notes"][0]
