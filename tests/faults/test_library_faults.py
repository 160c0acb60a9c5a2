"""The library file under concurrent openers, a running app, and rating backups."""

from __future__ import annotations

import subprocess
import sys
import time

from conftest import ROOT

OPEN_AT = ("import sys, time\n"
           "from musicrec_engine.library.store import Library\n"
           "t = float(sys.argv[2])\n"
           "while time.time() < t: pass\n"  # all start at the same instant, not one after another
           "Library(sys.argv[1]).close()\n"
           "print('ok')\n")


def test_processes_opening_a_fresh_library_at_once_all_succeed(tmp_path):
    failures = []
    for round_ in range(4):
        db = tmp_path / f"r{round_}" / "library.sqlite3"
        start = time.time() + 1.5
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT, str(db), str(start)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for p in procs:
            out, err = p.communicate(timeout=60)
            if p.returncode != 0:
                failures.append(err.strip().splitlines()[-1])
    assert failures == []
