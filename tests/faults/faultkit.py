"""Helpers of the fault suite: the CLI as a process we can kill, and the suite's tally.

Each fault test calls `tally(kind, tried, crashes, lost)`; with MUSICREC_FAULT_REPORT=FILE set,
the counts are appended to FILE as JSON lines, which is where the table in docs/RELIABILITY.md
comes from. A crash is a traceback, an "unexpected error" or a hang; lost is anything reported
done (or there before) that is gone afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import threading
import time

from conftest import ROOT

SEED = int(os.environ.get("MUSICREC_FAULT_SEED", str(int(time.time()) % 100_000)))


def rng(name: str) -> random.Random:
    """A random source per test, from one seed printed on failure (MUSICREC_FAULT_SEED replays it)."""
    return random.Random(f"{SEED}:{name}")


def tally(kind: str, tried: int = 1, crashes: int = 0, lost: int = 0) -> None:
    out = os.environ.get("MUSICREC_FAULT_REPORT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"kind": kind, "tried": tried, "crashes": crashes, "lost": lost, "seed": SEED}) + "\n")


def crashed(stderr: str | bytes) -> bool:
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    return "Traceback" in text or "unexpected error" in text


def start(home, *argv, env=None) -> subprocess.Popen:
    """`musicrec ARGV` running, stdout and stderr as pipes of text lines."""
    return subprocess.Popen([sys.executable, "-m", "musicrec_engine", *argv], cwd=ROOT, text=True,
                            env={**os.environ, "MUSICREC_HOME": str(home), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill9(proc: subprocess.Popen) -> tuple[str, str]:
    """SIGKILL the command and every process it started (its workers too); the rest of its output."""
    import signal

    kids = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    for k in kids:
        with contextlib.suppress(OSError):
            os.kill(k, signal.SIGKILL)
    # Read through the pipes' file objects, not communicate(): with two pipes it reads the raw
    # descriptors, so whatever a caller's readline() had already buffered past its line would be
    # lost and the rest of the output would start in the middle of a line.
    got: dict[str, str] = {}
    readers = [threading.Thread(target=lambda n=n, f=f: got.__setitem__(n, f.read()), daemon=True)
               for n, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    for t in readers:
        t.join(timeout=60)
    proc.wait(timeout=60)
    if len(got) < 2:
        raise TimeoutError("the killed command's output did not end within 60 s")
    return got["out"], got["err"]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out
