"""A fake MusicBrainz ws/2 server on 127.0.0.1 for tests: a real threaded HTTP server, never the internet.

    from fake_musicbrainz import FakeMusicBrainz        # or the `fake_mb` fixture below:
                                                         # from fake_musicbrainz import fake_mb  # noqa: F401, F811
    with FakeMusicBrainz() as mb:
        mb.host                  "127.0.0.1:PORT" -> MUSICREC_MB_HOST (plain HTTP)
        mb.url                   "http://127.0.0.1:PORT"
        art = mb.add_artist("Name", tags=("rock",), albums=3, tracks=8, first_year=1990, label=None,
                            artist_tags=None)
                                 generated artist with albums (each on `label`, if given, tagged
                                 `tags`; the artist tagged `artist_tags`, default `tags`); returns
                                 a FakeArtist with .id, .name,
                                 .albums (FakeAlbum: .rgid, .release_id, .title, .year, .tags, .tracks
                                 [(recording_id, title, length_ms)], .has_art)
        mb.fail_next(n, status=503, retry_after=None)   next n requests get that HTTP error
        mb.slow_next(n, seconds)                        next n requests answer after a delay
        mb.malformed_next(n)                            next n requests get 200 with broken XML
        mb.hang_next(n)                                 next n requests never get an answer
        mb.answer_next(n, body, status=200, ctype=XML)  next n requests get exactly this answer
                                                        (well-formed XML of the wrong shape, an HTML
                                                        page as a cover, ...)
        mb.drip_next(n, every=0.2)                      the real answer, one byte per `every` seconds
        mb.huge_next(n, size, declare_length=True)      200 with `size` bytes of XML padding (with or
                                                        without a Content-Length saying so)
        mb.cut_next(n)                                  headers promise the whole answer, half is sent,
                                                        then the connection closes
        mb.reset_next(n)                                the connection is reset (TCP RST), no answer
        mb.requests              list of Request(t=time.monotonic() when accepted, path, query dict,
                                 user_agent, status); mb.clear_requests(); mb.gaps() -> seconds
                                 between consecutive arrivals

Served: /ws/2/artist?query=, /ws/2/artist/<id> (with its tags), /ws/2/release-group?query= (arid:, artist:, tag:, primarytype:,
firstreleasedate:[A TO B] joined by AND), /ws/2/release/<id>?inc=..., /ws/2/release-group/<id>,
and Cover Art Archive style /release/<id>/front-250 (an 8x8 PNG of colour #c04060, valid for any
image decoder, when the album has art).
When nothing was generated for an entity, searches and lookups fall back to the real responses in
../shared/data/musicbrainz-ws2 (FIXTURES); `have_fixtures()` tells whether that folder exists.
Unknown ids get MusicBrainz's 404 error document.
"""

from __future__ import annotations

import re
import struct
import threading
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "data" / "musicbrainz-ws2"
NS = 'xmlns="http://musicbrainz.org/ns/mmd-2.0#" xmlns:ext="http://musicbrainz.org/ns/ext#-2.0"'


def _png(rgb=(0xC0, 0x40, 0x60), size=8) -> bytes:
    """A real PNG of one colour (so image decoders in GUI tests can show it)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = _png()


def have_fixtures() -> bool:
    return (FIXTURES / "search-release-group.xml").is_file()


def _id(*parts) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fake-mb:" + ":".join(map(str, parts))))


@dataclass
class FakeAlbum:
    rgid: str
    release_id: str
    title: str
    year: int
    tags: tuple[str, ...]
    tracks: list[tuple[str, str, int]]
    has_art: bool = True
    primary_type: str = "Album"
    label: str | None = None


@dataclass
class FakeArtist:
    id: str
    name: str
    tags: tuple[str, ...]
    albums: list[FakeAlbum] = field(default_factory=list)


@dataclass
class Request:
    t: float
    path: str
    query: dict
    user_agent: str
    status: int = 0


class FakeMusicBrainz:
    def __init__(self):
        self.artists: list[FakeArtist] = []
        self.requests: list[Request] = []
        self._script: deque = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _StampingServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- content ----------------------------------------------------------------------
    def add_artist(self, name, tags=(), albums=3, tracks=8, first_year=1990, has_art=True, label=None,
                   artist_tags=None) -> FakeArtist:
        art = FakeArtist(_id("artist", name), name, tuple(tags if artist_tags is None else artist_tags))
        for a in range(albums):
            title = f"{name} Album {a + 1}"
            recs = [(_id("rec", name, a, t), f"{name} Song {a + 1}.{t + 1}", 180_000 + 1000 * t)
                    for t in range(tracks)]
            art.albums.append(FakeAlbum(_id("rg", name, a), _id("rel", name, a), title,
                                        first_year + a, tuple(tags), recs, has_art, label=label))
        with self._lock:
            self.artists.append(art)
        return art

    def album(self, release_or_rg_id: str) -> tuple[FakeArtist, FakeAlbum] | None:
        for art in self.artists:
            for alb in art.albums:
                if release_or_rg_id in (alb.release_id, alb.rgid):
                    return art, alb
        return None

    # --- faults -----------------------------------------------------------------------
    def fail_next(self, n=1, status=503, retry_after=None):
        self._queue(n, ("status", status, retry_after))

    def slow_next(self, n=1, seconds=1.0):
        self._queue(n, ("slow", seconds))

    def malformed_next(self, n=1):
        self._queue(n, ("malformed",))

    def hang_next(self, n=1):
        self._queue(n, ("hang",))

    def answer_next(self, n=1, body=b"", status=200, ctype="application/xml; charset=utf-8", headers=None):
        self._queue(n, ("answer", status, body, ctype, headers))

    def drip_next(self, n=1, every=0.2):
        self._queue(n, ("drip", every))

    def huge_next(self, n=1, size=17 * 2**20, declare_length=True):
        self._queue(n, ("huge", size, declare_length))

    def cut_next(self, n=1):
        self._queue(n, ("cut",))

    def reset_next(self, n=1):
        self._queue(n, ("reset",))

    def _queue(self, n, action):
        with self._lock:
            self._script.extend([action] * n)

    def clear_requests(self):
        with self._lock:
            self.requests.clear()

    def gaps(self) -> list[float]:
        ts = sorted(r.t for r in self.requests)
        return [b - a for a, b in zip(ts, ts[1:], strict=False)]

    # --- serving ----------------------------------------------------------------------
    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                t = fake._server.accepted.pop(id(self.request), time.monotonic())
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                req = Request(t, parts.path, query, self.headers.get("User-Agent", ""))
                with fake._lock:
                    fake.requests.append(req)
                    action = fake._script.popleft() if fake._script else None
                if action and action[0] == "hang":
                    fake._closing.wait(120)
                    return
                if action and action[0] == "slow":
                    time.sleep(action[1])
                if action and action[0] == "status":
                    headers = {"Retry-After": str(action[2])} if action[2] is not None else {}
                    return self._send(req, action[1], b"<html>busy</html>", "text/html", headers)
                if action and action[0] == "answer":
                    return self._send(req, action[1], action[2], action[3], action[4])
                if action and action[0] == "reset":
                    import socket
                    import struct as st

                    req.status = -1
                    self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, st.pack("ii", 1, 0))
                    self.close_connection = True
                    self.request.close()  # SO_LINGER 0: the close is a reset, not an orderly end
                    return
                if action and action[0] == "huge":
                    return self._send_huge(req, action[1], action[2])
                status, body, ctype = fake._answer(parts.path, query)
                if action and action[0] == "malformed" and status == 200:
                    body = body[: len(body) // 2]
                if action and action[0] == "drip":
                    return self._send(req, status, body, ctype, every=action[1])
                if action and action[0] == "cut":
                    return self._send(req, status, body, ctype, cut=True)
                self._send(req, status, body, ctype)

            def _send_huge(self, req, size, declare_length):
                req.status = 200
                head = b'<?xml version="1.0" encoding="UTF-8"?><metadata><!--'
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/xml; charset=utf-8")
                    if declare_length:
                        self.send_header("Content-Length", str(size))
                    self.end_headers()
                    self.wfile.write(head)
                    block, sent = b"x" * 2**20, len(head)
                    while sent < size and not fake._closing.is_set():
                        self.wfile.write(block[: size - sent])
                        sent += min(len(block), size - sent)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, req, status, body, ctype, headers=None, every=0.0, cut=False):
                req.status = status
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    if cut:
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    if every:
                        for i in range(len(body)):
                            if fake._closing.wait(every):
                                return
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                        return
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up: fine
                    pass

        return Handler

    def _answer(self, path: str, query: dict) -> tuple[int, bytes, str]:
        xml = "application/xml; charset=utf-8"
        m = re.fullmatch(r"/release/([0-9a-f-]{36})/front(?:-\d+)?", path)
        if m:
            found = self.album(m.group(1))
            if found and found[1].has_art:
                return 200, PNG, "image/png"
            return 404, b"Not Found", "text/plain"
        m = re.fullmatch(r"/ws/2/([a-z-]+)/?([0-9a-f-]{36})?", path)
        if not m:
            return 404, _error("Not Found"), xml
        entity, mbid = m.group(1), m.group(2)
        if mbid:
            body = self._lookup(entity, mbid, query.get("inc", ""))
        elif "query" in query:
            body = self._search(entity, query["query"], int(query.get("limit", 25)),
                                int(query.get("offset", 0)))
        else:
            return 400, _error("Invalid request"), xml
        if body is None:
            return 404, _error("Not Found"), xml
        return 200, body, xml

    def _search(self, entity: str, q: str, limit: int, offset: int) -> bytes | None:
        if not self.artists:
            f = FIXTURES / f"search-{entity}.xml"
            return f.read_bytes() if f.is_file() else None
        terms = _parse_query(q)
        if entity == "artist":
            want = terms.get("artist", terms.get("", "")).lower()
            hits = [a for a in self.artists if want and want in a.name.lower()]
            items = [_artist_xml(a) for a in hits[offset:offset + limit]]
            return _doc(f'<artist-list count="{len(hits)}" offset="{offset}">{"".join(items)}</artist-list>')
        if entity == "release-group":
            hits = [(a, alb) for a in self.artists for alb in a.albums if _matches(a, alb, terms)]
            items = [_rg_xml(a, alb) for a, alb in hits[offset:offset + limit]]
            return _doc(f'<release-group-list count="{len(hits)}" offset="{offset}">'
                        f'{"".join(items)}</release-group-list>')
        return None

    def _lookup(self, entity: str, mbid: str, inc: str) -> bytes | None:
        art = next((a for a in self.artists if a.id == mbid), None)
        if art is not None and entity == "artist":
            return _doc(_artist_xml(art, score=False))
        found = self.album(mbid)
        if found and entity == "release" and mbid == found[1].release_id:
            return _doc(_release_xml(*found))
        if found and entity == "release-group":
            return _doc(_rg_xml(*found))
        folder = FIXTURES / entity
        if folder.is_dir():
            files = sorted(folder.glob(f"{mbid}*.xml"))
            exact = [f for f in files if f.stem == f"{mbid}-{inc.replace(' ', '+')}"]
            if exact or files:
                return (exact or files)[0].read_bytes()
        return None


class _StampingServer(ThreadingHTTPServer):
    """Takes a request's arrival time when its connection is accepted, in the one accepting thread,
    so the recorded times do not depend on when each handler thread happens to get a core."""

    def __init__(self, *args):
        super().__init__(*args)
        self.accepted: dict[int, float] = {}

    def get_request(self):
        sock, addr = super().get_request()
        self.accepted[id(sock)] = time.monotonic()
        return sock, addr


def _parse_query(q: str) -> dict[str, str]:
    """Lucene terms `field:value`, `field:"quoted"`, `field:(words)`, `field:[A TO B]` -> {field: value}."""
    out = {}
    for m in re.finditer(r'(?:(\w+):)?(\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\((?:[^)\\]|\\.)*\)|[^\s()]+)', q):
        key, val = m.group(1) or "", m.group(2)
        if not key and val.upper() in ("AND", "OR"):
            continue
        if val[0] in '"(':
            val = val[1:-1]
        out[key.lower()] = re.sub(r"\\(.)", r"\1", val)
    return out


def _matches(art: FakeArtist, alb: FakeAlbum, terms: dict) -> bool:
    if "arid" in terms and terms["arid"] != art.id:
        return False
    if "artist" in terms and terms["artist"].lower() != art.name.lower():
        return False
    if "tag" in terms and terms["tag"].lower() not in [t.lower() for t in alb.tags]:
        return False
    if "primarytype" in terms and terms["primarytype"].lower() != alb.primary_type.lower():
        return False
    if "firstreleasedate" in terms:
        m = re.fullmatch(r"\[(\d{4})\S* TO (\d{4})\S*\]", terms["firstreleasedate"])
        if m and not int(m.group(1)) <= alb.year <= int(m.group(2)):
            return False
    return True


def _doc(inner: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<metadata {NS}>{inner}</metadata>'.encode()


def _error(text: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><error><text>{escape(text)}</text></error>'.encode()


def _credit(art: FakeArtist) -> str:
    return (f'<artist-credit><name-credit><artist id="{art.id}"><name>{escape(art.name)}</name>'
            f'<sort-name>{escape(art.name)}</sort-name></artist></name-credit></artist-credit>')


def _tags(tags) -> str:
    if not tags:
        return ""
    return "<tag-list>" + "".join(f'<tag count="1"><name>{escape(t)}</name></tag>' for t in tags) + "</tag-list>"


def _artist_xml(art: FakeArtist, score: bool = True) -> str:
    scored = ' ext:score="100"' if score else ""  # search hits carry a score, look-ups do not
    return (f'<artist{scored} type="Group" id="{art.id}"><name>{escape(art.name)}</name>'
            f'<sort-name>{escape(art.name)}</sort-name>{_tags(art.tags)}</artist>')


def _rg_xml(art: FakeArtist, alb: FakeAlbum) -> str:
    return (f'<release-group ext:score="100" type={quoteattr(alb.primary_type)} id="{alb.rgid}">'
            f'<title>{escape(alb.title)}</title><first-release-date>{alb.year}</first-release-date>'
            f'<primary-type>{alb.primary_type}</primary-type>{_credit(art)}'
            f'<release-list count="1"><release id="{alb.release_id}"><title>{escape(alb.title)}</title>'
            f'</release></release-list>{_tags(alb.tags)}</release-group>')


def _release_xml(art: FakeArtist, alb: FakeAlbum) -> str:
    tracks = "".join(
        f'<track id="{_id("track", rid)}"><position>{i + 1}</position><number>{i + 1}</number>'
        f'<length>{ms}</length><recording id="{rid}"><title>{escape(title)}</title><length>{ms}</length>'
        f"{_credit(art)}</recording></track>"
        for i, (rid, title, ms) in enumerate(alb.tracks))
    art_flag = "true" if alb.has_art else "false"
    return (f'<release id="{alb.release_id}"><title>{escape(alb.title)}</title><status>Official</status>'
            f"<date>{alb.year}</date>{_credit(art)}"
            f'<release-group id="{alb.rgid}" type="{alb.primary_type}"><title>{escape(alb.title)}</title>'
            f"<first-release-date>{alb.year}</first-release-date></release-group>"
            + (f'<label-info-list count="1"><label-info><catalog-number>CAT-{alb.year}</catalog-number>'
               f'<label id="{_id("label", alb.label)}"><name>{escape(alb.label)}</name></label></label-info>'
               f"</label-info-list>" if alb.label else "")
            + f"<cover-art-archive><artwork>{art_flag}</artwork><count>{int(alb.has_art)}</count>"
            f"<front>{art_flag}</front><back>false</back></cover-art-archive>"
            f'<medium-list count="1"><medium><position>1</position>'
            f'<track-list count="{len(alb.tracks)}" offset="0">{tracks}</track-list></medium></medium-list>'
            f"</release>")


try:
    import pytest

    @pytest.fixture
    def fake_mb():
        with FakeMusicBrainz() as mb:
            yield mb
except ImportError:  # pragma: no cover - pytest is always there in the test environment
    pass
