"""Cover-art faults against the local fake server: whatever comes back, the GUI hears back, only
real images of sane size are kept, "no cover" is not forever, and the contact address stays with
MusicBrainz."""

from __future__ import annotations

import os
import threading
import time

import pytest
from fake_musicbrainz import PNG, FakeMusicBrainz
from faultkit import tally

from musicrec_engine.online.coverart import CoverArt


@pytest.fixture
def fake_mb():
    with FakeMusicBrainz() as mb:
        yield mb


class Waiter:
    def __init__(self):
        self.got, self.event = {}, threading.Event()

    def __call__(self, rid, path):
        self.got[rid] = path
        self.event.set()

    def wait(self, rid, seconds=5.0):
        assert self.event.wait(seconds), "the cover callback never came"
        self.event.clear()
        return self.got[rid]


def _covers(mb, tmp_path, **kw):
    return CoverArt(tmp_path / "covers", base_url=mb.url, interval=0.01, **kw)


def _saved(tmp_path):
    d = tmp_path / "covers"
    return sorted(p.name for p in d.iterdir() if p.stat().st_size) if d.is_dir() else []


@pytest.mark.parametrize("fault", ["html page", "over 10 MB", "cut short", "slow drip", "reset"])
def test_a_bad_cover_answer_is_reported_kept_nowhere_and_asked_again(fake_mb, tmp_path, fault):
    rid = fake_mb.add_artist("Covered", albums=1).albums[0].release_id
    if fault == "html page":
        fake_mb.answer_next(1, b"<html>" + b"x" * 2**20 + b"</html>", ctype="text/html")
    elif fault == "over 10 MB":
        fake_mb.answer_next(1, PNG + b"\0" * (10 * 2**20), ctype="image/png")
    elif fault == "cut short":
        fake_mb.cut_next(1)
    elif fault == "slow drip":
        fake_mb.drip_next(1, every=0.2)
    else:
        fake_mb.reset_next(1)
    covers, ready = _covers(fake_mb, tmp_path, timeout=1.0), Waiter()
    t = time.monotonic()
    assert covers.get(rid, ready) is None
    heard = ready.event.wait(5.0)
    tally(f"cover art: {fault}", crashes=int(not heard))  # no callback: the GUI would wait forever
    assert heard and ready.got[rid] is None and time.monotonic() - t < 3.0
    ready.event.clear()
    assert _saved(tmp_path) == [] and covers.failures[rid]
    assert covers.get(rid, ready) is None  # nothing was remembered: it is asked for again
    assert ready.wait(rid).read_bytes() == PNG
    covers.close()


def test_a_cover_that_is_not_an_image_on_disk_is_fetched_again(fake_mb, tmp_path):
    rid = fake_mb.add_artist("Stale", albums=1).albums[0].release_id
    covers = _covers(fake_mb, tmp_path)
    f = covers._file(rid)
    f.parent.mkdir(parents=True)
    f.write_bytes(b"<html>an error page an older version kept as a cover</html>")
    assert covers.cached(rid) is None
    ready = Waiter()
    assert covers.get(rid, ready) is None and ready.wait(rid).read_bytes() == PNG
    covers.close()


def test_no_cover_is_remembered_for_a_while_not_forever(fake_mb, tmp_path):
    rid = fake_mb.add_artist("Bare", albums=1, has_art=False).albums[0].release_id
    covers, ready = _covers(fake_mb, tmp_path), Waiter()
    covers.get(rid, ready)
    assert ready.wait(rid) is None
    n = len(fake_mb.requests)
    assert covers.get(rid, ready) is None
    time.sleep(0.1)
    assert len(fake_mb.requests) == n  # remembered
    marker = covers._file(rid)
    old = time.time() - 8 * 24 * 3600
    os.utime(marker, (old, old))  # a week and a day later the album may have art
    covers.get(rid, ready)
    assert ready.wait(rid) is None and len(fake_mb.requests) == n + 1
    covers.close()


def test_the_contact_address_is_not_sent_to_the_cover_art_archive(fake_mb, tmp_path):
    rid = fake_mb.add_artist("Private", albums=1).albums[0].release_id
    covers, ready = _covers(fake_mb, tmp_path, contact="me@example.org"), Waiter()
    covers.get(rid, ready)
    assert ready.wait(rid) is not None
    ua = fake_mb.requests[-1].user_agent
    assert ua.startswith("MusicRec/") and "me@example.org" not in ua
    covers.close()
