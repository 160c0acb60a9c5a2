"""Folder scanning: tags (with MusicBrainz ids as Picard writes them), file-name fallback, and the
incremental re-scan (new, changed, moved, deleted, a folder that disappeared, a killed scan)."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from audio_fixtures import music, tag_file, write
from conftest import ROOT

from musicrec_engine.analysis.pipeline import analyze_paths
from musicrec_engine.library import scan
from musicrec_engine.library.store import Library
from musicrec_engine.library.tags import read_tags

REC = "b1a9c0e9-d987-4042-ae91-78d6a3267d69"
REL = "5c4ebc3b-4a5b-4c7b-a9b3-0a3c2f2c2f11"
ART = "0383dadf-2a4e-4d10-a46a-e9e041da8eb3"


def test_tags_and_musicbrainz_ids_from_flac_mp3_m4a(tmp_path):
    for ext in ("flac", "mp3", "m4a"):
        p = write(tmp_path / f"x.{ext}", music(0.5))
        tag_file(p, title="Song", artist="Band", album="Record", albumartist="Various", tracknumber="3/12",
                 discnumber="1/2", date="2004-05-01", genre="Rock", musicbrainz_trackid=REC,
                 musicbrainz_albumid=REL, musicbrainz_artistid=ART)
        t = read_tags(p)
        assert (t["title"], t["artist"], t["album"], t["album_artist"]) == ("Song", "Band", "Record", "Various"), ext
        assert (t["track_no"], t["disc_no"], t["year"], t["genre"]) == (3, 1, 2004, "Rock"), ext
        assert (t["mb_recording_id"], t["mb_release_id"], t["mb_artist_id"]) == (REC, REL, ART), ext


def test_wav_with_raw_id3_frames(tmp_path):
    from mutagen.id3 import TIT2, TPE1, UFID
    from mutagen.wave import WAVE

    p = write(tmp_path / "x.wav", music(0.5))
    w = WAVE(str(p))
    w.add_tags()
    w.tags.add(TIT2(encoding=3, text="Wave Song"))
    w.tags.add(TPE1(encoding=3, text="Wave Band"))
    w.tags.add(UFID(owner="http://musicbrainz.org", data=REC.encode()))
    w.save()
    t = read_tags(p)
    assert (t["title"], t["artist"], t["mb_recording_id"]) == ("Wave Song", "Wave Band", REC)


def test_file_name_fallback(tmp_path):
    p = write(tmp_path / "Some Artist" / "Some Album" / "07 - The Title.ogg", music(0.5))
    assert read_tags(p) == {"title": "The Title", "track_no": 7, "album": "Some Album", "artist": "Some Artist"}
    loose = write(tmp_path / "Downloads" / "Band - Tune.wav", music(0.5))
    assert read_tags(loose) == {"artist": "Band", "title": "Tune"}  # a loose file is not an album
    broken = tmp_path / "Broken.mp3"
    broken.write_bytes(b"\x00garbage" * 10)
    assert read_tags(broken)["title"] == "Broken"


def _snapshot(tree):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tree.rglob("*") if p.is_file()}


def test_incremental_rescan(tmp_path):
    lib = Library(tmp_path / "lib.sqlite3")
    root = tmp_path / "Music"
    a = write(root / "A" / "01 - One.wav", music(1.5, key=0, bpm=100))
    b = write(root / "A" / "02 - Two.flac", music(1.5, key=5, bpm=130))
    bad = root / "A" / "03 - Bad.mp3"
    bad.write_bytes(b"not audio at all" * 100)
    before = _snapshot(root)
    rep = scan.scan(lib, [root], analyze_paths, jobs=1)
    assert (rep.found, rep.new, rep.analysed, len(rep.failed)) == (3, 3, 2, 1)
    assert rep.failed[0]["path"].endswith("03 - Bad.mp3") and rep.failed[0]["error"]
    assert _snapshot(root) == before  # the user's files are never written
    tracks = {os.path.basename(t["path"]): t for t in lib.tracks()}
    assert tracks["01 - One.wav"]["status"] == "ok" and tracks["03 - Bad.mp3"]["status"] == "error"
    assert tracks["01 - One.wav"]["attributes"]["tempo"]["provenance"] == "measured"
    lib.set_rating(tracks["02 - Two.flac"]["id"], 1)

    rep = scan.scan(lib, [root], analyze_paths, jobs=1)  # nothing changed: nothing analysed, the bad file not retried
    assert (rep.unchanged, rep.new, rep.changed, rep.analysed, rep.failed) == (3, 0, 0, 0, [])

    moved = root / "B" / "renamed.flac"
    moved.parent.mkdir()
    shutil.move(b, moved)
    write(a, music(2.0, key=7, bpm=90))  # changed in place
    os.remove(bad)
    rep = scan.scan(lib, [root], analyze_paths, jobs=1)
    assert (rep.moved, rep.changed, rep.missing, rep.analysed) == (1, 1, 1, 1)
    now = {os.path.basename(t["path"]): t for t in lib.tracks()}
    assert set(now) == {"01 - One.wav", "renamed.flac"}
    assert now["renamed.flac"]["id"] == tracks["02 - Two.flac"]["id"] and now["renamed.flac"]["rating"] == 1
    assert now["01 - One.wav"]["duration"] == pytest.approx(2.0, abs=0.05)
    assert len(lib.tracks(include_missing=True)) == 3  # the deleted file's row is kept, marked missing


def test_folder_that_disappeared_keeps_its_tracks(tmp_path):
    lib = Library(tmp_path / "lib.sqlite3")
    root = tmp_path / "USB"
    write(root / "x.wav", music(1.0))
    scan.scan(lib, [root], analyze_paths, jobs=1)
    shutil.rmtree(root)
    rep = scan.scan(lib, [root], analyze_paths, jobs=1)
    assert "is not there" in rep.messages[0] and rep.missing == 0
    assert len(lib.tracks()) == 1


def test_symlink_loop_is_not_followed(tmp_path):
    lib = Library(tmp_path / "lib.sqlite3")
    root = tmp_path / "M"
    write(root / "sub" / "x.wav", music(1.0))
    os.symlink(root, root / "sub" / "loop")
    rep = scan.scan(lib, [root], analyze_paths, jobs=1)
    assert rep.found == 1 and len(lib.tracks()) == 1


def test_killed_scan_then_rerun_has_no_duplicates(tmp_path):
    root = tmp_path / "M"
    for i in range(4):
        write(root / f"{i:02d} - t{i}.wav", music(1.0, key=i))
    db = tmp_path / "lib.sqlite3"
    code = ("import sys; from musicrec_engine.library.store import Library\n"
            "from musicrec_engine.library import scan\n"
            "from musicrec_engine.analysis.pipeline import analyze_paths\n"
            "lib = Library(sys.argv[1])\n"
            "def p(d, t, m): print(d, flush=True)\n"
            "scan.scan(lib, [sys.argv[2]], analyze_paths, progress=p, jobs=1)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(root)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    lib = Library(db)
    while proc.poll() is None and len(lib.tracks()) < 1:  # kill once the first file is stored
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rep = scan.scan(lib, [root], analyze_paths, jobs=1)
    paths = [t["path"] for t in lib.tracks()]
    assert len(paths) == 4 == len(set(paths)) and rep.found == 4
    assert all(t["status"] == "ok" for t in lib.tracks())
    ids, mat, _, _ = lib.features("mfcc")
    assert len(ids) == 4 and np.isfinite(mat).all()
