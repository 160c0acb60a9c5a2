"""Album covers from the Cover Art Archive, for the GUI: fetched lazily in the background, kept on disk.

`CoverArt.get(release_id, on_ready)` never blocks: it returns the cached file at once, or None
and fetches in a background thread, then calls on_ready(release_id, path_or_None) from that
thread (the GUI hands it to its own thread with a signal). Fetches go through the process-wide
MusicBrainz limiter, so covers never push the process past its request rate. A release without
art is remembered (an empty marker) so it is not asked for again.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from musicrec_engine import APP_NAME, __version__
from musicrec_engine.online.musicbrainz import LIMITER

log = logging.getLogger("musicrec.coverart")
ENV_CAA = "MUSICREC_CAA_URL"
DEFAULT_CAA = "https://coverartarchive.org"


class CoverArt:
    def __init__(self, cache_dir: str | os.PathLike, base_url: str | None = None, size: int = 250,
                 interval: float = 1.0, contact: str | None = None, timeout: float = 15.0):
        self.dir = Path(cache_dir)
        self.base_url = (base_url or os.environ.get(ENV_CAA) or DEFAULT_CAA).rstrip("/")
        self.size, self.interval, self.timeout = size, interval, timeout
        self.user_agent = f"{APP_NAME}/{__version__} ( {contact or 'no contact given'} )"
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="coverart")
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def url(self, release_id: str) -> str:
        return f"{self.base_url}/release/{release_id}/front-{self.size}"

    def _file(self, release_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f-]{36}", release_id or ""):
            raise ValueError(f"{release_id!r} is not a MusicBrainz release id")
        return self.dir / f"{release_id}-{self.size}.img"

    def cached(self, release_id: str) -> Path | None:
        """The cover on disk, or None (not fetched yet, or the release has no cover)."""
        f = self._file(release_id)
        return f if f.is_file() and f.stat().st_size > 0 else None

    def get(self, release_id: str, on_ready: Callable[[str, Path | None], None] | None = None) -> Path | None:
        f = self._file(release_id)
        if f.is_file():
            return f if f.stat().st_size > 0 else None
        with self._lock:
            if release_id in self._pending:
                return None
            self._pending.add(release_id)
        self._pool.submit(self._fetch, release_id, on_ready)
        return None

    def _fetch(self, release_id: str, on_ready) -> None:
        f = self._file(release_id)
        path = None
        try:
            req = urllib.request.Request(self.url(release_id), headers={"User-Agent": self.user_agent})
            with LIMITER.slot(self.interval):
                r = urllib.request.urlopen(req, timeout=self.timeout)
            with r:
                data = r.read()
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_suffix(".part")
            tmp.write_bytes(data)
            os.replace(tmp, f)
            path = f
        except urllib.error.HTTPError as e:
            if e.code == 404:  # no cover: remember, so the GUI does not ask again
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(b"")
            else:
                log.info("cover for %s: HTTP %s", release_id, e.code)
        except (OSError, urllib.error.URLError) as e:
            log.info("cover for %s not fetched: %s", release_id, e)
        finally:
            with self._lock:
                self._pending.discard(release_id)
        if on_ready is not None:
            try:
                on_ready(release_id, path)
            except Exception:  # a failing callback must not kill the pool thread silently
                log.exception("cover callback failed")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
