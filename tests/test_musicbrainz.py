"""The MusicBrainz client against a real local HTTP server (tests/fake_musicbrainz.py), never the internet.

Most tests run the limiter at 20 requests/s to stay fast; one proves the real 1.0 s spacing.
"""

import threading
import time

import pytest
from fake_musicbrainz import FIXTURES, FakeMusicBrainz, have_fixtures

from musicrec_engine import __version__
from musicrec_engine.engine import Cancelled, Engine
from musicrec_engine.library.store import Library
from musicrec_engine.online import musicbrainz as mbz

FAST = 20.0


@pytest.fixture
def fake_mb():
    with FakeMusicBrainz() as mb:
        yield mb


@pytest.fixture
def lib(tmp_path):
    with Library(tmp_path / "library.sqlite3") as lib:
        yield lib


def client(mb, lib=None, **kw):
    opts = {"host": mb.host, "rate": FAST, "contact": "tester@example.com", "backoff_base": 0.05,
            "timeout": 2.0, "retry_budget": 5.0, **kw}
    return mbz.MusicBrainz(mbz.Settings(**opts), cache=lib)


def test_user_agent_names_the_app_its_version_and_the_contact(fake_mb):
    art = fake_mb.add_artist("Ua Band")
    assert client(fake_mb).search_artists("Ua Band")[0]["id"] == art.id
    ua = fake_mb.requests[-1].user_agent
    assert ua.startswith(f"MusicRec/{__version__}") and "tester@example.com" in ua


def test_two_clients_with_different_servers_and_contacts_do_not_mix(fake_mb):
    with FakeMusicBrainz() as other:
        a, b = fake_mb.add_artist("Here"), other.add_artist("There")
        ca, cb = client(fake_mb, contact="a@example.com"), client(other, contact="b@example.com")
        found = {}

        def ask(name, c, art):
            for _ in range(3):
                found.setdefault(name, []).append(c.search_artists(art.name)[0]["id"] == art.id)

        ts = [threading.Thread(target=ask, args=("a", ca, a)), threading.Thread(target=ask, args=("b", cb, b))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(10)
        assert found == {"a": [True] * 3, "b": [True] * 3}
        assert {r.user_agent.split("( ")[1] for r in fake_mb.requests} == {"a@example.com )"}
        assert {r.user_agent.split("( ")[1] for r in other.requests} == {"b@example.com )"}


def test_four_threads_at_once_never_start_requests_less_than_a_second_apart(fake_mb):
    fake_mb.add_artist("Spacing", albums=4)
    c = client(fake_mb, rate=1.0)
    errors = []

    def ask(i):
        try:
            c.search_release_groups(artist="Spacing", years=(1990 + i, 1990 + i))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(fake_mb.requests) == 4
    assert min(fake_mb.gaps()) >= 1.0, fake_mb.gaps()


def test_public_server_is_never_asked_more_than_once_a_second():
    s = mbz.Settings(host="musicbrainz.org", rate=5.0, contact="a@b.org")
    assert s.effective_rate == 1.0 and s.use_https
    assert mbz.Settings(host="127.0.0.1:5000", rate=5.0).effective_rate == 5.0
    assert not mbz.Settings(host="127.0.0.1:5000").use_https


def test_environment_sets_host_rate_and_contact(monkeypatch):
    monkeypatch.setenv("MUSICREC_MB_HOST", "localhost:5000")
    monkeypatch.setenv("MUSICREC_MB_RATE", "4")
    monkeypatch.setenv("MUSICREC_CONTACT", "me@example.org")
    s = mbz.Settings.from_env()
    assert (s.netloc, s.effective_rate, s.contact, s.use_https) == ("localhost:5000", 4.0, "me@example.org", False)
    monkeypatch.setenv("MUSICREC_MB_RATE", "fast")
    with pytest.raises(mbz.MusicBrainzError, match="MUSICREC_MB_RATE must be a number"):
        mbz.Settings.from_env()


def test_settings_are_saved_and_the_environment_overrides_them(home, monkeypatch):
    for k in ("MUSICREC_MB_HOST", "MUSICREC_MB_RATE", "MUSICREC_CONTACT"):
        monkeypatch.delenv(k, raising=False)
    assert Engine(home).musicbrainz_settings().netloc == "musicbrainz.org"
    Engine(home).save_musicbrainz_settings(host="http://mirror.lan:5000", rate=3, contact="me@example.org")
    s = Engine(home).musicbrainz_settings()
    assert (s.netloc, s.use_https, s.effective_rate, s.contact) == ("mirror.lan:5000", False, 3.0, "me@example.org")
    monkeypatch.setenv("MUSICREC_CONTACT", "env@example.org")
    assert Engine(home).musicbrainz_settings().contact == "env@example.org"
    with pytest.raises(ValueError, match="unknown MusicBrainz setting"):
        Engine(home).save_musicbrainz_settings(colour="red")


def test_a_burst_of_503s_is_survived_with_growing_back_off_and_nothing_lost(fake_mb, lib):
    art = fake_mb.add_artist("Busy Band", albums=5)
    c = client(fake_mb, lib)
    fake_mb.fail_next(4, status=503)
    groups = c.search_release_groups(artist_id=art.id)
    assert sorted(g["id"] for g in groups) == sorted(a.rgid for a in art.albums)
    assert [r.status for r in fake_mb.requests] == [503, 503, 503, 503, 200]
    gaps = fake_mb.gaps()
    assert gaps[-1] > gaps[0] * 3  # 0.05 s doubling: 0.05, 0.1, 0.2, 0.4 (±20 % jitter)
    assert min(gaps) >= 1.0 / FAST


def test_429_retry_after_is_honoured(fake_mb):
    fake_mb.add_artist("Slow Down")
    fake_mb.fail_next(1, status=429, retry_after=1)
    assert client(fake_mb).search_artists("Slow Down")
    assert fake_mb.gaps()[0] >= 1.0


def test_repeated_questions_come_from_the_cache_until_it_expires(fake_mb, lib):
    art = fake_mb.add_artist("Cached")
    c = client(fake_mb, lib, cache_ttl=0.5)
    first = c.release_with_recordings(art.albums[0].release_id)
    again = c.release_with_recordings(art.albums[0].release_id)
    assert again == first and len(fake_mb.requests) == 1 and c.requests_made == 1
    time.sleep(0.6)
    c.release_with_recordings(art.albums[0].release_id)
    assert len(fake_mb.requests) == 2


def test_malformed_xml_is_a_clear_error_and_never_cached(fake_mb, lib):
    art = fake_mb.add_artist("Broken")
    c = client(fake_mb, lib)
    fake_mb.malformed_next(1)
    with pytest.raises(mbz.BadResponse, match="not valid ws/2 XML"):
        c.release_with_recordings(art.albums[0].release_id)
    release = c.release_with_recordings(art.albums[0].release_id)  # asks again: nothing bad was kept
    assert release["title"] == art.albums[0].title and len(fake_mb.requests) == 2


def test_unknown_and_invalid_ids(fake_mb, lib):
    c = client(fake_mb, lib)
    with pytest.raises(mbz.NotFound, match="no such entry"):
        c.release_with_recordings("00000000-0000-0000-0000-000000000000")
    n = len(fake_mb.requests)
    with pytest.raises(mbz.NotFound, match="not a MusicBrainz release id"):
        c.release_with_recordings("not-an-id")
    assert len(fake_mb.requests) == n  # rejected before asking


def test_empty_search_is_refused_before_any_request(fake_mb):
    c = client(fake_mb)
    with pytest.raises(mbz.MusicBrainzError, match="needs an artist or a tag"):
        c.search_release_groups(years=(1990, 2000))
    with pytest.raises(mbz.MusicBrainzError, match="needs a name"):
        c.search_artists("  ")
    assert fake_mb.requests == []


def test_missing_contact_address_stops_before_the_first_request(fake_mb):
    for contact in (None, "", "not an address"):
        with pytest.raises(mbz.MissingContact, match="contact address"):
            client(fake_mb, contact=contact).search_artists("Anyone")
    assert fake_mb.requests == []


def test_no_network_is_reported_at_once():
    with FakeMusicBrainz() as gone:
        host = gone.host
    t = time.monotonic()
    with pytest.raises(mbz.Unreachable, match="cannot reach MusicBrainz"):
        mbz.MusicBrainz(mbz.Settings(host=host, rate=FAST, contact="a@b.org")).search_artists("X")
    assert time.monotonic() - t < 2


def test_a_server_that_never_answers_gives_up_within_the_budget(fake_mb, lib):
    fake_mb.add_artist("Silent")
    fake_mb.hang_next(10)
    c = client(fake_mb, lib, timeout=0.3, retry_budget=0.5)
    t = time.monotonic()
    with pytest.raises(mbz.Busy, match="no answer within 0.3 s"):
        c.search_artists("Silent")
    assert time.monotonic() - t < 3
    assert lib.cache_get(c._key("search_artists", {"query": 'artist:"Silent"', "limit": 5})) is None


def test_offline_mode_answers_from_the_cache_only(fake_mb, lib):
    art = fake_mb.add_artist("Offline")
    client(fake_mb, lib).search_release_groups(artist_id=art.id)
    n = len(fake_mb.requests)
    off = client(fake_mb, lib, offline=True)
    assert len(off.search_release_groups(artist_id=art.id)) == 3
    with pytest.raises(mbz.Offline, match="offline mode"):
        off.release_with_recordings(art.albums[0].release_id)
    assert len(fake_mb.requests) == n


def test_a_slow_answer_is_waited_for_and_a_too_slow_one_retried(fake_mb, lib):
    art = fake_mb.add_artist("Slowpoke")
    fake_mb.slow_next(1, 0.5)
    assert client(fake_mb, timeout=2.0).search_artists("Slowpoke")[0]["id"] == art.id
    assert len(fake_mb.requests) == 1
    fake_mb.slow_next(1, 1.5)
    groups = client(fake_mb, lib, timeout=0.5).search_release_groups(artist_id=art.id)
    assert len(groups) == 3 and len(fake_mb.requests) == 3  # timed out once, answered on the retry


def test_cancel_interrupts_the_back_off(fake_mb):
    fake_mb.add_artist("Cancel")
    fake_mb.fail_next(20, status=503)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t = time.monotonic()
    with pytest.raises(Cancelled):
        client(fake_mb, backoff_base=1.0, retry_budget=30).search_artists("Cancel", cancel=cancel)
    assert time.monotonic() - t < 1.5


def test_a_search_waiting_behind_a_stuck_request_can_still_be_cancelled(fake_mb):
    fake_mb.add_artist("Stuck")
    fake_mb.hang_next(1)
    stuck = threading.Thread(target=lambda: pytest.raises(mbz.Busy, client(fake_mb, timeout=3.0, retry_budget=0)
                                                          .search_artists, "Stuck"))
    stuck.start()
    time.sleep(0.2)  # the stuck request now holds the only request slot
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    t = time.monotonic()
    with pytest.raises(Cancelled):
        client(fake_mb).search_artists("Stuck", cancel=cancel)
    assert time.monotonic() - t < 1.0
    stuck.join(10)


@pytest.mark.skipif(not have_fixtures(), reason=f"real ws/2 responses not found in {FIXTURES}")
def test_real_musicbrainz_responses_are_understood(fake_mb, lib):
    c = client(fake_mb, lib)
    groups = c.search_release_groups(tag="pop")  # served from search-release-group.xml
    assert groups[0]["title"] == "Affordable Pop Music"
    assert groups[0]["release-list"][0]["id"] == "e94757ff-2655-4690-b369-4012beba6114"
    urk = c.release_with_recordings("fe29e7f0-eb46-44ba-9348-694166f47885")
    tracks = urk["medium-list"][0]["track-list"]
    assert urk["title"] == "Urk" and tracks[0]["recording"]["title"] == "The Train"


# --- answers of the wrong shape, slow drips, huge bodies, resets ------------------------------
NS = 'xmlns="http://musicbrainz.org/ns/mmd-2.0#"'
WRONG_SHAPES = {
    # well-formed XML that musicbrainzngs cannot turn into numbers (it raised ValueError)
    "count is not a number": f'<metadata {NS}><release-group-list count="many"><release-group id="x">'
                             "<title>a</title></release-group></release-group-list></metadata>",
    # release groups without ids (discover() indexed rg["id"] and raised KeyError)
    "no ids": f'<metadata {NS}><release-group-list count="1"><release-group><title>a</title>'
              '<release-list count="1"><release><title>b</title></release></release-list>'
              "</release-group></release-group-list></metadata>",
    # a tag count that is not a number (float() in the tag ranking raised ValueError)
    "tag count": f'<metadata {NS}><release-group-list count="1"><release-group id="00000000-0000-0000-0000-'
                 '000000000001"><title>a</title><tag-list><tag count="lots"><name>rock</name></tag></tag-list>'
                 "</release-group></release-group-list></metadata>",
}


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
def test_a_wrong_shape_is_a_bad_response_and_never_cached(fake_mb, lib, shape):
    art = fake_mb.add_artist("Shapely")
    c = client(fake_mb, lib)
    fake_mb.answer_next(1, WRONG_SHAPES[shape].encode())
    with pytest.raises(mbz.BadResponse, match="unexpected|not valid ws/2"):
        c.search_release_groups(artist_id=art.id)
    groups = c.search_release_groups(artist_id=art.id)  # asked again: the bad answer was not kept
    assert len(groups) == 3 and len(fake_mb.requests) == 2


def test_a_lookup_answered_with_another_entity_is_a_bad_response(fake_mb, lib):
    art = fake_mb.add_artist("Elsewhere")
    fake_mb.answer_next(1, f'<metadata {NS}><artist id="{art.id}"><name>x</name></artist></metadata>'.encode())
    with pytest.raises(mbz.BadResponse):
        client(fake_mb, lib).release_with_recordings(art.albums[0].release_id)


def test_the_album_search_survives_wrong_shapes_and_reports_them(fake_mb, home, monkeypatch):
    """End to end through the facade: the search goes on and lists what it could not use."""
    monkeypatch.setenv("MUSICREC_MB_HOST", fake_mb.host)
    monkeypatch.setenv("MUSICREC_MB_RATE", str(FAST))
    monkeypatch.setenv("MUSICREC_CONTACT", "tester@example.com")
    art = fake_mb.add_artist("Survivor", albums=3)
    fake_mb.answer_next(1, WRONG_SHAPES["tag count"].encode())
    eng = Engine(home)
    try:
        out = eng.search_albums(artist="Survivor")
        assert out["errors"] and "unexpected" in out["errors"][0]["error"]
        out = eng.search_albums(artist="Survivor")  # the bad answer was not cached
        assert not out["errors"] and len(out["albums"]) == len(art.albums)
    finally:
        eng.close()


def test_a_slow_drip_is_cut_at_the_time_cap_and_cancel_stops_it(fake_mb, lib):
    fake_mb.add_artist("Dripping")
    fake_mb.drip_next(5, every=0.1)  # a byte every 0.1 s: every single read is quick
    c = client(fake_mb, lib, timeout=1.0, retry_budget=0)
    t = time.monotonic()
    with pytest.raises(mbz.Busy, match="no complete answer within 1 s"):
        c.search_artists("Dripping")
    assert time.monotonic() - t < 2.5
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    t = time.monotonic()
    with pytest.raises(Cancelled):
        client(fake_mb, lib, timeout=30.0).search_artists("Dripping", cancel=cancel)
    assert time.monotonic() - t < 1.5


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "undeclared"])
def test_a_body_over_16_mb_is_refused(fake_mb, lib, declare_length):
    fake_mb.add_artist("Huge")
    fake_mb.huge_next(1, size=17 * 2**20, declare_length=declare_length)
    c = client(fake_mb, lib)
    with pytest.raises(mbz.BadResponse, match="larger than 16 MB"):
        c.search_artists("Huge")
    assert c.search_artists("Huge")  # the next request is answered normally


def test_connection_resets_and_cut_answers_are_retried(fake_mb, lib):
    art = fake_mb.add_artist("Reset")
    fake_mb.reset_next(2)
    fake_mb.cut_next(1)
    assert client(fake_mb, lib).search_artists("Reset")[0]["id"] == art.id
    assert len(fake_mb.requests) == 4


@pytest.mark.parametrize("host", ["MusicBrainz.org", "musicbrainz.org.", "https://MUSICBRAINZ.ORG:443/",
                                  "beta.musicbrainz.org", "BETA.MusicBrainz.Org."])
def test_every_spelling_of_the_public_server_gets_its_rate_cap(host):
    assert mbz.Settings(host=host, rate=20.0).effective_rate == 1.0
