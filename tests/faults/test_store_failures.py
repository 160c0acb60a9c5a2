"""A result is "ok" only when it is in the library: store failures are per-file errors with their
reason (exit 1), absurd tags are dropped with the rest stored, and an analysis whose attributes
failed is not cached as a success."""

from __future__ import annotations

import json
import sqlite3

from audio_fixtures import music, write
from conftest import run_cli
from faultkit import crashed, tally

from musicrec_engine.engine import Engine


def _rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_a_database_locked_past_the_busy_timeout_is_an_error_not_ok(tmp_path, home):
    first = write(tmp_path / "first.wav", music(2.0, seed=1))
    second = write(tmp_path / "second.wav", music(2.0, seed=2))
    assert run_cli("analyze", "--jobs", "1", str(first), home=home).returncode == 0
    other = sqlite3.connect(home / "library.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, past the 5-s busy timeout
    try:
        r = run_cli("analyze", "--json", "--jobs", "1", str(second), home=home)
    finally:
        other.execute("ROLLBACK")
        other.close()
    tally("database locked by another process past the busy timeout", crashes=crashed(r.stderr),
          lost=int('"status": "ok"' in r.stdout))  # "ok" for a track that is not stored is a lost track
    assert r.returncode == 1, r.stdout
    (row,) = _rows(r.stdout)
    assert row["status"] == "error" and "in use by another MusicRec process" in row["error"]
    assert "1 of 1 files could not be analysed" in r.stderr
    # nothing was lost: the analysis is cached, and a re-run stores it
    r = run_cli("analyze", "--json", "--jobs", "1", str(second), home=home)
    assert r.returncode == 0 and _rows(r.stdout)[0]["cached"] is True
    eng = Engine(home)
    assert eng.track(str(second)) is not None
    eng.close()


def test_an_absurd_track_number_is_dropped_and_the_track_stored(tmp_path, home):
    import mutagen.flac

    f = write(tmp_path / "odd tags.flac", music(2.0, seed=3))
    tags = mutagen.flac.FLAC(f)
    tags["TRACKNUMBER"] = "99999999999999999999"
    tags["DISCNUMBER"] = "-3"
    tags["DATE"] = "123456789"
    tags["TITLE"] = "Still Here"
    tags.save()
    r = run_cli("analyze", "--json", "--jobs", "1", str(f), home=home)
    eng = Engine(home)
    tally("absurd tag values (track number 10^20, negative disc, year 123456789)", crashes=crashed(r.stderr),
          lost=int(eng.track(str(f)) is None))
    eng.close()
    assert r.returncode == 0, r.stderr
    assert _rows(r.stdout)[0]["status"] == "ok"
    eng = Engine(home)
    t = eng.track(str(f))
    eng.close()
    assert t is not None and t["title"] == "Still Here"
    assert t["track_no"] is None and t["disc_no"] is None and t["year"] is None


def test_an_attribute_failure_is_not_cached_as_a_success(tmp_path, home, monkeypatch):
    """The attribute models failing (here: forced, as no real file makes them fail) must not
    leave the file cached with no attributes until the model changes."""
    from musicrec_engine.analysis import pipeline
    from musicrec_engine.attributes import compute

    f = write(tmp_path / "song.wav", music(3.0, seed=4))
    eng = Engine(home)

    def broken(spec, vecs):
        raise RuntimeError("attribute model exploded")

    monkeypatch.setattr(compute, "compute_all", broken)
    first = pipeline.analyze_file(f, cache=eng.feature_cache, models_dir=eng.paths.models)
    assert first.ok and "tempo" not in first.attributes and "attributes could not" in (first.warning or "")
    monkeypatch.undo()
    again = pipeline.analyze_file(f, cache=eng.feature_cache, models_dir=eng.paths.models)
    eng.close()
    assert again.ok and not again.cached
    assert {"tempo", "energy", "danceability"} <= set(again.attributes)
