"""`musicrec scan` and `musicrec tracks` as a user runs them: a real subprocess on real files —
new, changed, moved and gone files, per-file errors, the summary and JSON, and the library's
text filter (the same rule the app's filter box uses)."""

import json
import os
import shutil

from audio_fixtures import tagged_clip
from conftest import run_cli


def scan(home, *folders):
    r = run_cli("scan", *map(str, folders), "--jobs", "1", "--json", home=home)
    return r, (json.loads(r.stdout) if r.stdout.strip() else None)


def tracks(home, *args):
    r = run_cli("tracks", "--json", *args, home=home)
    assert r.returncode == 0, r.stderr
    return {os.path.basename(t["path"]): t for t in json.loads(r.stdout)}


def test_scan_adds_then_follows_changes_moves_and_gone_files(home, tmp_path):
    root = tmp_path / "Music"
    one = tagged_clip(root / "Bach" / "one.flac", 0, artist="Bach", title="Prelude", album="WTC", genre="Baroque")
    two = tagged_clip(root / "Bach" / "two.flac", 2, artist="Bach", title="Fugue", album="WTC", genre="Baroque")
    gone = tagged_clip(root / "Davis" / "three.flac", 4, artist="Miles Davis", title="So What", album="Kind of Blue")
    bad = root / "Davis" / "broken.mp3"
    bad.write_bytes(b"this is not audio" * 64)

    r, rep = scan(home, root)
    assert r.returncode == 1  # one file could not be analysed; the others are in
    assert (rep["found"], rep["new"], rep["analysed"]) == (4, 4, 3)
    assert [f["path"] for f in rep["failed"]] == [str(bad)] and rep["failed"][0]["error"]
    assert f"{bad}: " in r.stderr  # the per-file error, said on stderr
    assert "\r" not in r.stderr  # piped: plain progress lines, no redrawn bar
    assert set(tracks(home)) == {"one.flac", "two.flac", "three.flac", "broken.mp3"}

    r = run_cli("rate", str(two), "--like", home=home)
    assert r.returncode == 0, r.stderr
    moved = root / "Elsewhere" / "renamed.flac"
    moved.parent.mkdir()
    shutil.move(two, moved)
    os.remove(gone)
    tagged_clip(one, 5, artist="Bach", title="Prelude", album="WTC", genre="Baroque")  # changed in place
    new = tagged_clip(root / "Bach" / "four.flac", 7, artist="Bach", title="Gigue", album="Suites", genre="Baroque")
    bad.unlink()

    r, rep = scan(home, root)
    assert r.returncode == 0, r.stderr
    assert (rep["new"], rep["changed"], rep["moved"], rep["missing"], rep["analysed"]) == (1, 1, 1, 2, 2)
    r = run_cli("scan", str(root), "--jobs", "1", home=home)  # and the summary line people read
    assert r.returncode == 0 and "3 audio files: 0 new, 0 changed, 0 moved, 3 unchanged" in r.stdout
    now = tracks(home)
    assert set(now) == {"one.flac", "renamed.flac", "four.flac"}
    assert now["renamed.flac"]["rating"] == 1 and now["renamed.flac"]["title"] == "Fugue"  # the rating moved along
    assert str(new) == now["four.flac"]["path"]
    with_missing = tracks(home, "--missing")
    assert with_missing["three.flac"]["missing"] is True  # kept, marked missing, not deleted


def test_a_folder_that_is_not_there_keeps_its_tracks(home, tmp_path):
    usb = tmp_path / "USB"
    tagged_clip(usb / "a.flac", 1, artist="Someone", title="A")
    assert scan(home, usb)[0].returncode == 0
    shutil.rmtree(usb)
    r, rep = scan(home, usb)
    assert r.returncode == 1 and "is not there" in r.stderr and rep["missing"] == 0
    assert set(tracks(home)) == {"a.flac"}


def test_tracks_filter_is_the_app_filter(home, tmp_path):
    root = tmp_path / "M"
    tagged_clip(root / "a.flac", 0, artist="Johann Sebastian Bach", title="Prelude", album="WTC", genre="Baroque")
    tagged_clip(root / "b.flac", 3, artist="Miles Davis", title="Blue in Green", album="Kind of Blue", genre="Jazz")
    r = run_cli("tracks", home=home)
    assert r.returncode == 0 and "the library is empty" in r.stdout
    assert scan(home, root)[0].returncode == 0
    assert set(tracks(home, "--filter", "bach")) == {"a.flac"}
    assert set(tracks(home, "--filter", "BLUE jazz")) == {"b.flac"}  # every word, any case, any field
    assert set(tracks(home, "--filter", "bach jazz")) == set()
    assert set(tracks(home, "--filter", "")) == {"a.flac", "b.flac"}
    r = run_cli("tracks", "--filter", "kind of blue", home=home)
    assert r.returncode == 0 and "Miles Davis - Blue in Green  [Kind of Blue]" in r.stdout
    assert "Bach" not in r.stdout
    r = run_cli("tracks", "--filter", "nothing-like-this", home=home)
    assert r.returncode == 0 and "no tracks match" in r.stdout
