"""The library file under concurrent openers, a running app, and rating backups."""

from __future__ import annotations

import json
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


def _library_with_ratings(db, n=3):
    from musicrec_engine.library.store import Library

    lib = Library(db)
    ids = [lib.add_file(f"/music/{i}.flac", {"title": f"T{i}"}, f"hash{i}", 1, 1.0, status="ok") for i in range(n)]
    for i, t in enumerate(ids):
        lib.set_rating(t, i % 2)
    return lib, ids


def test_start_afresh_refuses_while_another_process_has_the_library_open(tmp_path, home):
    from conftest import run_cli

    db = home / "library.sqlite3"
    lib, ids = _library_with_ratings(db)
    try:
        r = run_cli("catalog", "reset-library", home=home)
        assert r.returncode == 1 and "open in another MusicRec process" in r.stderr, r.stderr
        assert db.is_file() and not list(home.glob("*.damaged-*"))
        lib.set_rating(ids[0], 1)  # the open library still works, in its own file
        assert lib.rating_rows()[-1]["id"] == ids[0]
    finally:
        lib.close()
    r = run_cli("catalog", "reset-library", "--json", home=home)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ratings_saved"] == 3


def test_rating_backups_are_dated_rotating_and_restorable(tmp_path, home):
    from conftest import run_cli

    db = home / "library.sqlite3"
    folder = home / "ratings-backups"
    folder.mkdir(parents=True)
    for day in range(1, 13):  # twelve older backups
        (folder / f"ratings-202501{day:02d}-120000-000000.json").write_text("[]")
    lib, ids = _library_with_ratings(db)  # three ratings: three new backups
    backups = sorted(folder.glob("ratings-*.json"))
    assert len(backups) == 10 and backups[0].name == "ratings-20250106-120000-000000.json"  # oldest went first
    assert backups[-1].name.startswith(f"ratings-{time.strftime('%Y%m%d')}-")
    before = backups[-1]
    assert len(json.loads(before.read_text())) == 3
    for t in ids:  # ratings lost (a slip, or a damaged file)
        lib.set_rating(t, None)
    lib.close()
    assert before.is_file() and json.loads(sorted(folder.glob("ratings-*.json"))[-1].read_text()) == []
    r = run_cli("rate", "--restore", str(before), home=home)
    assert r.returncode == 0, r.stderr
    assert "3 ratings restored" in r.stdout
    from musicrec_engine.library.store import Library

    with Library(db) as again:
        assert sorted((x["id"], x["rating"]) for x in again.rating_rows()) == [(ids[0], 0), (ids[1], 1), (ids[2], 0)]
    r = run_cli("rate", "--restore", str(tmp_path / "nope.json"), home=home)
    assert r.returncode == 1 and "nope.json" in r.stderr and "Traceback" not in r.stderr
