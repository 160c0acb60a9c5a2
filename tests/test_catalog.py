"""Catalog import: the four schemas, bad files, re-import, and a killed import run again."""

import csv
import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SHARED_DATA, run_cli

from musicrec_engine.library.catalogs import CatalogError, import_csv
from musicrec_engine.library.store import Library

SPOTIFY_HEADER = ["id", "name", "album", "album_id", "artists", "artist_ids", "track_number", "disc_number",
                  "explicit", "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
                  "instrumentalness", "liveness", "valence", "tempo", "duration_ms", "time_signature", "year",
                  "release_date"]
FEATURES = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness", "instrumentalness",
            "liveness", "valence", "tempo"]


def spotify_row(i, energy=0.5, artist=None, album=None):
    return {"id": f"id{i:06d}", "name": f"Song {i}", "album": album or f"Album {i // 10}",
            "album_id": f"alb{i // 10:05d}", "artists": str([artist or f"Artist {i // 10}", "Guest"]),
            "artist_ids": "['x']", "track_number": i % 10 + 1, "disc_number": 1, "explicit": False,
            "danceability": 0.5, "energy": energy, "key": i % 12, "loudness": -8.0, "mode": i % 2,
            "speechiness": 0.05, "acousticness": 0.3, "instrumentalness": 0.1, "liveness": 0.1, "valence": 0.5,
            "tempo": 120.0, "duration_ms": 200000, "time_signature": 4.0, "year": 2001, "release_date": "2001-01-01"}


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


@pytest.fixture
def lib(tmp_path):
    lib = Library(tmp_path / "lib.sqlite3")
    yield lib
    lib.close()


def test_spotify_schema_rows_artists_and_albums(tmp_path, lib):
    f = write_csv(tmp_path / "tracks_features.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(25)])
    rep = import_csv(lib, f, name="big")
    assert (rep.schema, rep.imported, rep.duplicates, rep.bad_values) == ("spotify-1.2m", 25, 0, 0)
    rows = lib.catalog_tracks(rep.catalog_id)
    r = rows[3]
    assert (r["title"], r["artist"], r["artists"], r["album_id"]) == ("Song 3", "Artist 0", "Artist 0, Guest", "alb00000")
    assert r["duration"] == 200.0 and r["key"] == 3 and r["mode"] == 1 and r["year"] == 2001
    assert r["attributes"]["energy"] == {"value": 0.5, "provenance": "catalog", "confidence": None}
    albums = lib.albums(rep.catalog_id)
    assert sorted(a["track_count"] for a in albums) == [5, 10, 10]


@pytest.mark.skipif(not (SHARED_DATA / "spotify-sample").is_dir(), reason="shared data folder not present")
def test_real_spotify_sample(lib):
    rep = import_csv(lib, SHARED_DATA / "spotify-sample" / "tracks_features_sample_1k.csv")
    assert rep.schema == "spotify-1.2m" and rep.imported == 1000 and rep.bad_values == 0
    quoted = [r for r in lib.catalog_tracks(rep.catalog_id) if r["external_id"] == "36J67Uww4phqJiXYfCHJU7"][0]
    assert quoted["artist"] == "John O'Gallagher" and "Tyshawn Sorey" in quoted["artists"]


@pytest.mark.skipif(not (SHARED_DATA / "album-recommender").is_dir(), reason="shared data folder not present")
def test_seed004_acousticbrainz_csv_and_mbid_ratings(tmp_path, lib):
    d = SHARED_DATA / "album-recommender"
    rep = import_csv(lib, d / "liked_and_disliked_tracks_with_acoustic_and_music_brainz_features.csv", name="ab")
    # the file repeats 92 recordings: each is kept once
    assert rep.schema == "acousticbrainz" and rep.imported == 1425 and rep.duplicates == 92
    r = lib.catalog_tracks(rep.catalog_id, limit=1)[0]
    assert r["mbid"] == "a4ce8277-a761-4b15-a4da-9ce11ae4770a" and r["key"] == 7 and r["mode"] == 1
    assert r["tempo"] == pytest.approx(131.57, abs=0.01) and r["album"] == "Sound & Color"
    assert lib.catalog_extra(r["id"])["mfcc_13"] == pytest.approx(7.0422, abs=1e-3)
    with open(d / "my_liked_and_disliked_tracks.csv") as f:
        given = {row["mbid"]: int(row["liked"]) for row in csv.DictReader(f)}
    res = lib.rate_by_mbid(given)
    assert res["matched"] == 1425
    rows = lib.rating_rows()
    assert len(rows) == 1425 and all(r["rating"] == given[r["mbid"]] for r in rows)


def test_114k_and_exportify_schemas(tmp_path, lib):
    h114 = ["", "track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "explicit",
            *FEATURES, "time_signature", "track_genre"]
    rows = [{"": i, "track_id": f"t{i}", "artists": "A;B", "album_name": "LP", "track_name": f"S{i}", "popularity": 1,
             "duration_ms": 1000, "explicit": False, **dict.fromkeys(FEATURES, 0.5), "key": 2, "mode": 1,
             "loudness": -5, "tempo": 100, "time_signature": 4, "track_genre": g} for i, g in [(0, "rock"), (1, "pop")]]
    rows.append({**rows[0], "": 2, "track_genre": "indie"})  # the 114k file lists a track once per genre
    rep = import_csv(lib, write_csv(tmp_path / "dataset.csv", h114, rows))
    assert rep.schema == "spotify-114k" and rep.imported == 2 and rep.duplicates == 1
    t = lib.catalog_tracks(rep.catalog_id)[0]
    assert (t["artist"], t["artists"], t["genre"], t["album_id"]) == ("A", "A, B", "rock", "A|LP")

    hx = ["Track URI", "Track Name", "Album Name", "Artist Name(s)", "Release Date", "Duration (ms)", "Popularity",
          "Added By", "Added At", "Genres", "Danceability", "Energy", "Key", "Loudness", "Mode", "Speechiness",
          "Acousticness", "Instrumentalness", "Liveness", "Valence", "Tempo", "Time Signature"]
    xrow = {"Track URI": "spotify:track:abc", "Track Name": "Tune", "Album Name": "Rec", "Artist Name(s)": "X,Y",
            "Release Date": "1999-04-01", "Duration (ms)": 180000, "Popularity": 3, "Added By": "", "Added At": "",
            "Genres": "jazz", "Danceability": 0.7, "Energy": 0.2, "Key": 5, "Loudness": -12, "Mode": 0,
            "Speechiness": 0.04, "Acousticness": 0.9, "Instrumentalness": 0.8, "Liveness": 0.1, "Valence": 0.3,
            "Tempo": 90, "Time Signature": 4}
    rep = import_csv(lib, write_csv(tmp_path / "playlist.csv", hx, [xrow]))
    assert rep.schema == "exportify" and rep.imported == 1
    t = lib.catalog_tracks(rep.catalog_id)[0]
    assert (t["artist"], t["year"], t["duration"], t["energy"], t["key"]) == ("X", 1999, 180.0, 0.2, 5)


def test_unknown_schema_lists_expected_columns(tmp_path, lib):
    f = write_csv(tmp_path / "x.csv", ["id", "name", "energy"], [{"id": 1, "name": "a", "energy": 0.5}])
    with pytest.raises(CatalogError, match="unknown catalog format.*Spotify 1.2M.*danceability.*track_genre"):
        import_csv(lib, f)
    header = [c for c in SPOTIFY_HEADER if c != "valence"]  # one feature column missing
    f = write_csv(tmp_path / "y.csv", header, [{k: v for k, v in spotify_row(1).items() if k != "valence"}])
    with pytest.raises(CatalogError, match="unknown catalog format"):
        import_csv(lib, f)
    assert lib.catalogs() == []


def test_bad_numbers_are_unknown_not_fatal(tmp_path, lib):
    rows = [spotify_row(i) for i in range(5)]
    rows[1]["energy"] = "loud"
    rows[2]["tempo"] = "1,20"
    rows[3]["energy"] = 7.5  # outside 0..1
    rows[4]["id"] = ""
    rep = import_csv(lib, write_csv(tmp_path / "t.csv", SPOTIFY_HEADER, rows))
    assert rep.imported == 4 and rep.skipped == 1 and rep.bad_values == 3
    got = {r["external_id"]: r for r in lib.catalog_tracks(rep.catalog_id)}
    assert got["id000001"]["energy"] is None and got["id000001"]["danceability"] == 0.5
    assert got["id000002"]["tempo"] is None and got["id000003"]["energy"] is None
    assert "3 values that were not valid numbers" in rep.summary()


def test_zero_rows_empty_file_and_wrong_encoding(tmp_path, lib):
    rep = import_csv(lib, write_csv(tmp_path / "none.csv", SPOTIFY_HEADER, []))
    assert rep.imported == 0 and "no rows" in " ".join(rep.messages)
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(CatalogError, match="empty"):
        import_csv(lib, tmp_path / "empty.csv")
    with pytest.raises(CatalogError, match="no such file"):
        import_csv(lib, tmp_path / "absent.csv")
    rows = [spotify_row(i) for i in range(3)]
    rows[2]["name"] = "Café Ñu"
    rep = import_csv(lib, write_csv(tmp_path / "latin.csv", SPOTIFY_HEADER, rows, encoding="cp1252"),
                     chunk_rows=1)
    assert rep.imported == 3 and rep.duplicates == 0
    assert [r["title"] for r in lib.catalog_tracks(rep.catalog_id)][2] == "Café Ñu"


def test_reimport_keeps_ids_and_ratings_and_drops_removed_rows(tmp_path, lib):
    f = write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(10)])
    rep = import_csv(lib, f, name="c")
    rows = lib.catalog_tracks(rep.catalog_id)
    lib.set_catalog_rating(rows[0]["id"], 1)
    lib.set_catalog_rating(rows[9]["id"], 0)
    write_csv(f, SPOTIFY_HEADER, [spotify_row(i, energy=0.9) for i in range(9)])  # last row gone
    rep2 = import_csv(lib, f, name="c")
    assert rep2.catalog_id == rep.catalog_id and rep2.imported == 9
    again = lib.catalog_tracks(rep.catalog_id)
    assert again[0]["id"] == rows[0]["id"] and again[0]["rating"] == 1 and again[0]["energy"] == 0.9
    assert len(lib.catalogs()) == 1 and lib.pending_ratings() == 1  # the removed row's dislike waits
    write_csv(f, SPOTIFY_HEADER, [spotify_row(i) for i in range(10)])
    import_csv(lib, f, name="c")
    assert [r["rating"] for r in lib.catalog_tracks(rep.catalog_id)][9] == 0


def test_killed_import_then_rerun_is_consistent(tmp_path):
    f = write_csv(tmp_path / "big.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(20_000)])
    db = tmp_path / "lib.sqlite3"
    code = ("import sys; from musicrec_engine.library.store import Library; from musicrec_engine.library.catalogs import import_csv\n"
            "def p(d, t, m): print(m, flush=True)\n"
            "import_csv(Library(sys.argv[1]), sys.argv[2], name='big', progress=p, chunk_rows=2000)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(f)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    for _ in range(3):  # a few chunks are in
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lib = Library(db)
    cat = lib.catalog("big")
    assert cat["complete"] == 0 and lib.catalog_tracks(cat["id"]) == []  # half an import is never shown
    rep = import_csv(lib, f, name="big")
    assert rep.imported == 20_000 and lib.catalog("big")["complete"] == 1
    assert lib.query("SELECT COUNT(*), COUNT(DISTINCT external_id) FROM catalog_tracks")[0] == (20_000, 20_000)


def test_cli_import_and_similar(tmp_path, home):
    f = write_csv(tmp_path / "tracks_features.csv", SPOTIFY_HEADER,
                  [spotify_row(i, energy=i / 40) for i in range(40)])
    r = run_cli("catalog", "import", str(f), "--name", "mine", "--json", home=home)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["imported"] == 40 and rep["schema"] == "spotify-1.2m"
    r = run_cli("catalog", "import", str(tmp_path / "nope.csv"), home=home)
    assert r.returncode == 1 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("similar", "--catalog-track", "20", "--top", "3", "--json", home=home)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert len(res) == 3 and all(x["source"] == "catalog" and x["space"] == "attributes" for x in res)
    assert 20 not in [x["id"] for x in res] and res[0]["score"] >= res[-1]["score"]
    r = run_cli("similar", home=home)
    assert r.returncode == 2 and "exactly one" in r.stderr


def test_import_progress_and_cancel(tmp_path, lib):
    import threading

    f = write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(100)])
    seen = []
    cancel = threading.Event()

    def progress(done, total, msg):
        seen.append((done, total))
        if len(seen) == 2:
            cancel.set()

    t = time.perf_counter()
    rep = import_csv(lib, f, name="c", progress=progress, cancel=cancel, chunk_rows=10)
    assert rep.cancelled and time.perf_counter() - t < 5
    assert seen[0][1] == f.stat().st_size and lib.catalog("c")["complete"] == 0
    rep = import_csv(lib, f, name="c")
    assert rep.imported == 100 and not rep.cancelled


def test_paging_through_a_catalog_by_id(tmp_path, lib):
    rep = import_csv(lib, write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(25)]))
    pages = list(lib.iter_catalog_tracks(rep.catalog_id, page=10))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [r["external_id"] for p in pages for r in p] == [f"id{i:06d}" for i in range(25)]


def test_likes_by_mbid_before_the_catalog_and_after_a_fresh_start(tmp_path):
    from musicrec_engine.library.store import start_afresh

    db = tmp_path / "lib.sqlite3"
    lib = Library(db)
    mbids = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(3)]
    assert lib.rate_by_mbid({mbids[0]: 1, mbids[1]: 0}) == {"matched": 0, "unmatched": 2}
    header = ["mbid", "artist", "recording_title", "release_title", "bpm", "key_key", "key_scale", "liked"]
    rows = [{"mbid": m, "artist": "A", "recording_title": f"R{i}", "release_title": "LP", "bpm": 100 + i,
             "key_key": "F#", "key_scale": "minor", "liked": 1} for i, m in enumerate(mbids)]
    rep = import_csv(lib, write_csv(tmp_path / "ab.csv", header, rows), name="ab")
    got = {r["mbid"]: r["rating"] for r in lib.catalog_tracks(rep.catalog_id)}
    assert got == {mbids[0]: 1, mbids[1]: 0, mbids[2]: None}
    assert lib.catalog_tracks(rep.catalog_id)[0]["key"] == 6 and lib.catalog_tracks(rep.catalog_id)[0]["mode"] == 0
    lib.close()
    info = start_afresh(db)  # e.g. after a damaged file: the catalog must be imported again...
    assert info["ratings_saved"] == 2
    lib = Library(db)
    assert lib.catalogs() == []
    rep = import_csv(lib, tmp_path / "ab.csv", name="ab")  # ...and its likes come back with it
    assert {r["mbid"]: r["rating"] for r in lib.catalog_tracks(rep.catalog_id)}[mbids[1]] == 0
    assert sorted(r["rating"] for r in lib.rating_rows()) == [0, 1]


def test_cli_list_remove_and_reset_library(tmp_path, home):
    f = write_csv(tmp_path / "tracks_features.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(5)])
    assert run_cli("catalog", "import", str(f), "--name", "five", home=home).returncode == 0
    r = run_cli("catalog", "list", "--json", home=home)
    assert [(c["name"], c["row_count"], c["complete"]) for c in json.loads(r.stdout)] == [("five", 5, 1)]
    r = run_cli("catalog", "remove", "nope", home=home)
    assert r.returncode == 2 and "no catalog named 'nope'" in r.stderr
    assert run_cli("catalog", "remove", "five", home=home).returncode == 0
    assert json.loads(run_cli("catalog", "list", "--json", home=home).stdout) == []
    db = home / "library.sqlite3"
    for suffix in ("-wal", "-shm"):
        (home / f"library.sqlite3{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"garbage" * 1000)
    r = run_cli("catalog", "list", home=home)
    assert r.returncode == 1 and "damaged" in r.stderr and "reset-library" in r.stderr
    r = run_cli("catalog", "reset-library", "--json", home=home)
    assert r.returncode == 0, r.stderr
    assert (home / json.loads(r.stdout)["set_aside"]).exists()
    assert run_cli("catalog", "list", "--json", home=home).returncode == 0


def test_a_cancelled_reimport_keeps_every_previous_row_and_rating_visible(tmp_path, lib):
    import threading

    f = write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(10)])
    rep = import_csv(lib, f, name="c")
    before = lib.catalog_tracks(rep.catalog_id)
    lib.set_catalog_rating(before[7]["id"], 1)  # a row the cancelled re-import never reaches
    write_csv(f, SPOTIFY_HEADER, [spotify_row(i, energy=0.9) for i in range(10)])
    cancel = threading.Event()
    rep2 = import_csv(lib, f, name="c", chunk_rows=4, cancel=cancel,
                      progress=lambda done, total, msg: cancel.set())  # after the first 4-row chunk
    assert rep2.cancelled and any("keeps its previous contents" in m for m in rep2.messages)
    after = lib.catalog_tracks(rep.catalog_id)
    assert [(r["id"], r["energy"]) for r in after] == [(r["id"], 0.5) for r in before]
    assert after[7]["rating"] == 1 and lib.rating_rows()[0]["id"] == before[7]["id"]
    rep3 = import_csv(lib, f, name="c", chunk_rows=4)  # run again: the new contents, same ids and rating
    done = lib.catalog_tracks(rep.catalog_id)
    assert rep3.imported == 10 and [r["id"] for r in done] == [r["id"] for r in before]
    assert {r["energy"] for r in done} == {0.9} and done[7]["rating"] == 1
