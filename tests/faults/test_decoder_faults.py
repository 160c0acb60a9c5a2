"""Decoder faults: a header declaring hundreds of channels, and a decoder that hangs."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from audio_fixtures import music, write
from conftest import run_cli
from faultkit import crashed, tally


def wav_header(channels: int, rate: int, frames: int, bits: int = 8) -> bytes:
    block = channels * bits // 8
    data = frames * block
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits) + b"data" + struct.pack("<I", data))


def test_a_file_declaring_a_thousand_channels_is_a_clear_per_file_error(tmp_path, home):
    folder = tmp_path / "music"
    write(folder / "good.wav", music(2.0, seed=1))
    frames = 8000
    with open(folder / "wide.wav", "wb") as f:  # 1 s at 8 kHz, 1000 channels: 8 MB on disk, but a
        f.write(wav_header(1000, 8000, frames))  # 30-s decode block of it would be ~1 GB of floats
        f.write(bytes([128]) * (1000 * frames))
    r = run_cli("analyze", "--json", "--jobs", "1", str(folder), home=home)
    rows = {x["path"].rsplit("/", 1)[1]: x for x in map(json.loads, r.stdout.splitlines())}
    tally("a header declaring 1000 channels", crashes=crashed(r.stderr), lost=int(rows["good.wav"]["status"] != "ok"))
    assert r.returncode == 1
    assert rows["good.wav"]["status"] == "ok"
    assert rows["wide.wav"]["status"] == "error" and "1000 channels" in rows["wide.wav"]["error"]


def _children(pid: int) -> list[int]:
    import os

    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def test_a_hung_worker_is_killed_by_the_watchdog_and_the_batch_finishes(tmp_path, home):
    """A worker that stops making progress in the middle of a file (here: stopped with SIGSTOP,
    as a decoder stuck in C would be) is killed after MUSICREC_FILE_TIMEOUT (15 s here: a file takes a few seconds even on a loaded machine); that file is
    reported, every other file is analysed, and the command exits."""
    import glob
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    from conftest import ROOT

    folder = tmp_path / "music"
    for i in range(6):  # the fewest files that still go to a pool of two workers
        write(folder / f"{i:02d}.wav", music(3.0, seed=i))
    env = {**os.environ, "MUSICREC_HOME": str(home), "MUSICREC_FILE_TIMEOUT": "15", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "musicrec_engine", "analyze", "--json", "--jobs", "2",
                             str(folder)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rows: list[dict] = []
    reader = threading.Thread(target=lambda: rows.extend(json.loads(x) for x in proc.stdout), daemon=True)
    reader.start()
    victim, t0 = None, time.monotonic()
    while victim is None and time.monotonic() - t0 < 120 and proc.poll() is None:
        # each worker notes the file it is on (see analysis.pipeline._pool): stop one mid-file
        for note in glob.glob(str(tmp_path / "musicrec-analysis-*" / "[0-9]*")):
            if not os.path.basename(note).isdigit():  # a note being written
                continue
            pid = int(os.path.basename(note))
            try:
                path = json.loads(Path(note).read_text())[0]
            except (OSError, ValueError):
                continue
            if _state(pid) == "R" and path not in {r["path"] for r in rows}:
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.3)
                if path in {r["path"] for r in rows}:  # it had just finished: try another moment
                    os.kill(pid, signal.SIGCONT)
                    continue
                victim = path
                break
        time.sleep(0.02)
    assert victim is not None, "no worker was seen analysing"
    assert proc.wait(timeout=120) == 1
    reader.join(10)
    errors = {r["path"]: r["error"] for r in rows if r["status"] != "ok"}
    tally("a worker hung mid-file (SIGSTOP): per-file watchdog", crashes=crashed(proc.stderr.read()),
          lost=len(set(errors) - {victim}) + 6 - len(rows))
    assert len(rows) == 6 and len({r["path"] for r in rows}) == 6
    assert list(errors) == [victim] and "longer than 15 s" in errors[victim], errors
