"""The feature cache: analysis results keyed by file content, so unchanged files are never redone.

A SQLite store under the cache folder (WAL, one writer: the process running the batch).
- `file_ids` maps (device, inode, size, mtime) to the content hash: a renamed or moved file on
  the same disk keeps its inode and mtime, so it is recognised without re-reading its bytes,
  which keeps a re-analysis a look-up even for a 30 MB FLAC. A copy is hashed once.
- `vectors` holds each pipeline's vector under (content hash, schema hash): a new schema misses.
- `analyses` holds duration and attributes under (content hash, analysis key), where the key
  covers both schema hashes and a fingerprint of the attribute code and models, so attributes
  computed by older code or models are recomputed, not reused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_ids (
  dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER, content_hash TEXT NOT NULL,
  PRIMARY KEY (dev, ino));
CREATE TABLE IF NOT EXISTS vectors (
  content_hash TEXT, schema_hash TEXT, n INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (content_hash, schema_hash));
CREATE TABLE IF NOT EXISTS analyses (
  content_hash TEXT, analysis_key TEXT, duration REAL NOT NULL, analysed_seconds REAL NOT NULL,
  attributes TEXT NOT NULL, PRIMARY KEY (content_hash, analysis_key));
"""


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class FeatureCache:
    def __init__(self, db_path: str | os.PathLike):
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()  # sqlite connections stay in the thread that opened them
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # --- identity -----------------------------------------------------------------------
    def known_hash(self, st: os.stat_result) -> str | None:
        dev, ino, size, mtime = stat_key(st)
        row = self._db().execute("SELECT content_hash FROM file_ids WHERE dev=? AND ino=? AND size=? "
                                 "AND mtime_ns=?", (dev, ino, size, mtime)).fetchone()
        return row[0] if row else None

    def remember_hash(self, key: tuple[int, int, int, int], content_hash: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO file_ids VALUES (?,?,?,?,?)", (*key, content_hash))

    # --- vectors and analyses -----------------------------------------------------------
    def get_vector(self, content_hash: str, schema_hash: str) -> np.ndarray | None:
        row = self._db().execute("SELECT n, data FROM vectors WHERE content_hash=? AND schema_hash=?",
                                 (content_hash, schema_hash)).fetchone()
        if not row or len(row[1]) != row[0] * 8:
            return None
        return np.frombuffer(row[1], dtype="<f8").copy()

    def put_vector(self, content_hash: str, schema_hash: str, values: np.ndarray) -> None:
        data = np.asarray(values, dtype="<f8").tobytes()
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO vectors VALUES (?,?,?,?)",
                       (content_hash, schema_hash, len(values), data))

    def get_analysis(self, content_hash: str, analysis_key: str) -> dict | None:
        row = self._db().execute("SELECT duration, analysed_seconds, attributes FROM analyses "
                                 "WHERE content_hash=? AND analysis_key=?", (content_hash, analysis_key)).fetchone()
        if not row:
            return None
        return {"duration": row[0], "analysed_seconds": row[1], "attributes": json.loads(row[2])}

    def put_analysis(self, content_hash: str, analysis_key: str, duration: float, analysed_seconds: float,
                     attributes: dict, vectors: dict[str, tuple[str, np.ndarray]]) -> None:
        """Store one file's analysis and its vectors ({pipeline: (schema_hash, values)}) atomically."""
        with self._db() as db:
            for schema_hash, values in vectors.values():
                db.execute("INSERT OR REPLACE INTO vectors VALUES (?,?,?,?)", (
                    content_hash, schema_hash, len(values), np.asarray(values, dtype="<f8").tobytes()))
            db.execute("INSERT OR REPLACE INTO analyses VALUES (?,?,?,?,?)", (
                content_hash, analysis_key, duration, analysed_seconds, json.dumps(attributes)))
