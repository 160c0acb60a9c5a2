"""File names a real music folder can hold: not UTF-8 (Latin-1 from an old disk), very long, odd.

Each must come back in `analyze --json` as a path that leads to the same file, land in the
library, and never cost the other files of the batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from audio_fixtures import music, write
from conftest import ROOT
from faultkit import crashed, tally

LATIN1 = b"caf\xe9.wav"  # "café.wav" as an old Latin-1 system wrote it: not valid UTF-8


def _odd_folder(tmp_path) -> tuple[bytes, list[bytes]]:
    """A folder with a good file, a Latin-1 name, a 250-byte name and names with odd characters."""
    folder = tmp_path / "odd"
    clip = write(tmp_path / "clip.wav", music(2.0, seed=5)).read_bytes()
    names = [b"plain.wav", LATIN1, (b"x" * 246) + b".wav", b"-dash 'quote' \"dq\" $HOME.wav",
             "emoji \U0001f3b5 ünïcode.wav".encode(), b"new\nline.wav"]
    os.makedirs(folder)
    for i, n in enumerate(names):
        with open(os.path.join(os.fsencode(folder), n), "wb") as f:
            f.write(clip[:-2] + bytes([i, 0]))  # different content, so no two are one track
    return os.fsencode(folder), names


def _musicrec(home, env: dict, *argv):
    """The CLI with its output as bytes: the test decodes it the way a strict parent would."""
    return subprocess.run([sys.executable, "-m", "musicrec_engine", *argv], capture_output=True,
                          env={**os.environ, "MUSICREC_HOME": str(home), **env}, cwd=ROOT, timeout=300)


# C.UTF-8: Python writes undecodable names back as raw bytes; PYTHONIOENCODING=utf-8 stands for a
# desktop's UTF-8 locale, where stdout is strict and such a name raised UnicodeEncodeError.
LOCALES = [{"LC_ALL": "C.UTF-8"}, {"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}]


@pytest.mark.parametrize("env", LOCALES, ids=["c-utf8", "strict-utf8"])
def test_a_latin1_long_or_odd_name_is_analysed_stored_and_reported_losslessly(tmp_path, home, env):
    folder, names = _odd_folder(tmp_path)
    r = _musicrec(home, env, "analyze", "--json", "--jobs", "1", os.fsdecode(folder))
    tally(f"odd file names ({env.get('PYTHONIOENCODING') or 'C.UTF-8'} output): Latin-1, 250 bytes, quotes, "
          "newline, emoji", tried=len(names), crashes=crashed(r.stderr) + (r.returncode != 0),
          lost=len(names) - r.stdout.count(b'"status": "ok"'))
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    rows = [json.loads(line) for line in r.stdout.decode("utf-8").splitlines()]  # strict, as the app reads it
    assert [x["status"] for x in rows] == ["ok"] * len(names), rows
    reported = {os.path.basename(os.fsencode(x["path"])) for x in rows}
    assert reported == set(names)  # each JSON path turns back into the file's exact bytes

    from musicrec_engine.engine import Engine

    eng = Engine(home)
    try:
        stored = {os.path.basename(os.fsencode(t["path"])) for t in eng.tracks()}
        assert stored == set(names)
        latin = os.fsdecode(os.path.join(folder, LATIN1))
        assert eng.track(latin) is not None
    finally:
        eng.close()
    # the same track can be rated by its odd path from the command line
    r = _musicrec(home, env, "rate", "--like", os.fsdecode(os.path.join(folder, LATIN1)))
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def test_plain_text_output_keeps_the_latin1_name_byte_for_byte(tmp_path, home):
    folder, _ = _odd_folder(tmp_path)
    r = _musicrec(home, LOCALES[1], "analyze", "--jobs", "1", os.fsdecode(folder))
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert LATIN1 in r.stdout
    assert r.stdout.count(b"\nok ") + r.stdout.startswith(b"ok ") >= 6
