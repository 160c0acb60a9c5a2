"""A full disk and a read-only data folder, through the CLI, on a real size-limited tmpfs.

Mounting needs root (it works on the build machine); elsewhere the full-disk test skips with a
sentence and the read-only one uses file permissions instead."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess

import pytest
from audio_fixtures import music, write
from conftest import run_cli
from faultkit import crashed, tally

from musicrec_engine.engine import Engine


@contextlib.contextmanager
def tmpfs(path, size: str):
    path.mkdir(parents=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        yield None
        return
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(folder) -> None:
    with contextlib.suppress(OSError), open(folder / "filler", "wb", buffering=0) as f:
        while True:
            f.write(b"\0" * 4096)


def _tracks(home) -> set[str]:
    eng = Engine(home)
    try:
        return {t["path"] for t in eng.tracks()}
    finally:
        eng.close()


def test_a_full_disk_is_a_per_file_error_and_nothing_stored_is_lost(tmp_path):
    music_dir = tmp_path / "music"
    first = [write(music_dir / f"a{i}.wav", music(2.0, seed=i)) for i in range(2)]
    later = [write(music_dir / "later" / f"b{i}.wav", music(2.0, seed=10 + i)) for i in range(2)]
    with tmpfs(tmp_path / "home", "1m") as home:
        if home is None:
            pytest.skip("mounting a size-limited tmpfs needs root; the full-disk test runs where it can")
        assert run_cli("analyze", "--jobs", "1", *map(str, first), home=home).returncode == 0
        csv = tmp_path / "c.csv"
        csv.write_text("mbid,artist,recording_title,release_title,bpm,key_key,key_scale\n" +
                       "".join(f"{i:08d}-0000-4000-8000-000000000000,A,S{i},R,120,C,major\n" for i in range(50)))
        assert run_cli("catalog", "import", str(csv), "--name", "small", home=home).returncode == 0
        _fill(home)
        r = run_cli("analyze", "--json", "--jobs", "1", str(music_dir / "later"), home=home)
        rows = [json.loads(x) for x in r.stdout.splitlines()]
        assert r.returncode == 1 and [x["status"] for x in rows] == ["error", "error"]
        assert "is full" in rows[0]["error"]
        big = tmp_path / "big.csv"
        big.write_text(csv.read_text() + "".join(f"{i:08d}-0000-4000-8000-000000000001,B,S{i},R,90,D,minor\n"
                                                  for i in range(20_000)))
        imp = run_cli("catalog", "import", str(big), "--name", "small", home=home)
        assert imp.returncode == 1 and "is full" in imp.stderr
        crashes = crashed(r.stderr) + crashed(imp.stderr)
        os.unlink(home / "filler")  # space again (the library cannot even be opened on a full disk)
        lost = len({str(p) for p in first} - _tracks(home))
        eng = Engine(home)
        lost += 50 - len(eng.library.catalog_tracks(eng.library.catalog("small")["id"]))
        eng.close()
        again = run_cli("analyze", "--json", "--jobs", "1", str(music_dir), home=home)
        tally("full disk (1 MB tmpfs) during analyze and catalog re-import", tried=2, crashes=crashes, lost=lost)
        assert (crashes, lost) == (0, 0)
        assert again.returncode == 0 and _tracks(home) == {str(p) for p in first + later}


def test_a_read_only_data_folder_is_one_clear_line_not_a_traceback(tmp_path):
    song = write(tmp_path / "music" / "a.wav", music(2.0, seed=1))
    other = write(tmp_path / "music" / "b.wav", music(2.0, seed=2))
    with tmpfs(tmp_path / "home", "8m") as mounted:
        home = mounted or (tmp_path / "home")
        assert run_cli("analyze", "--jobs", "1", str(song), home=home).returncode == 0
        if mounted is not None:
            subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
        elif os.geteuid() == 0:
            pytest.skip("as root without mount, nothing makes a folder read-only")
        else:
            for d, _, files in os.walk(home):
                for f in files:
                    os.chmod(os.path.join(d, f), 0o444)
                os.chmod(d, 0o555)
        before = song.read_bytes()
        runs = [run_cli("analyze", "--json", "--jobs", "1", str(other), home=home),
                run_cli("rate", "--like", str(song), home=home),
                run_cli("similar", str(song), "--top", "1", "--json", home=home)]
        crashes = sum(crashed(r.stderr) for r in runs)
        import sqlite3

        ro = sqlite3.connect(f"file:{home / 'library.sqlite3'}?mode=ro&immutable=1", uri=True)
        lost = int(ro.execute("SELECT COUNT(*) FROM tracks WHERE path=?", (str(song),)).fetchone()[0] != 1)
        ro.close()
        lost += int(song.read_bytes() != before)
        tally("read-only data folder: analyze, rate, similar", tried=3, crashes=crashes, lost=lost)
        assert (crashes, lost) == (0, 0), [r.stderr for r in runs]
        row = json.loads(runs[0].stdout)
        assert runs[0].returncode == 1 and "cannot be written" in row["error"]
        assert runs[1].returncode == 1 and "cannot be written" in runs[1].stderr
        assert runs[2].returncode == 0 or "cannot be written" in runs[2].stderr
        if mounted is None:
            for d, _, _ in os.walk(home):
                os.chmod(d, 0o755)
