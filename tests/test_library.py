"""The library database: what other parts of MusicRec store and read back, and bad database files."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from audio_fixtures import music, write

from musicrec_engine.attributes import Attribute
from musicrec_engine.library.store import Library, LibraryError, start_afresh


def _result(path, h="hash1", tempo=120.0, mfcc_fill=1.0):
    return SimpleNamespace(
        path=str(path), status="ok", error=None, duration=2.0, content_hash=h,
        features={"mfcc": np.full(273, mfcc_fill, np.float32), "stats": np.arange(4, dtype=np.float32)},
        feature_names={"mfcc": [f"m{i}" for i in range(273)], "stats": ["a", "b", "c", "d"]},
        schema_hash={"mfcc": "mfcc-v1", "stats": "stats-v1"},
        attributes={"tempo": Attribute(tempo, "measured", 0.9), "energy": Attribute(0.4, "estimated", 0.3)})


@pytest.fixture
def song(tmp_path):
    return write(tmp_path / "music" / "Some Artist - Some Song.flac", music(1.0))


def test_store_and_read_back_a_track(tmp_path, song):
    lib = Library(tmp_path / "lib.sqlite3")
    tid = lib.store_analysis(_result(song))
    t = lib.track(tid)
    assert (t["title"], t["artist"]) == ("Some Song", "Some Artist")  # file-name fallback, no tags
    assert t["attributes"]["tempo"] == {"value": 120.0, "provenance": "measured", "confidence": 0.9}
    assert t["attributes"]["energy"]["provenance"] == "estimated"
    assert t["duration"] == 2.0 and t["rating"] is None and t["predicted_like"] is None
    assert lib.track(song)["id"] == tid  # by path too
    ids, mat, names, sh = lib.features("stats")
    assert ids.tolist() == [tid] and mat.dtype == np.float32 and mat[0].tolist() == [0, 1, 2, 3]
    assert names == ["a", "b", "c", "d"] and sh == "stats-v1"


def test_reanalysis_updates_in_place_not_twice(tmp_path, song):
    lib = Library(tmp_path / "lib.sqlite3")
    tid = lib.store_analysis(_result(song, tempo=120.0))
    lib.set_rating(tid, 1)
    assert lib.store_analysis(_result(song, tempo=90.0)) == tid
    assert len(lib.tracks()) == 1
    t = lib.track(tid)
    assert t["attributes"]["tempo"]["value"] == 90.0 and t["rating"] == 1


def test_ratings_predictions_and_rating_rows(tmp_path, song):
    lib = Library(tmp_path / "lib.sqlite3")
    tid = lib.store_analysis(_result(song))
    lib.set_rating(tid, 0)
    lib.set_predictions({tid: 0.25})
    t = lib.track(tid)
    assert t["rating"] == 0 and t["predicted_like"] == pytest.approx(0.25)
    rows = lib.rating_rows()
    assert len(rows) == 1 and rows[0]["rating"] == 0 and rows[0]["tempo"] == 120.0 and rows[0]["energy"] == 0.4
    lib.set_rating(tid, None)
    assert lib.rating_rows() == [] and lib.track(tid)["rating"] is None
    with pytest.raises(ValueError):
        lib.set_rating(tid, 5)


def test_http_cache_expires(tmp_path):
    lib = Library(tmp_path / "lib.sqlite3")
    lib.cache_put("https://mb/x", b"<xml/>", ttl_seconds=60)
    lib.cache_put("https://mb/old", b"stale", ttl_seconds=-1)
    assert lib.cache_get("https://mb/x") == b"<xml/>"
    assert lib.cache_get("https://mb/old") is None
    assert lib.cache_get("never stored") is None


def _one_liked_track(db, song) -> tuple[Library, int]:
    lib = Library(db)
    tid = lib.store_analysis(_result(song))
    lib.set_rating(tid, 1)
    return lib, tid


def test_data_survives_reopen_and_schema_is_versioned(tmp_path, song):
    db = tmp_path / "lib.sqlite3"
    lib, tid = _one_liked_track(db, song)
    lib.close()
    lib = Library(db)
    assert lib.track(tid)["rating"] == 1 and lib.schema_version >= 1
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    c.close()


def test_deleting_a_track_takes_its_data_along(tmp_path, song):
    lib, tid = _one_liked_track(tmp_path / "lib.sqlite3", song)
    lib.remove_tracks([tid])
    assert lib.track(tid) is None and lib.rating_rows() == [] and lib.features("mfcc")[0].size == 0


def test_corrupt_database_says_so_and_start_afresh_keeps_ratings(tmp_path, song):
    db = tmp_path / "lib.sqlite3"
    lib, tid = _one_liked_track(db, song)
    lib.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.remove(str(db) + suffix)
    db.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(LibraryError, match="damaged.*reset-library"):
        Library(db)
    info = start_afresh(db)
    assert info["ratings_saved"] == 1 and os.path.exists(info["set_aside"])
    lib = Library(db)
    assert lib.tracks() == [] and lib.pending_ratings() == 1
    # the file is scanned again: its like comes back
    tid2 = lib.store_analysis(_result(song))
    assert lib.track(tid2)["rating"] == 1 and lib.pending_ratings() == 0
    assert json.loads(Path(info["ratings_file"]).read_text())[0]["rating"] == 1


def _make_read_only(path):
    """chmod for a normal user; root ignores permissions, so it takes the immutable flag instead."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        os.chmod(path.parent, 0o555)
        return lambda: (os.chmod(path.parent, 0o755), os.chmod(path, 0o644))
    for p in (path.parent, path):
        r = subprocess.run(["chattr", "+i", str(p)], capture_output=True)
        if r.returncode != 0:
            pytest.skip("running as root where chattr is unavailable: a read-only file cannot be made")
    return lambda: [subprocess.run(["chattr", "-i", str(p)]) for p in (path, path.parent)]


def test_read_only_database_gives_a_clear_message(tmp_path, song):
    db = tmp_path / "ro" / "lib.sqlite3"
    Library(db).close()
    undo = _make_read_only(db)
    try:
        with pytest.raises(LibraryError, match="cannot be written"):
            lib = Library(db)
            lib.store_analysis(_result(song))
    finally:
        undo()


def test_locked_database_gives_a_clear_message(tmp_path, song):
    db = tmp_path / "lib.sqlite3"
    Library(db).close()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)"), str(db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LibraryError, match="in use by another"):
            lib = Library(db, timeout=0.2)
            lib.store_analysis(_result(song))
    finally:
        holder.kill()
        holder.wait()
