"""MusicBrainz faults through `musicrec albums search`, against the local fake ws/2 server: 503
bursts, answers of the wrong shape, a slow drip, a huge body and connection resets. The search
finishes, says what it could not use, and never ends in a traceback."""

from __future__ import annotations

import json
import time

import pytest
from conftest import run_cli
from fake_musicbrainz import FakeMusicBrainz
from faultkit import crashed, tally

WRONG = (b'<metadata xmlns="http://musicbrainz.org/ns/mmd-2.0#"><release-group-list count="1"><release-group>'
         b"<title>no id</title></release-group></release-group-list></metadata>")


@pytest.fixture
def mb(monkeypatch):
    with FakeMusicBrainz() as fake:
        monkeypatch.setenv("MUSICREC_MB_HOST", fake.host)
        monkeypatch.setenv("MUSICREC_MB_RATE", "20")
        monkeypatch.setenv("MUSICREC_CONTACT", "tester@example.com")
        yield fake


FAULTS = {
    "503 burst": lambda mb: mb.fail_next(3, status=503),
    "wrong shape": lambda mb: mb.answer_next(1, WRONG),
    "reset": lambda mb: mb.reset_next(2),
    "cut short": lambda mb: mb.cut_next(1),
    "huge body": lambda mb: mb.huge_next(1, size=17 * 2**20),
    "slow drip": lambda mb: mb.drip_next(1, every=0.5),
}


def test_album_search_through_musicbrainz_faults(mb, home):
    art = mb.add_artist("Faulty", albums=4)
    crashes, outcomes = 0, {}
    for i, (name, inject) in enumerate(FAULTS.items()):
        mb.clear_requests()
        inject(mb)
        t = time.monotonic()  # a data folder each: answers are cached, so a second search asks nothing
        r = run_cli("albums", "search", "--artist", "Faulty", "--json", "--all", home=home / f"try{i}")
        crashes += crashed(r.stderr)
        out = json.loads(r.stdout) if r.stdout.strip() else {}
        outcomes[name] = (r.returncode, len(out.get("albums", [])), len(out.get("errors", [])),
                          round(time.monotonic() - t, 1))
    tally("MusicBrainz faults (503, wrong shape, reset, cut, 17 MB body, slow drip) via albums search",
          tried=len(FAULTS), crashes=crashes)
    assert crashes == 0, outcomes
    # retried faults lose nothing; a wrong shape or a huge body costs that one answer, reported
    for name in ("503 burst", "reset", "cut short"):
        assert outcomes[name][:3] == (0, len(art.albums), 0), (name, outcomes)
    for name in ("wrong shape", "huge body"):
        code, albums, errors, _ = outcomes[name]
        assert errors >= 1 or code != 0, (name, outcomes)
    assert outcomes["slow drip"][3] < 60  # the whole-request time cap (20 s), not a byte a second forever
