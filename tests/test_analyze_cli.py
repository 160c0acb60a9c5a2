"""`musicrec analyze` and `musicrec features` as a user runs them: real subprocesses, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from audio_fixtures import music, write
from conftest import ROOT, run_cli


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_analyze_a_folder_with_good_and_bad_files(tmp_path, home):
    lib = tmp_path / "My Music" / "Björk"
    write(lib / "Jóga.flac", music(5.0, key=4, mode=1, bpm=120, seed=1))
    write(lib / "second song.mp3", music(5.0, key=9, mode=0, bpm=96, seed=2))
    write(lib / "aac.m4a", music(4.0, seed=3))
    (lib / "empty.wav").write_bytes(b"")
    (lib / "letter.mp3").write_text("Dear friend,\nthis is not a song.\n")
    mp3 = write(tmp_path / "whole.mp3", music(6.0)).read_bytes()
    (lib / "cut.mp3").write_bytes(mp3[: len(mp3) // 2])
    write(lib / "short.wav", music(0.5))

    from musicrec_engine.analysis.pipeline import analysis_key

    key_before = analysis_key("full", home / "models")
    r = run_cli("analyze", str(tmp_path / "My Music"), "--json", "--jobs", "1", home=home)
    assert r.returncode == 1, r.stderr
    rows = {os.path.basename(x["path"]): x for x in _lines(r.stdout)}
    assert set(rows) == {"Jóga.flac", "second song.mp3", "aac.m4a", "empty.wav", "letter.mp3", "cut.mp3",
                         "short.wav"}
    for name in ("Jóga.flac", "second song.mp3", "aac.m4a"):
        row = rows[name]
        assert row["status"] == "ok" and row["error"] is None
        assert 3.9 < row["duration"] < 5.2
        assert row["features"]["mfcc"]["n"] == 273 and row["features"]["stats"]["n"] >= 200
        assert row["cached"] is False
        # attributes from the measured/learned/estimated modules flow through, with provenance
        for attr in row["attributes"].values():
            assert {"value", "provenance", "confidence"} <= set(attr) <= {"value", "provenance", "confidence",
                                                                          "source", "basis"}
        if "tempo" in row["attributes"]:
            assert row["tempo_bin"] in range(6)
    expected = {"empty.wav": "empty", "letter.mp3": "text file", "cut.mp3": "truncated",
                "short.wav": "shorter than one second"}
    for name, words in expected.items():
        assert rows[name]["status"] == "error" and words in rows[name]["error"]
        assert "\n" not in rows[name]["error"]
    assert "4 of 7 files could not be analysed" in r.stderr

    from musicrec_engine.engine import Engine

    eng = Engine(home)
    try:
        stored = {os.path.basename(t["path"]) for t in eng.library.tracks() if t.get("status", "ok") == "ok"}
    finally:
        eng.close()
    assert {"Jóga.flac", "second song.mp3", "aac.m4a"} <= stored

    again = run_cli("analyze", str(lib / "Jóga.flac"), str(lib / "aac.m4a"), "--json", home=home)
    assert again.returncode == 0, again.stderr
    # Cached unless the attribute code or models changed in between (as they may while it is
    # being developed): then recomputing is the right answer.
    unchanged = analysis_key("full", home / "models") == key_before
    assert [x["cached"] for x in _lines(again.stdout)] == [unchanged, unchanged]


def test_features_prints_a_named_vector(tmp_path, home):
    song = write(tmp_path / "a song.ogg", music(4.0, seed=5))
    for pipeline, n in (("mfcc", 273), ("stats", None)):
        r = run_cli("features", str(song), "--pipeline", pipeline, "--json", home=home)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["pipeline"] == pipeline and out["version"]
        assert len(out["names"]) == len(out["values"]) == (n or len(out["names"]))
        assert len(out["names"]) >= 200 and all(isinstance(v, float) for v in out["values"])
    bad = tmp_path / "photo.mp3"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(1000))
    r = run_cli("features", str(bad), "--json", home=home)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == "musicrec: this is a JPEG image, not audio"


def test_usage_errors_and_empty_folders(tmp_path, home):
    (tmp_path / "empty").mkdir()
    r = run_cli("analyze", str(tmp_path / "empty"), home=home)
    assert r.returncode == 1 and "no audio files" in r.stderr
    r = run_cli("analyze", str(tmp_path), "--jobs", "0", home=home)
    assert r.returncode == 2 and "--jobs" in r.stderr


def test_unreadable_file_is_reported_not_fatal(tmp_path, home):
    locked = write(tmp_path / "locked.wav", music(3.0))
    os.chmod(locked, 0)
    cmd = [sys.executable, "-m", "musicrec_engine", "analyze", str(locked), "--json"]
    if os.geteuid() == 0:  # root reads anything; drop the capability that lets it
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300,
                       env={**os.environ, "MUSICREC_HOME": str(home)})
    assert r.returncode == 1, r.stderr
    row = _lines(r.stdout)[0]
    assert row["status"] == "error" and "permission denied" in row["error"]
