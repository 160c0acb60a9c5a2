"""Album covers from the Cover Art Archive, for the GUI: fetched lazily in the background, kept on disk.

`CoverArt.get(release_id, on_ready)` never blocks: it returns the cached file at once, or None
and fetches in a background thread, then calls on_ready(release_id, path_or_None) from that
thread (the GUI hands it to its own thread with a signal), whatever happened: a failed fetch
calls back with None and its reason is in `failures`. Fetches go through the process-wide
MusicBrainz limiter, so covers never push the process past its request rate.

Nothing is trusted: only an answer that says it is an image, starts like one and is under 10 MB
is kept, and a whole fetch is limited in time (not per read). A release without art is
remembered (an empty marker) for a week, then asked again. The user's contact address is not
sent: the dialog promises it goes only to MusicBrainz, and covers come from coverartarchive.org
and archive.org.
"""

from __future__ import annotations

import http.client
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from musicrec_engine import APP_NAME, __version__
from musicrec_engine.mbids import is_mbid
from musicrec_engine.online import http_guard
from musicrec_engine.online.musicbrainz import LIMITER

log = logging.getLogger("musicrec.coverart")
ENV_CAA = "MUSICREC_CAA_URL"
DEFAULT_CAA = "https://coverartarchive.org"
MAX_BYTES = 10 * 2**20
NO_COVER_TTL = 7 * 24 * 3600.0
# what a cover file must start with: PNG, JPEG, GIF, WebP (RIFF....WEBP), BMP
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def looks_like_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


class CoverArt:
    def __init__(self, cache_dir: str | os.PathLike, base_url: str | None = None, size: int = 250,
                 interval: float = 1.0, contact: str | None = None, timeout: float = 15.0):
        # `contact` is accepted for callers that pass the MusicBrainz settings, and never sent
        self.dir = Path(cache_dir)
        self.base_url = (base_url or os.environ.get(ENV_CAA) or DEFAULT_CAA).rstrip("/")
        self.size, self.interval, self.timeout = size, interval, timeout
        self.user_agent = f"{APP_NAME}/{__version__}"
        self.failures: dict[str, str] = {}  # release id -> why its last fetch gave nothing
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="coverart")
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def url(self, release_id: str) -> str:
        return f"{self.base_url}/release/{release_id}/front-{self.size}"

    def _file(self, release_id: str) -> Path:
        if not is_mbid(release_id):
            raise ValueError(f"{release_id!r} is not a MusicBrainz release id")
        return self.dir / f"{release_id}-{self.size}.img"

    def _known(self, f: Path) -> tuple[bool, Path | None]:
        """(answered from disk, the cover or None): a real image, or a fresh "no cover" marker."""
        try:
            st = f.stat()
        except OSError:
            return False, None
        if st.st_size == 0:
            return time.time() - st.st_mtime < NO_COVER_TTL, None
        try:
            with open(f, "rb") as fh:
                if looks_like_image(fh.read(12)):
                    return True, f
        except OSError:
            return False, None
        f.unlink(missing_ok=True)  # not an image (an older version kept error pages): fetch again
        return False, None

    def cached(self, release_id: str) -> Path | None:
        """The cover on disk, or None (not fetched yet, or the release has no cover)."""
        return self._known(self._file(release_id))[1]

    def get(self, release_id: str, on_ready: Callable[[str, Path | None], None] | None = None) -> Path | None:
        known, path = self._known(self._file(release_id))
        if known:
            return path
        with self._lock:
            if release_id in self._pending:
                return None
            self._pending.add(release_id)
        self._pool.submit(self._fetch, release_id, on_ready)
        return None

    def _fetch(self, release_id: str, on_ready) -> None:
        path = None
        try:
            path = self._download(release_id)
            self.failures.pop(release_id, None)
        except Exception as e:  # whatever went wrong, the caller hears back
            reason = str(e) if isinstance(e, _Refused) else f"{type(e).__name__}: {e}"
            self.failures[release_id] = reason
            log.info("cover for %s not fetched: %s", release_id, reason)
        finally:
            with self._lock:
                self._pending.discard(release_id)
        if on_ready is not None:
            try:
                on_ready(release_id, path)
            except Exception:  # a failing callback must not kill the pool thread silently
                log.exception("cover callback failed")

    def _download(self, release_id: str) -> Path | None:
        f = self._file(release_id)
        req = urllib.request.Request(self.url(release_id), headers={"User-Agent": self.user_agent})
        guard = None
        try:
            with LIMITER.slot(self.interval):
                guard = http_guard.start(self.timeout)
                r = http_guard.OPENER.open(req, timeout=self.timeout)
            with r:
                ctype = (r.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if not ctype.startswith("image/"):
                    raise _Refused(f"the answer is {ctype or 'untyped'}, not an image")
                data = http_guard.read_capped(r, MAX_BYTES, lambda: _Refused(
                    f"the cover is larger than {MAX_BYTES // 2**20} MB"))
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise _Refused(f"HTTP {e.code}") from None
            f.parent.mkdir(parents=True, exist_ok=True)  # no cover: remembered for NO_COVER_TTL
            f.write_bytes(b"")
            return None
        except (OSError, http.client.HTTPException):
            if guard is not None and guard.tripped:
                raise _Refused(f"no complete answer within {self.timeout:g} s") from None
            raise
        finally:
            http_guard.stop(guard)
        if not looks_like_image(data[:12]):
            raise _Refused(f"the answer says {ctype} but is not a PNG, JPEG, GIF, WebP or BMP image")
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, f)
        return f

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Refused(Exception):
    """A cover answer that is not kept; the message says why."""
