"""The library's SQLite file: the connection, migrations, transactions and readable errors.

WAL so the app can read while a scan writes; foreign keys on so deleting a track or catalog
takes its features, attributes and ratings with it. One connection shared by threads behind a
lock (the app calls in from a worker pool). Every public write is one transaction, and
`batch()` groups many writes into one. The column lists here are the ones the tables hold.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from musicrec_engine.errors import MusicRecError
from musicrec_engine.library.migrations import SCHEMA_VERSION, migrate

TAG_FIELDS = ["title", "artist", "album", "album_artist", "track_no", "disc_no", "year", "genre",
              "mb_recording_id", "mb_track_id", "mb_release_id", "mb_release_group_id",
              "mb_artist_id", "mb_album_artist_id", "compilation"]
CATALOG_ATTRS = ["danceability", "energy", "valence", "acousticness", "instrumentalness", "liveness",
                 "speechiness", "loudness", "tempo", "key", "mode"]


class LibraryError(MusicRecError):
    """The database cannot be used as it is; the message says what to do."""


def _busy(e: sqlite3.Error) -> bool:
    msg = str(e).lower()
    return "locked" in msg or "busy" in msg


def now() -> float:
    return time.time()


class Database:
    def __init__(self, db_path: str | os.PathLike, timeout: float = 5.0):
        self.db_path = Path(db_path)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = None
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._open(timeout)
                return
            except sqlite3.Error as e:
                self.close()
                # SQLite answers "locked" at once, without waiting, when several processes open a
                # fresh file together (the switch to WAL and the first migration need the file to
                # themselves): try again until the same timeout a busy statement would wait.
                if _busy(e) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                raise self._explain(e) from None

    def _open(self, timeout: float) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.db_path), timeout=timeout, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _explain(self, e: sqlite3.Error) -> LibraryError:
        msg = str(e).lower()
        where = self.db_path
        if _busy(e):
            return LibraryError(f"the library {where} is in use by another MusicRec process; close it and try again")
        if "disk is full" in msg or "disk full" in msg or ("disk i/o error" in msg and _nearly_full(where)):
            return LibraryError(f"the disk holding the library {where} is full; free some space and try again "
                                "(nothing stored before is lost)")
        if "readonly" in msg or "read-only" in msg or "unable to open" in msg:
            return LibraryError(f"the library {where} cannot be written (read-only file or folder); "
                                "fix its permissions or choose another data folder with --home")
        if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
            return LibraryError(f"the library {where} is damaged ({e}); start afresh with "
                                "`musicrec catalog reset-library` (keeps your ratings and sets the old file aside)")
        return LibraryError(f"the library {where} failed: {e}")

    def _migrate(self) -> None:
        def too_new(version: int) -> LibraryError:
            return LibraryError(f"the library {self.db_path} was written by a newer MusicRec "
                                f"(schema {version} > {SCHEMA_VERSION}); update MusicRec")

        migrate(self._conn, too_new)

    @property
    def schema_version(self) -> int:
        return self._q("SELECT version FROM schema_version")[0][0]

    @contextmanager
    def batch(self) -> Iterator[sqlite3.Connection]:
        """One transaction for everything inside; nested batches join the outer one."""
        with self._lock:
            outer = self._depth == 0
            try:
                if outer:
                    self._conn.execute("BEGIN IMMEDIATE")
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                if outer:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as e:
                if outer and self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise self._explain(e) from None
            except BaseException:
                if outer and self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _q(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as e:
                raise self._explain(e) from None

    def query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        """Run one statement and return its rows (for the library's own modules: catalog import,
        playlists, similarity indexes)."""
        return self._q(sql, params)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def db_path(path: str | None) -> str | bytes | None:
    """A file path as SQLite can hold it without loss. Python carries a name that is not valid
    UTF-8 (a Latin-1 "caf\xe9.wav" from an old disk) with surrogate escapes, which SQLite cannot
    bind as text; such a path is stored as its raw bytes (a BLOB in the path column) instead."""
    if path is None:
        return None
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path)


def path_from_db(value: str | bytes | None) -> str | None:
    return os.fsdecode(value) if isinstance(value, bytes) else value


def _nearly_full(db_path: Path) -> bool:
    """SQLite reports a full disk as an I/O error when it cannot even create its -shm file."""
    import shutil

    try:
        return shutil.disk_usage(db_path.parent).free < 1 << 20
    except OSError:
        return False



def id_filter(column: str, ids: Iterable[int]) -> tuple[str, list[int]]:
    """(SQL condition, parameters) keeping the rows whose `column` is one of `ids` (none: no row)."""
    ids = [int(i) for i in ids]
    return (f"{column} IN ({','.join('?' * len(ids))})" if ids else "0"), ids


def num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
