"""kill -9 at random moments of analyze, catalog import, re-import and taste training, through the
CLI. Afterwards nothing already reported is lost, the previous rows and model are intact, and a
re-run completes. The moments come from faultkit.rng (seed printed by pytest on failure)."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

from audio_fixtures import music, write
from conftest import run_cli
from faultkit import SEED, crashed, kill9, rng, start, tally

from musicrec_engine.attributes import Attribute
from musicrec_engine.engine import Engine


def _library_paths(home) -> set[str]:
    eng = Engine(home)
    try:
        return {t["path"] for t in eng.tracks(include_missing=True) if t["status"] == "ok"}
    finally:
        eng.close()


def test_kill_during_analyze_loses_nothing_reported(tmp_path, home):
    r = rng("analyze")
    folder = tmp_path / "music"
    for i in range(6):
        write(folder / f"{i}.wav", music(2.0, seed=i))
    reported, lost, crashes = set(), 0, 0
    for round_ in range(2):
        proc = start(home, "analyze", "--json", "--jobs", "1", str(folder))
        for _ in range(r.randint(0 if round_ else 1, 3)):  # after some results, or during start-up
            line = proc.stdout.readline()
            if line:
                reported.add(json.loads(line)["path"])
        out, err = kill9(proc)
        reported |= {json.loads(x)["path"] for x in out.splitlines() if x.strip()}
        crashes += crashed(err)
        lost += len(reported - _library_paths(home))
    done = run_cli("analyze", "--json", "--jobs", "1", str(folder), home=home)
    rows = [json.loads(x) for x in done.stdout.splitlines()]
    crashes += crashed(done.stderr)
    tally("kill -9 during analyze", tried=2, crashes=crashes, lost=lost)
    assert (lost, crashes) == (0, 0), f"seed {SEED}"
    assert done.returncode == 0 and len(rows) == 6 and len(_library_paths(home)) == 6
    assert all(x["cached"] for x in rows if x["path"] in reported)  # what was done is not done twice


SPOTIFY = ["id", "name", "album", "album_id", "artists", "danceability", "energy", "key", "loudness", "mode",
           "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo"]


def _catalog_csv(path, n, energy):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SPOTIFY)
        for i in range(n):
            w.writerow([f"id{i:06d}", f"Song {i}", f"Album {i // 10}", f"alb{i // 10}", f"['Artist {i // 50}']",
                        0.5, energy, i % 12, -8, i % 2, 0.05, 0.3, 0.1, 0.1, 0.5, 120])
    return path


def _catalog_state(home):
    eng = Engine(home)
    try:
        cat = eng.library.catalog("big")
        rows = [r for page in eng.library.iter_catalog_tracks(cat["id"]) for r in page] if cat else []
        return cat, {r["external_id"]: (r["energy"], r["rating"]) for r in rows}
    finally:
        eng.close()


def _kill_import(home, f, r):
    proc = start(home, "catalog", "import", str(f), "--name", "big")
    proc.stderr.readline()  # the first chunk is in
    import time

    time.sleep(r.uniform(0, 0.3))
    return kill9(proc)


def test_kill_during_catalog_import_and_reimport_keeps_rows_and_ratings(tmp_path, home):
    r = rng("catalog")
    n = 60_000  # two 50,000-row chunks: the kill lands between them or in the second
    f = _catalog_csv(tmp_path / "big.csv", n, energy=0.25)
    crashes, lost = 0, 0
    _, err = _kill_import(home, f, r)
    crashes += crashed(err)
    cat, rows = _catalog_state(home)
    assert cat is None or not rows or len(rows) == n  # half an import is never shown
    done = run_cli("catalog", "import", str(f), "--name", "big", "--json", home=home)
    crashes += crashed(done.stderr)
    assert done.returncode == 0 and json.loads(done.stdout)["imported"] == n
    eng = Engine(home)
    liked = [row["id"] for row in eng.library.catalog_tracks(eng.library.catalog("big")["id"], limit=3,
                                                              offset=55_000)]
    for cid in liked:
        eng.library.set_catalog_rating(cid, 1)
    eng.close()
    _, before = _catalog_state(home)
    _catalog_csv(f, n, energy=0.75)  # the catalog changed: import it again, and kill that
    _, err = _kill_import(home, f, r)
    crashes += crashed(err)
    cat, during = _catalog_state(home)
    lost += len(set(before) - set(during)) + sum(during.get(k) != v for k, v in before.items())
    done = run_cli("catalog", "import", str(f), "--name", "big", "--json", home=home)
    crashes += crashed(done.stderr)
    cat, after = _catalog_state(home)
    tally("kill -9 during catalog import and re-import", tried=2, crashes=crashes, lost=lost)
    assert (lost, crashes) == (0, 0), f"seed {SEED}"
    assert len(after) == n and {e for e, _ in after.values()} == {0.75} and cat["complete"] == 1
    assert sum(rt == 1 for _, rt in after.values()) == 3  # the likes stayed on their rows


UNIT = ["danceability", "energy", "valence", "acousticness", "instrumentalness", "liveness", "speechiness"]


def _rated_library(home, folder, n=40):
    import numpy as np

    g = np.random.default_rng(3)
    eng = Engine(home)
    clip = music(0.3)
    for i in range(n):
        path = write(folder / f"t{i:03d}.wav", clip)
        attrs = {a: Attribute(float(g.random()), "estimated", 0.5) for a in UNIT}
        attrs.update(tempo=Attribute(float(g.uniform(70, 170)), "measured", 0.9),
                     loudness=Attribute(float(-10 + 3 * g.standard_normal()), "measured", 1.0))
        tid = eng.library.store_analysis(
            SimpleNamespace(path=str(path), status="ok", error=None, duration=0.3, content_hash=f"h{i}",
                            features={}, feature_names={}, schema_hash={}, attributes=attrs),
            tags={"title": f"Song {i}", "artist": f"Artist {i % 7}"})
        eng.rate(tid, int(attrs["energy"].value > 0.5))
    eng.close()


def test_kill_during_taste_training_keeps_the_previous_model(tmp_path, home):
    r = rng("taste")
    _rated_library(home, tmp_path / "lib")
    first = run_cli("taste", "train", "--ensemble", "2", "--epochs", "40", "--json", home=home)
    assert first.returncode == 0, first.stderr
    pointer = home / "models" / "taste-library" / "current.json"
    was = pointer.read_text()
    crashes = lost = 0
    for _ in range(1):  # one kill: each training start costs seconds of imports
        proc = start(home, "taste", "train", "--ensemble", "3", "--epochs", "200")
        proc.stderr.readline()  # training has begun
        import time

        time.sleep(r.uniform(0, 1.5))
        _, err = kill9(proc)
        crashes += crashed(err)
        status = json.loads(run_cli("taste", "status", "--json", home=home).stdout)
        now = pointer.read_text()
        # either the old model, intact, or (killed after the switch) the new one, complete
        lost += status["state"] != "ready" or (now != was and not (pointer.parent / json.loads(now)["folder"] /
                                                                    "manifest.json").is_file())
    again = run_cli("taste", "train", "--ensemble", "2", "--epochs", "40", "--json", home=home)
    crashes += crashed(again.stderr)
    tally("kill -9 during taste training", tried=1, crashes=crashes, lost=lost)
    assert (lost, crashes) == (0, 0), f"seed {SEED}"
    assert again.returncode == 0 and json.loads(run_cli("taste", "status", "--json", home=home).stdout)["state"] == \
        "ready"
