"""HTTP attempts that end when their whole time is up or they are cancelled, and read at most a cap.

A socket timeout counts per read, so a server dripping a byte a second never times out, and a
thread blocked in a read cannot be cancelled. Here a guard thread watches each attempt and, at its
deadline or on cancel, shuts the attempt's socket down: the blocked read returns at once, in
whatever phase it was (connecting, waiting for headers, reading the body). The connection hands
its socket to the guard of the thread that opened it, so only OPENER's requests are guarded.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import urllib.request
from collections.abc import Callable

_current = threading.local()


class Guard:
    def __init__(self, timeout: float, cancel: threading.Event | None):
        self.deadline, self.cancel = time.monotonic() + timeout, cancel
        self.sock: socket.socket | None = None
        self.tripped: str | None = None  # "time" | "cancel"
        self._done = threading.Event()
        threading.Thread(target=self._watch, daemon=True, name="http-guard").start()

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            if self.cancel is not None and self.cancel.is_set():
                return self._trip("cancel")
            if time.monotonic() >= self.deadline:
                return self._trip("time")

    def _trip(self, why: str) -> None:
        self.tripped = why
        self._shutdown()

    def attach(self, sock: socket.socket) -> None:
        self.sock = sock
        if self.tripped:
            self._shutdown()

    def _shutdown(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


def start(timeout: float, cancel: threading.Event | None = None) -> Guard:
    """Guard this thread's next OPENER request for `timeout` seconds in all."""
    guard = _current.guard = Guard(timeout, cancel)
    return guard


def stop(guard: Guard | None) -> None:
    if guard is not None:
        guard._done.set()
    _current.guard = None


def _guarded(cls):
    class Guarded(cls):
        def connect(self):
            super().connect()
            guard = getattr(_current, "guard", None)
            if guard is not None:
                guard.attach(self.sock)

    return Guarded


class _GuardedHTTP(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_guarded(http.client.HTTPConnection), req)


class _GuardedHTTPS(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_guarded(http.client.HTTPSConnection), req, context=self._context)


OPENER = urllib.request.build_opener(_GuardedHTTP, _GuardedHTTPS)


def read_capped(f, max_body: int, too_big: Callable[[], Exception]) -> bytes:
    """The whole body of response `f`, raising too_big() past `max_body` bytes (before reading
    any when the headers announce more), and IncompleteRead when it ends short of its
    Content-Length or its guard stopped it (read(n) returns a cut-off answer quietly)."""
    declared = None
    with contextlib.suppress(TypeError, ValueError):
        declared = int(f.headers.get("Content-Length"))
    if declared is not None and declared > max_body:
        raise too_big()
    chunks, total = [], 0
    while chunk := f.read(64 * 1024):
        total += len(chunk)
        if total > max_body:
            raise too_big()
        chunks.append(chunk)
    guard = getattr(_current, "guard", None)
    if (declared is not None and total < declared) or (guard is not None and guard.tripped):
        raise http.client.IncompleteRead(b"".join(chunks), (declared or total) - total)
    return b"".join(chunks)
