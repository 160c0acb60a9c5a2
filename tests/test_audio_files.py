"""Finding audio files in folders, and recognising a file by its content."""

from __future__ import annotations

import os
import shutil

from musicrec_engine.audio.files import content_hash, iter_audio_files


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_walks_folders_recursively_for_audio_only(tmp_path):
    a = _touch(tmp_path / "lib" / "Artist" / "Album" / "01 song.FLAC")
    b = _touch(tmp_path / "lib" / "Artist" / "02 Ünïcødé song.mp3")
    _touch(tmp_path / "lib" / "cover.jpg")
    _touch(tmp_path / "lib" / "notes.txt")
    _touch(tmp_path / "lib" / ".hidden" / "x.mp3")
    _touch(tmp_path / "lib" / "._resource_fork.mp3")
    found = list(iter_audio_files([tmp_path / "lib"]))
    assert sorted(found) == sorted([a, b])


def test_symlink_loops_end_and_files_come_once(tmp_path):
    lib = tmp_path / "lib"
    song = _touch(lib / "sub" / "song.wav")
    os.symlink(lib, lib / "sub" / "loop")  # lib/sub/loop -> lib: a cycle
    os.symlink(lib / "sub", lib / "again")  # a second way into the same folder
    os.symlink(tmp_path / "nowhere", lib / "dangling")
    found = list(iter_audio_files([lib, lib / "sub"]))
    assert found == [song]


def test_explicit_paths_are_kept_even_when_wrong(tmp_path):
    txt = _touch(tmp_path / "readme.txt")
    missing = tmp_path / "missing.mp3"
    song = _touch(tmp_path / "a.ogg")
    # A named file is the user's explicit wish: it comes back so its problem can be reported.
    assert list(iter_audio_files([txt, missing, song, song])) == [txt, missing, song]


def test_content_hash_follows_content_not_name(tmp_path):
    a = _touch(tmp_path / "a.mp3", os.urandom(300_000))
    before = content_hash(a)
    moved = tmp_path / "elsewhere" / "renamed.mp3"
    moved.parent.mkdir()
    shutil.move(a, moved)
    assert content_hash(moved) == before
    copy = shutil.copy(moved, tmp_path / "copy.mp3")
    assert content_hash(copy) == before
    with open(copy, "r+b") as f:
        f.seek(150_000)
        f.write(b"\x00")
    assert content_hash(copy) != before
