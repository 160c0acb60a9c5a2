"""The rate-limited, cached MusicBrainz client, on musicbrainzngs.

musicbrainzngs builds the URLs and parses ws/2 XML; we take over what it does not guarantee:
- its limiter only paces the *first* attempt of a call (its own retries inside `_safe_read` sleep
  2, 4, 6... s and are never paced), measures from when a call was let in rather than from when
  the previous request was answered, and there is no request timeout; so its limiter is switched
  off and `_safe_read` is replaced by `_one_attempt`: every HTTP attempt made by anyone in this
  process through musicbrainzngs takes LIMITER's slot, then runs under a guard that ends it when
  its whole time is up or the search is cancelled (a socket timeout alone is per read, so a
  server dripping a byte a second would never time out), and reads at most 16 MB;
- answers are checked for the shape the album search relies on before anyone uses or caches them,
  and anything the XML parser raises is a BadResponse, so a strange answer is one reported error;
- retries with exponential back-off (honouring Retry-After) live in `MusicBrainz._call`, so
  each retry is paced too, and cancellation is checked between them;
- responses are cached in the library database (`cache_get/cache_put`) with an expiry, so a
  repeated search costs no request, and offline mode answers from the cache only.
musicbrainzngs keeps host and User-Agent in module globals; `_one_attempt` puts each thread's
own host and contact back on the request, so clients with different settings can coexist.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import logging
import os
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, replace

import musicbrainzngs
import musicbrainzngs.musicbrainz as _ngs

from musicrec_engine import APP_NAME, __version__
from musicrec_engine.errors import MusicRecError
from musicrec_engine.jobs import Cancelled
from musicrec_engine.mbids import is_mbid
from musicrec_engine.online import http_guard
from musicrec_engine.online.ws2_shapes import Shape as _Shape
from musicrec_engine.online.ws2_shapes import artist as _artist_shape
from musicrec_engine.online.ws2_shapes import artists as _artists_shape
from musicrec_engine.online.ws2_shapes import release as _release_shape
from musicrec_engine.online.ws2_shapes import release_groups as _release_groups_shape

log = logging.getLogger("musicrec.musicbrainz")

ENV_HOST, ENV_RATE, ENV_CONTACT = "MUSICREC_MB_HOST", "MUSICREC_MB_RATE", "MUSICREC_CONTACT"
PUBLIC_HOST = "musicbrainz.org"
PUBLIC_MAX_RATE = 1.0  # MusicBrainz's published limit per client
# A release look-up brings its tracks, their credits and its label in the one request.
RELEASE_INCLUDES = ["recordings", "artist-credits", "labels"]
MAX_BODY = 16 * 2**20  # no ws/2 answer we ask for comes near this; a bigger one is not MusicBrainz


class MusicBrainzError(MusicRecError):
    """A MusicBrainz request that could not be answered; the message says why in one sentence."""


class MissingContact(MusicBrainzError):
    exit_code = 2


class NotFound(MusicBrainzError):
    pass


class Unreachable(MusicBrainzError):
    pass


class Busy(MusicBrainzError):
    pass


class BadResponse(MusicBrainzError):
    pass


class Offline(MusicBrainzError):
    pass


class _Transient(Exception):
    """One attempt failed in a way worth retrying (503, 429, other 5xx, timeout, reset)."""

    def __init__(self, what: str, retry_after: float | None = None):
        super().__init__(what)
        self.what, self.retry_after = what, retry_after


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_public(netloc: str) -> bool:
    """Whether a host is musicbrainz.org or one of its subdomains, however it is spelled:
    case, a port, brackets or the DNS root's trailing dot ("MusicBrainz.org.") do not matter."""
    try:
        name = (urllib.parse.urlsplit("//" + netloc).hostname or "").rstrip(".")
    except ValueError:
        name = netloc.lower()
    return name == PUBLIC_HOST or name.endswith("." + PUBLIC_HOST)


@dataclass(frozen=True)
class Settings:
    host: str = PUBLIC_HOST
    rate: float = PUBLIC_MAX_RATE
    contact: str | None = None
    offline: bool = False
    timeout: float = 20.0  # one attempt, from connecting to the last byte; a stuck server costs this per try
    retry_budget: float = 30.0  # total back-off sleep before giving up on a busy server
    backoff_base: float = 1.0
    cache_ttl: float = 7 * 24 * 3600.0
    max_body: int = MAX_BODY

    @classmethod
    def from_env(cls, base: Settings | None = None, **overrides) -> Settings:
        """`base` (saved settings) < environment < explicit overrides (None means not given)."""
        s = base or cls()
        if os.environ.get(ENV_HOST):
            s = replace(s, host=os.environ[ENV_HOST].strip())
        if os.environ.get(ENV_RATE):
            try:
                s = replace(s, rate=float(os.environ[ENV_RATE]))
            except ValueError as e:
                raise MusicBrainzError(f"{ENV_RATE} must be a number of requests per second, "
                                       f"not {os.environ[ENV_RATE]!r}") from e
        if os.environ.get(ENV_CONTACT):
            s = replace(s, contact=os.environ[ENV_CONTACT].strip())
        return replace(s, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def netloc(self) -> str:
        return re.sub(r"^https?://", "", self.host).rstrip("/")

    @property
    def use_https(self) -> bool:
        if self.host.startswith("http://"):
            return False
        return self.host.startswith("https://") or not is_loopback(self.netloc)

    @property
    def effective_rate(self) -> float:
        if self.rate <= 0:
            raise MusicBrainzError(f"the MusicBrainz rate must be above 0 requests per second, not {self.rate}")
        if is_public(self.netloc):
            return min(self.rate, PUBLIC_MAX_RATE)
        return self.rate

    @property
    def interval(self) -> float:
        return 1.0 / self.effective_rate


class RateLimiter:
    """Process-wide: no two requests start less than `interval` seconds apart, whichever threads ask.

    One request at a time holds the slot, from its start until its answer's headers are in (or it
    failed), and the clock for the next one starts then. A request cannot reach the server after
    its answer began, so however late a thread was scheduled between leaving here and sending,
    the next request still arrives at least `interval` after it. The price is the server's latency
    added to each interval. Threads waiting for the slot check their cancel event every 0.1 s.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._last = float("-inf")

    @contextmanager
    def slot(self, interval: float, cancel: threading.Event | None = None):
        gap = interval + min(0.01, interval * 0.02)  # absorbs clock granularity at the server
        while not self._lock.acquire(timeout=0.1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("MusicBrainz search cancelled")
        try:
            while (left := self._last + gap - time.monotonic()) > 0:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("MusicBrainz search cancelled")
                time.sleep(min(left, 0.1))
            try:
                yield
            finally:
                self._last = time.monotonic()
        finally:
            self._lock.release()


LIMITER = RateLimiter()
_context = threading.local()  # interval/timeout/cancel of the request this thread is making
_setup_lock = threading.Lock()


def _one_attempt(opener, req, body=None):
    """Replaces musicbrainzngs' `_safe_read`: one paced attempt, whole-time limited, cancellable
    and size-capped, errors classified. (musicbrainzngs' opener is not used: ours lets the guard
    reach the socket.)"""
    interval = getattr(_context, "interval", 1.0 / PUBLIC_MAX_RATE)
    timeout = getattr(_context, "timeout", 30.0)
    cancel = getattr(_context, "cancel", None)
    max_body = getattr(_context, "max_body", MAX_BODY)
    base = getattr(_context, "base", None)
    if base:  # musicbrainzngs keeps host and User-Agent in globals: this thread's own settings win
        path = urllib.parse.urlsplit(req.full_url)
        req.full_url = base + path.path + (f"?{path.query}" if path.query else "")
        req.add_header("User-Agent", _context.user_agent)
    guard, answered = None, False
    try:
        with LIMITER.slot(interval, cancel):
            guard = http_guard.start(timeout, cancel)
            f = http_guard.OPENER.open(req, body, timeout=timeout)
        answered = True
        with f:
            return http_guard.read_capped(f, max_body, lambda: BadResponse(
                f"MusicBrainz at {req.host} sent an answer larger than {max_body // 2**20} MB; it was not read"))
    except (MusicBrainzError, Cancelled):
        raise
    except Exception as e:
        if guard is not None and guard.tripped == "cancel":
            raise Cancelled("MusicBrainz search cancelled") from e
        if guard is not None and guard.tripped == "time":
            raise _Transient(f"no {'complete ' if answered else ''}answer within {timeout:g} s") from e
        _classify(e, req, timeout)
        raise
    finally:
        http_guard.stop(guard)


def _classify(e: Exception, req, timeout: float) -> None:
    """Raise the error a failed attempt means: retry (_Transient) or a final MusicBrainzError."""
    if isinstance(e, urllib.error.HTTPError):
        if e.code == 429 or e.code >= 500:
            retry_after = None
            with contextlib.suppress(TypeError, ValueError):
                retry_after = float(e.headers.get("Retry-After"))
            raise _Transient(f"HTTP {e.code}", retry_after) from e
        if e.code == 404:
            raise NotFound("MusicBrainz has no such entry (HTTP 404)") from e
        raise MusicBrainzError(f"MusicBrainz refused the request (HTTP {e.code} {e.reason})") from e
    if isinstance(e, urllib.error.URLError):
        if isinstance(e.reason, TimeoutError):
            raise _Transient(f"no answer within {timeout:g} s") from e
        if isinstance(e.reason, ConnectionResetError):
            raise _Transient("connection reset") from e
        raise Unreachable(f"cannot reach MusicBrainz at {req.host}: {e.reason}; "
                          "check the network or use offline mode") from e
    if isinstance(e, TimeoutError):
        raise _Transient(f"no answer within {timeout:g} s") from e
    if isinstance(e, OSError | http.client.HTTPException):  # reset, cut short, broken pipe
        raise _Transient(f"connection broke ({e.__class__.__name__})") from e


def valid_contact(contact: str | None) -> bool:
    c = (contact or "").strip()
    return bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", c) or re.match(r"https?://\S+\.\S+", c))


class MusicBrainz:
    """Searches and lookups, paced, retried, cached. `cache` has cache_get(key)/cache_put(key, bytes, ttl)."""

    def __init__(self, settings: Settings | None = None, cache=None):
        self.settings = settings or Settings.from_env()
        self.cache = cache
        self.requests_made = 0  # HTTP attempts by this client (cache hits cost none)
        self._count_lock = threading.Lock()

    # --- queries ----------------------------------------------------------------------
    def search_artists(self, name: str, limit: int = 5, cancel=None) -> list[dict]:
        name = (name or "").strip()
        if not name:
            raise MusicBrainzError("an artist search needs a name")
        q = f"artist:{_quote(name)}"
        return self._call("search_artists", {"query": q, "limit": limit}, cancel, _artists_shape)["artist-list"]

    def search_release_groups(self, artist_id: str | None = None, artist: str | None = None,
                              tag: str | None = None, years: tuple[int, int] | None = None,
                              albums_only: bool = True, limit: int = 100, cancel=None) -> list[dict]:
        terms = []
        if artist_id:
            terms.append(f"arid:{_quote(artist_id)}")
        if artist and artist.strip():
            terms.append(f"artist:{_quote(artist.strip())}")
        if tag and tag.strip():
            terms.append(f"tag:{_quote(tag.strip())}")
        if not terms:
            raise MusicBrainzError("an album search needs an artist or a tag (a year range alone matches "
                                   "too much)")
        if years:
            terms.append(f"firstreleasedate:[{int(years[0])} TO {int(years[1])}]")
        if albums_only:
            terms.append("primarytype:album")
        q = " AND ".join(terms)
        return self._call("search_release_groups", {"query": q, "limit": limit}, cancel,
                          _release_groups_shape)["release-group-list"]

    def release_with_recordings(self, release_id: str, cancel=None) -> dict:
        """One request: the release with every medium's tracks and their recordings."""
        _check_mbid(release_id, "release")
        return self._call("get_release_by_id", {"id": release_id, "includes": RELEASE_INCLUDES},
                          cancel, _release_shape)["release"]

    def artist_tags(self, artist_id: str, cancel=None) -> dict:
        """One request: the artist with its tags (MusicBrainz's genres are tags too), for scoring an
        album by metadata when none of its recordings can be judged by sound."""
        _check_mbid(artist_id, "artist")
        return self._call("get_artist_by_id", {"id": artist_id, "includes": ["tags"]}, cancel,
                          _artist_shape)["artist"]

    def is_cached(self, method: str, **kwargs) -> bool:
        return self.cache is not None and self.cache.cache_get(self._key(method, kwargs)) is not None

    # --- machinery --------------------------------------------------------------------
    def _key(self, method: str, kwargs: dict) -> str:
        return "mb:" + json.dumps([self.settings.netloc, method, kwargs], sort_keys=True)

    def _call(self, method: str, kwargs: dict, cancel: threading.Event | None, shape) -> dict:
        """The answer, from the cache or the server, in the shape `shape` normalises it to;
        only an answer of the right shape is cached."""
        key = self._key(method, kwargs)
        if self.cache is not None:
            hit = self.cache.cache_get(key)
            if hit is not None:
                with contextlib.suppress(ValueError, _Shape):  # a bad entry is asked for again
                    return shape(json.loads(hit))
        if self.settings.offline:
            raise Offline("offline mode: this MusicBrainz answer is not in the cache yet")
        self._configure()
        try:
            value = shape(self._with_retries(method, kwargs, cancel))
        except _Shape as e:
            raise BadResponse(f"MusicBrainz at {self.settings.netloc} sent an answer of an unexpected shape ({e})"
                              ) from None
        if self.cache is not None:
            self.cache.cache_put(key, json.dumps(value).encode(), self.settings.cache_ttl)
        return value

    def _configure(self) -> None:
        s = self.settings
        if not valid_contact(s.contact):
            raise MissingContact("MusicBrainz asks every program for a contact address: set one in Settings or "
                                 f"with {ENV_CONTACT}=you@example.com")
        with _setup_lock:
            musicbrainzngs.set_useragent(APP_NAME, __version__, s.contact)
            musicbrainzngs.set_hostname(s.netloc, use_https=s.use_https)
            musicbrainzngs.set_rate_limit(False)  # LIMITER paces every attempt instead
            _ngs._safe_read = _one_attempt
            # Its limiter's lock is held for a whole request even when switched off, so a thread
            # waiting behind a slow request could not be cancelled; LIMITER's slot serialises instead.
            if isinstance(_ngs._mb_request, _ngs._rate_limit):
                _ngs._mb_request = _ngs._mb_request.fun

    def _with_retries(self, method: str, kwargs: dict, cancel) -> dict:
        s = self.settings
        fn = getattr(musicbrainzngs, method)
        slept, attempt = 0.0, 0
        _context.interval, _context.timeout, _context.cancel = s.interval, s.timeout, cancel
        _context.max_body = s.max_body
        _context.base = f"{'https' if s.use_https else 'http'}://{s.netloc}"
        _context.user_agent = f"{APP_NAME}/{__version__} python-musicbrainzngs/{_ngs._version} ( {s.contact} )"
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("MusicBrainz search cancelled")
                with self._count_lock:
                    self.requests_made += 1
                try:
                    return fn(**kwargs)
                except _Transient as e:
                    delay = max(e.retry_after or 0.0, s.backoff_base * 2 ** attempt * random.uniform(0.8, 1.2))
                    if slept + delay > s.retry_budget:
                        raise Busy(f"MusicBrainz at {s.netloc} kept failing ({e.what}); gave up after "
                                   f"{attempt + 1} tries over {slept:.0f} s of waiting, try again later") from e
                    log.info("MusicBrainz %s (%s); retrying in %.2f s", method, e.what, delay)
                    if cancel is not None and cancel.wait(delay):
                        raise Cancelled("MusicBrainz search cancelled") from e
                    if cancel is None:
                        time.sleep(delay)
                    slept += delay
                    attempt += 1
                except musicbrainzngs.ResponseError as e:
                    raise BadResponse(f"MusicBrainz at {s.netloc} sent an answer that is not valid ws/2 XML "
                                      f"({e.cause or e})") from e
                except musicbrainzngs.UsageError as e:
                    raise MusicBrainzError(f"invalid MusicBrainz query: {e}") from e
                except (MusicBrainzError, Cancelled):
                    raise
                except Exception as e:  # the XML parser on well-formed XML of a shape it does not expect
                    raise BadResponse(f"MusicBrainz at {s.netloc} sent an answer of an unexpected shape "
                                      f"({type(e).__name__}: {e})") from e
        finally:
            _context.cancel = _context.base = None


def _quote(value: str) -> str:
    return '"' + re.sub(r'(["\\])', r"\\\1", value) + '"'


def _check_mbid(mbid: str, what: str) -> None:
    if not is_mbid(mbid):
        raise NotFound(f"{mbid!r} is not a MusicBrainz {what} id (expected a UUID)")
