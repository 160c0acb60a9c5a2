"""The library: one SQLite file holding tracks, tags, features, attributes, ratings, predictions,
catalogs, albums and the HTTP cache.

WAL so the app can read while a scan writes; foreign keys on so deleting a track or catalog
takes its features, attributes and ratings with it. One connection shared by threads behind a
lock (the app calls in from a worker pool). Every public write is one transaction, and
`batch()` groups many writes into one.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import ALL_ATTRIBUTES
from musicrec_engine.errors import MusicRecError
from musicrec_engine.library import heard_tags as listened_tags
from musicrec_engine.library.migrations import SCHEMA_VERSION, migrate

log = logging.getLogger("musicrec.library")
TAG_FIELDS = ["title", "artist", "album", "album_artist", "track_no", "disc_no", "year", "genre",
              "mb_recording_id", "mb_track_id", "mb_release_id", "mb_release_group_id",
              "mb_artist_id", "mb_album_artist_id"]
CATALOG_ATTRS = ["danceability", "energy", "valence", "acousticness", "instrumentalness", "liveness",
                 "speechiness", "loudness", "tempo", "key", "mode"]
_TRACK_COLS = ["id", "path", "content_hash", "size", "mtime", *TAG_FIELDS, "duration", "status", "error",
               "missing", "added_at", "analysed_at"]


class LibraryError(MusicRecError):
    """The database cannot be used as it is; the message says what to do."""


def _now() -> float:
    return time.time()


class Library:
    def __init__(self, db_path: str | os.PathLike, timeout: float = 5.0):
        self.db_path = Path(db_path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.db_path), timeout=timeout, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as e:
            raise self._explain(e) from None

    # --- connection, transactions, errors ---------------------------------------------------
    def _explain(self, e: sqlite3.Error) -> LibraryError:
        msg = str(e).lower()
        where = self.db_path
        if "locked" in msg or "busy" in msg:
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
        """Run one statement and return its rows (for the library's own modules: playlists)."""
        return self._q(sql, params)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- tracks -----------------------------------------------------------------------------
    def store_analysis(self, result, tags: dict | None = None) -> int:
        """Upsert the analysed file by path: tags, file facts, features and attributes. Returns the track id.

        `tags` defaults to what scan.read_tags finds in the file (the file is only read)."""
        from musicrec_engine.library import scan

        path = str(Path(result.path).resolve())
        if tags is None:
            tags = scan.read_tags(path)
        try:
            st = os.stat(path)
            size, mtime = st.st_size, st.st_mtime
        except OSError:
            size = mtime = None
        ok = getattr(result, "status", "ok") == "ok"
        with self.batch() as c:
            values = clean_tags(tags)
            values.update(path=path, content_hash=getattr(result, "content_hash", None), size=size, mtime=mtime,
                          duration=getattr(result, "duration", None), status="ok" if ok else "error",
                          error=getattr(result, "error", None), analysed_at=_now())
            track_id = self._upsert_track(c, values)
            c.execute("DELETE FROM features WHERE track_id=?", (track_id,))
            c.execute("DELETE FROM attributes WHERE track_id=?", (track_id,))
            if ok:
                names = getattr(result, "feature_names", {}) or {}
                hashes = getattr(result, "schema_hash", {}) or {}
                for pipeline, vec in (getattr(result, "features", {}) or {}).items():
                    if vec is None:
                        continue
                    sh = hashes.get(pipeline) or f"{pipeline}-{len(vec)}"
                    c.execute("INSERT OR IGNORE INTO feature_schemas VALUES (?,?,?)",
                              (sh, pipeline, json.dumps(list(names.get(pipeline, [])))))
                    c.execute("INSERT INTO features VALUES (?,?,?,?)",
                              (track_id, pipeline, sh, np.asarray(vec, dtype=np.float32).tobytes()))
                for name, a in (getattr(result, "attributes", {}) or {}).items():
                    d = a if isinstance(a, dict) else a.to_dict()
                    c.execute("INSERT INTO attributes (track_id, name, value, provenance, confidence, source, basis) "
                              "VALUES (?,?,?,?,?,?,?)",
                              (track_id, name, _num(d.get("value")), d.get("provenance", "estimated"),
                               _num(d.get("confidence")), d.get("source"), d.get("basis")))
            listened_tags.write(c, track_id, getattr(result, "tags", None) if ok else None,
                                getattr(result, "embeddings", None), getattr(result, "listening_schema", None))
        return track_id

    def _upsert_track(self, c: sqlite3.Connection, values: dict) -> int:
        values = {**values, "path": db_path(values["path"])}
        cols = [k for k in values if k != "path"]
        row = c.execute("SELECT id FROM tracks WHERE path=?", (values["path"],)).fetchone()
        if row:
            c.execute(f"UPDATE tracks SET {', '.join(f'{k}=?' for k in cols)}, missing=0 WHERE id=?",
                      [values[k] for k in cols] + [row[0]])
            return row[0]
        cur = c.execute(f"INSERT INTO tracks (path, added_at, {', '.join(cols)}) VALUES (?, ?, {', '.join('?' * len(cols))})",
                        [values["path"], _now()] + [values[k] for k in cols])
        self._claim_pending(c, cur.lastrowid, values)
        return cur.lastrowid

    def _claim_pending(self, c: sqlite3.Connection, track_id: int, values: dict) -> None:
        """A new track takes a rating that was waiting for it (same path, content or recording)."""
        keys = [("path", values.get("path")), ("content_hash", values.get("content_hash")),
                ("mbid", values.get("mb_recording_id"))]
        for col, key in keys:
            if not key:
                continue
            row = c.execute(f"SELECT id, value, rated_at FROM pending_ratings WHERE source!='catalog' AND {col}=? "
                            "ORDER BY rated_at DESC LIMIT 1", (key,)).fetchone()
            if row:
                c.execute("INSERT OR REPLACE INTO ratings VALUES (?,?,?)", (track_id, row[1], row[2]))
                if col != "mbid":  # one recording may be on disk several times; a file is one track
                    c.execute("DELETE FROM pending_ratings WHERE id=?", (row[0],))
                return

    def claim_pending_catalog_ratings(self, catalog_id: int) -> int:
        """After an import: attach waiting ratings by catalog name + id, or by MusicBrainz id."""
        with self.batch() as c:
            before = c.total_changes
            c.execute("INSERT OR REPLACE INTO catalog_ratings SELECT ct.id, p.value, p.rated_at FROM pending_ratings p "
                      "JOIN catalogs k ON k.name=p.catalog JOIN catalog_tracks ct ON ct.catalog_id=k.id "
                      "AND ct.external_id=p.external_id WHERE k.id=? AND p.source='catalog'", (catalog_id,))
            c.execute("DELETE FROM pending_ratings WHERE source='catalog' AND catalog=(SELECT name FROM catalogs "
                      "WHERE id=?) AND external_id IN (SELECT external_id FROM catalog_tracks WHERE catalog_id=?)",
                      (catalog_id, catalog_id))
            c.execute("INSERT OR REPLACE INTO catalog_ratings SELECT ct.id, p.value, p.rated_at FROM pending_ratings p "
                      "JOIN catalog_tracks ct ON ct.mbid=p.mbid WHERE ct.catalog_id=? AND p.source='mbid'",
                      (catalog_id,))
            return c.total_changes - before

    def add_file(self, path: str, tags: dict, content_hash: str | None, size: int | None, mtime: float | None,
                 status: str = "pending", error: str | None = None) -> int:
        """Record a file before (or without) analysis, e.g. one that failed to decode."""
        with self.batch() as c:
            return self._upsert_track(c, {**clean_tags(tags), "path": path,
                                          "content_hash": content_hash, "size": size, "mtime": mtime,
                                          "status": status, "error": error})

    def move_track(self, track_id: int, new_path: str, size: int | None, mtime: float | None) -> None:
        """A file moved or renamed: keep its id, features, attributes and rating."""
        with self.batch() as c:
            c.execute("UPDATE tracks SET path=?, size=?, mtime=?, missing=0 WHERE id=?",
                      (db_path(new_path), size, mtime, track_id))

    def set_missing(self, track_ids: Iterable[int], missing: bool = True) -> None:
        with self.batch() as c:
            c.executemany("UPDATE tracks SET missing=? WHERE id=?", [(int(missing), int(t)) for t in track_ids])

    def remove_tracks(self, track_ids: Iterable[int]) -> None:
        with self.batch() as c:
            c.executemany("DELETE FROM tracks WHERE id=?", [(int(t),) for t in track_ids])

    def file_index(self) -> dict[str, tuple[int, int | None, float | None, str | None, int, str]]:
        """path -> (id, size, mtime, content_hash, missing, status): what a re-scan compares against."""
        return {path_from_db(r[0]): tuple(r[1:]) for r in
                self._q("SELECT path, id, size, mtime, content_hash, missing, status FROM tracks")}

    def tracks(self, include_missing: bool = False, ids: Iterable[int] | None = None) -> list[dict]:
        where = [] if include_missing else ["t.missing=0"]
        params: list = []
        if ids is not None:
            ids = [int(i) for i in ids]
            where.append(f"t.id IN ({','.join('?' * len(ids))})" if ids else "0")
            params += ids
        sql = (f"SELECT {', '.join('t.' + c for c in _TRACK_COLS)}, r.value, p.prob FROM tracks t "
               "LEFT JOIN ratings r ON r.track_id=t.id LEFT JOIN predictions p ON p.track_id=t.id "
               f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY t.album_artist, t.artist, t.album, "
               "t.disc_no, t.track_no, t.path")
        rows = self._q(sql, params)
        attrs = self._attributes([r[0] for r in rows] if ids is not None else None)
        heard = listened_tags.shown_tags(self, [r[0] for r in rows] if ids is not None else None)
        out = []
        for r in rows:
            d = dict(zip(_TRACK_COLS, r[: len(_TRACK_COLS)], strict=True))
            d["path"] = path_from_db(d["path"])
            d["mbid"] = d["mb_recording_id"]
            d["missing"] = bool(d["missing"])
            d["rating"] = r[-2]
            d["predicted_like"] = r[-1]
            d["attributes"] = attrs.get(d["id"], {})
            d["tags"] = heard.get(d["id"], [])
            d["source"] = "library"
            out.append(d)
        return out

    def _attributes(self, ids: list[int] | None) -> dict[int, dict]:
        sql = "SELECT track_id, name, value, provenance, confidence, source, basis FROM attributes"
        params: list = []
        if ids is not None:
            if not ids:
                return {}
            sql += f" WHERE track_id IN ({','.join('?' * len(ids))})"
            params = ids
        out: dict[int, dict] = {}
        for tid, name, value, prov, conf, source, basis in self._q(sql, params):
            d = {"value": value, "provenance": prov, "confidence": conf}
            if source or basis:
                d.update(source=source, basis=basis)
            out.setdefault(tid, {})[name] = d
        return out

    def track(self, id_or_path: int | str | os.PathLike) -> dict | None:
        if isinstance(id_or_path, int) or (isinstance(id_or_path, str) and id_or_path.isdigit()
                                             and not Path(id_or_path).exists()):
            row = self._q("SELECT id FROM tracks WHERE id=?", (int(id_or_path),))
        else:
            p = Path(id_or_path)
            row = self._q("SELECT id FROM tracks WHERE path=?", (db_path(str(p.resolve())),))
            if not row:
                row = self._q("SELECT id FROM tracks WHERE path=?", (db_path(str(p)),))
        if not row:
            return None
        found = self.tracks(include_missing=True, ids=[row[0][0]])
        return found[0] if found else None

    def track_by_hash(self, content_hash: str) -> dict | None:
        row = self._q("SELECT id FROM tracks WHERE content_hash=? ORDER BY missing, id LIMIT 1", (content_hash,))
        return self.track(row[0][0]) if row else None

    def feature_index(self, pipeline: str, include_missing: bool = False) -> dict[int, str]:
        """track id -> schema hash of its stored vector, without reading the vectors."""
        return dict(self._q("SELECT f.track_id, f.schema_hash FROM features f JOIN tracks t ON t.id=f.track_id "
                            "WHERE f.pipeline=?" + ("" if include_missing else " AND t.missing=0"), (pipeline,)))

    def analysed_stamps(self) -> dict[int, float | None]:
        """track id -> when it was last analysed: tells an index which stored vectors changed."""
        return dict(self._q("SELECT id, analysed_at FROM tracks"))

    def features(self, pipeline: str, ids: Iterable[int] | None = None,
                 include_missing: bool = False) -> tuple[np.ndarray, np.ndarray, list[str], str | None]:
        """(track ids, float32 matrix rows, feature names, schema hash) for one pipeline.

        Only the most common schema hash is returned, so vectors from an older feature version
        are never mixed with new ones."""
        sql = ("SELECT f.track_id, f.schema_hash, f.vector FROM features f JOIN tracks t ON t.id=f.track_id "
               "WHERE f.pipeline=?" + ("" if include_missing else " AND t.missing=0"))
        params: list = [pipeline]
        if ids is not None:
            ids = [int(i) for i in ids]
            sql += f" AND f.track_id IN ({','.join('?' * len(ids))})" if ids else " AND 0"
            params += ids
        rows = self._q(sql + " ORDER BY f.track_id", params)
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), [], None
        hashes: dict[str, int] = {}
        for r in rows:
            hashes[r[1]] = hashes.get(r[1], 0) + 1
        sh = max(hashes, key=hashes.get)
        rows = [r for r in rows if r[1] == sh]
        names = json.loads(self._q("SELECT names FROM feature_schemas WHERE schema_hash=?", (sh,))[0][0])
        ids_out = np.array([r[0] for r in rows], dtype=np.int64)
        mat = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows]).astype(np.float32, copy=False)
        return ids_out, np.ascontiguousarray(mat), names, sh

    # --- ratings and predictions --------------------------------------------------------------
    def set_rating(self, track_id: int, value: int | bool | None) -> None:
        """1 like, 0 dislike, None clears."""
        self._set_rating("ratings", "track_id", track_id, value)

    def set_catalog_rating(self, catalog_track_id: int, value: int | bool | None) -> None:
        self._set_rating("catalog_ratings", "catalog_track_id", catalog_track_id, value)

    def _set_rating(self, table: str, col: str, ident: int, value) -> None:
        with self.batch() as c:
            if value is None:
                c.execute(f"DELETE FROM {table} WHERE {col}=?", (int(ident),))
            else:
                v = int(value)
                if v not in (0, 1):
                    raise ValueError("a rating is 1 (like), 0 (dislike) or None")
                c.execute(f"INSERT INTO {table} VALUES (?,?,?) ON CONFLICT({col}) DO UPDATE SET "
                          "value=excluded.value, rated_at=excluded.rated_at", (int(ident), v, _now()))
        self._backup_ratings()

    def rate_by_mbid(self, ratings: dict[str, int]) -> dict:
        """Attach likes/dislikes given by MusicBrainz recording id (seed 004's mbid,liked CSV) to every
        library and catalog track with that id. Returns counts {matched, unmatched}."""
        matched = 0
        with self.batch() as c:
            for mbid, v in ratings.items():
                matched += bool(self._rate_mbid(c, mbid, int(v), _now()))
        self._backup_ratings()
        return {"matched": matched, "unmatched": len(ratings) - matched}

    @staticmethod
    def _rate_mbid(c: sqlite3.Connection, mbid: str, v: int, at: float) -> int:
        n = 0
        for (tid,) in c.execute("SELECT id FROM tracks WHERE mb_recording_id=?", (mbid,)).fetchall():
            c.execute("INSERT OR REPLACE INTO ratings VALUES (?,?,?)", (tid, v, at))
            n += 1
        for (cid,) in c.execute("SELECT id FROM catalog_tracks WHERE mbid=?", (mbid,)).fetchall():
            c.execute("INSERT OR REPLACE INTO catalog_ratings VALUES (?,?,?)", (cid, v, at))
            n += 1
        # kept for tracks that appear later (a catalog imported or a folder scanned after)
        c.execute("DELETE FROM pending_ratings WHERE source='mbid' AND mbid=?", (mbid,))
        c.execute("INSERT INTO pending_ratings (source, mbid, value, rated_at) VALUES ('mbid',?,?,?)", (mbid, v, at))
        return n

    def rating_rows(self) -> list[dict]:
        """Every rated track, library and catalog alike, with its attribute values flat (for encoding)
        and artist/album (for grouped validation). Keys: source, id, rating, rated_at, title, artist,
        album, album_id, genre, mbid, content_hash, path, and one key per attribute name."""
        out = []
        lib = self._q("SELECT t.id, r.value, r.rated_at, t.title, t.artist, t.album, t.album_artist, "
                      "t.mb_recording_id, t.content_hash, t.path, t.genre FROM ratings r JOIN tracks t ON t.id=r.track_id "
                      "ORDER BY r.rated_at")
        attrs = self._attributes([r[0] for r in lib])
        heard = listened_tags.shown_tags(self, [r[0] for r in lib])
        for tid, v, at, title, artist, album, aa, mbid, h, path, genre in lib:
            d = {"source": "library", "id": tid, "rating": v, "rated_at": at, "title": title, "artist": artist,
                 "album": album, "album_id": f"{aa or artist or ''}|{album or ''}", "genre": genre, "mbid": mbid,
                 "content_hash": h, "path": path_from_db(path), "tags": heard.get(tid, [])}
            for name in ALL_ATTRIBUTES:
                d[name] = attrs.get(tid, {}).get(name, {}).get("value")
            out.append(d)
        cat = self._q(f"SELECT ct.id, r.value, r.rated_at, ct.title, ct.artist, ct.album, ct.album_id, ct.mbid, "
                      f"ct.catalog_id, ct.external_id, ct.genre, {', '.join('ct.' + a for a in CATALOG_ATTRS)} "
                      "FROM catalog_ratings r JOIN catalog_tracks ct ON ct.id=r.catalog_track_id ORDER BY r.rated_at")
        for row in cat:
            cid, v, at, title, artist, album, album_id, mbid, catalog_id, ext, genre = row[:11]
            d = {"source": "catalog", "id": cid, "rating": v, "rated_at": at, "title": title, "artist": artist,
                 "album": album, "album_id": album_id, "genre": genre, "mbid": mbid, "catalog_id": catalog_id,
                 "external_id": ext, "content_hash": None, "path": None}
            d.update(zip(CATALOG_ATTRS, row[11:], strict=True))
            out.append(d)
        return out

    def set_predictions(self, probs: dict[int, float]) -> None:
        """Predicted probability of a like for library tracks, replacing earlier predictions."""
        self._set_predictions("predictions", "track_id", probs)

    def set_catalog_predictions(self, probs: dict[int, float]) -> None:
        self._set_predictions("catalog_predictions", "catalog_track_id", probs)

    def _set_predictions(self, table: str, col: str, probs: dict[int, float]) -> None:
        t = _now()
        with self.batch() as c:
            c.executemany(f"INSERT INTO {table} VALUES (?,?,?) ON CONFLICT({col}) DO UPDATE SET "
                          "prob=excluded.prob, predicted_at=excluded.predicted_at",
                          [(int(k), float(v), t) for k, v in probs.items()])

    def export_ratings(self) -> list[dict]:
        """Ratings with enough identity (path, content hash, mbid, catalog + external id) to
        re-attach them to a rebuilt library."""
        out = []
        for path, h, mbid, v, at in self._q(
                "SELECT t.path, t.content_hash, t.mb_recording_id, r.value, r.rated_at "
                "FROM ratings r JOIN tracks t ON t.id=r.track_id"):
            out.append({"source": "library", "path": path_from_db(path), "content_hash": h, "mbid": mbid, "rating": v,
                        "rated_at": at})
        for cat, ext, mbid, v, at in self._q(
                "SELECT c.name, ct.external_id, ct.mbid, r.value, r.rated_at FROM catalog_ratings r "
                "JOIN catalog_tracks ct ON ct.id=r.catalog_track_id JOIN catalogs c ON c.id=ct.catalog_id"):
            out.append({"source": "catalog", "catalog": cat, "external_id": ext, "mbid": mbid, "rating": v,
                        "rated_at": at})
        # ratings still waiting for their track are the user's too
        for src, path, h, mbid, cat, ext, v, at in self._q(
                "SELECT source, path, content_hash, mbid, catalog, external_id, value, rated_at FROM pending_ratings "
                "WHERE NOT (source='mbid' AND mbid IN (SELECT mb_recording_id FROM tracks WHERE mb_recording_id "
                "IS NOT NULL UNION SELECT mbid FROM catalog_tracks WHERE mbid IS NOT NULL))"):
            out.append({"source": src, "path": path_from_db(path), "content_hash": h, "mbid": mbid, "catalog": cat,
                        "external_id": ext, "rating": v, "rated_at": at, "pending": True})
        return out

    def _backup_ratings(self) -> None:
        """Ratings are the one thing a user cannot recompute: a dated copy beside the database
        (library/ratings_backup.py) after every change, so a damaged file or a slip costs none."""
        from musicrec_engine.library import ratings_backup

        try:
            ratings_backup.write(self.db_path, self.export_ratings())
        except (OSError, LibraryError):
            log.warning("the ratings backup could not be written", exc_info=True)  # must not stop rating

    def restore_ratings(self, saved: list[dict]) -> int:
        """Re-attach exported ratings by path, then content hash, then mbid; catalog ones by catalog
        name + external id. Returns how many found a track."""
        n = 0
        with self.batch() as c:
            for r in saved:
                v, at = int(r["rating"]), r.get("rated_at") or _now()
                if r.get("source") == "mbid":
                    n += self._rate_mbid(c, r["mbid"], v, at)
                    continue
                if r.get("source") == "catalog":
                    row = c.execute("SELECT ct.id FROM catalog_tracks ct JOIN catalogs c ON c.id=ct.catalog_id "
                                    "WHERE c.name=? AND ct.external_id=?", (r.get("catalog"), r.get("external_id"))
                                    ).fetchone()
                    if row:
                        c.execute("INSERT OR REPLACE INTO catalog_ratings VALUES (?,?,?)", (row[0], v, at))
                        n += 1
                    else:
                        c.execute("INSERT INTO pending_ratings (source, mbid, catalog, external_id, value, rated_at) "
                                  "VALUES ('catalog',?,?,?,?,?)", (r.get("mbid"), r.get("catalog"),
                                                                    r.get("external_id"), v, at))
                    continue
                row = None
                for col in ("path", "content_hash", "mb_recording_id"):
                    key = r.get({"mb_recording_id": "mbid"}.get(col, col))
                    if key and not row:
                        key = db_path(key) if col == "path" else key
                        row = c.execute(f"SELECT id FROM tracks WHERE {col}=?", (key,)).fetchone()
                if row:
                    c.execute("INSERT OR REPLACE INTO ratings VALUES (?,?,?)", (row[0], v, at))
                    n += 1
                else:
                    c.execute("INSERT INTO pending_ratings (source, path, content_hash, mbid, value, rated_at) "
                              "VALUES ('library',?,?,?,?,?)", (db_path(r.get("path")), r.get("content_hash"),
                                                               r.get("mbid"),
                                                               v, at))
        return n

    def pending_ratings(self) -> int:
        return self._q("SELECT COUNT(*) FROM pending_ratings")[0][0]

    # --- catalogs -----------------------------------------------------------------------------
    def catalogs(self) -> list[dict]:
        cols = ["id", "name", "schema", "source_path", "row_count", "generation", "complete", "imported_at"]
        return [dict(zip(cols, r, strict=True)) for r in self._q(f"SELECT {', '.join(cols)} FROM catalogs ORDER BY id")]

    def catalog(self, id_or_name: int | str) -> dict | None:
        for c in self.catalogs():
            if c["id"] == id_or_name or c["name"] == id_or_name:
                return c
        return None

    def iter_catalog_tracks(self, catalog_id: int | None = None, page: int = 20_000) -> Iterator[list[dict]]:
        """All catalog rows, one page (list) at a time, by id: constant cost per page, unlike OFFSET."""
        after = 0
        while True:
            rows = self.catalog_tracks(catalog_id, limit=page, after_id=after)
            if not rows:
                return
            yield rows
            after = rows[-1]["id"]

    def catalog_tracks(self, catalog_id: int | None = None, ids: Iterable[int] | None = None,
                       limit: int | None = None, offset: int = 0, after_id: int | None = None) -> list[dict]:
        """Catalog rows with their attributes flat, album id, rating and prediction.
        For whole catalogs prefer iter_catalog_tracks (or after_id paging) to OFFSET."""
        cols = ["id", "catalog_id", "external_id", "title", "artist", "artists", "album", "album_id", "year",
                "genre", "duration", "track_no", "mbid", *CATALOG_ATTRS]
        where, params = ["ct.generation = c.generation"], []
        if catalog_id is not None:
            # "+": walk rows in id order rather than through the album index and a sort
            where.append("+ct.catalog_id=?")
            params.append(int(catalog_id))
        if after_id is not None:
            where.append("ct.id>?")
            params.append(int(after_id))
        if ids is not None:
            ids = [int(i) for i in ids]
            where.append(f"ct.id IN ({','.join('?' * len(ids))})" if ids else "0")
            params += ids
        sql = (f"SELECT {', '.join('ct.' + c for c in cols)}, r.value, p.prob FROM catalog_tracks ct "
               "JOIN catalogs c ON c.id=ct.catalog_id "
               "LEFT JOIN catalog_ratings r ON r.catalog_track_id=ct.id "
               "LEFT JOIN catalog_predictions p ON p.catalog_track_id=ct.id "
               f"WHERE {' AND '.join(where)} ORDER BY ct.id")
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        out = []
        for r in self._q(sql, params):
            d = dict(zip(cols, r[:-2], strict=True))
            d["rating"], d["predicted_like"], d["source"] = r[-2], r[-1], "catalog"
            d["attributes"] = {a: {"value": d[a], "provenance": "catalog", "confidence": None}
                               for a in CATALOG_ATTRS if d[a] is not None}
            out.append(d)
        return out

    def catalog_extra(self, catalog_track_id: int) -> dict:
        row = self._q("SELECT extra FROM catalog_tracks WHERE id=?", (int(catalog_track_id),))
        return json.loads(row[0][0]) if row and row[0][0] else {}

    def remove_catalog(self, id_or_name: int | str) -> bool:
        cat = self.catalog(id_or_name)
        if not cat:
            return False
        with self.batch() as c:
            c.execute("DELETE FROM catalogs WHERE id=?", (cat["id"],))
        self._backup_ratings()
        return True

    def albums(self, catalog_id: int | None = None) -> list[dict]:
        cols = ["id", "catalog_id", "album_key", "title", "artist", "year", "mb_release_group_id", "track_count"]
        sql = f"SELECT {', '.join(cols)} FROM albums"
        rows = (self._q(sql + " WHERE catalog_id IS NULL") if catalog_id is None
                else self._q(sql + " WHERE catalog_id=?", (int(catalog_id),)))
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def set_album_mbid(self, album_id: int, mb_release_group_id: str | None) -> None:
        with self.batch() as c:
            c.execute("UPDATE albums SET mb_release_group_id=? WHERE id=?", (mb_release_group_id, int(album_id)))

    def refresh_library_albums(self) -> None:
        """Rebuild the library's album rows from track tags (album artist, else artist + album)."""
        with self.batch() as c:
            c.execute("DELETE FROM albums WHERE catalog_id IS NULL AND album_key NOT IN (SELECT DISTINCT "
                      "COALESCE(album_artist, artist, '') || '|' || album FROM tracks WHERE album IS NOT NULL "
                      "AND missing=0)")
            c.execute("INSERT INTO albums (catalog_id, album_key, title, artist, year, mb_release_group_id, "
                      "track_count) SELECT NULL, COALESCE(album_artist, artist, '') || '|' || album, album, "
                      "COALESCE(album_artist, artist), MAX(year), MAX(mb_release_group_id), COUNT(*) FROM tracks "
                      "WHERE album IS NOT NULL AND missing=0 GROUP BY 2 "
                      "ON CONFLICT DO UPDATE SET track_count=excluded.track_count, year=excluded.year, "
                      "mb_release_group_id=COALESCE(albums.mb_release_group_id, excluded.mb_release_group_id)")

    # --- HTTP cache ---------------------------------------------------------------------------
    def cache_get(self, key: str) -> bytes | None:
        row = self._q("SELECT value FROM http_cache WHERE key=? AND expires_at>?", (key, _now()))
        return bytes(row[0][0]) if row else None

    def cache_put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        t = _now()
        with self.batch() as c:
            c.execute("INSERT OR REPLACE INTO http_cache VALUES (?,?,?,?)", (key, bytes(value), t, t + ttl_seconds))
            c.execute("DELETE FROM http_cache WHERE expires_at<=?", (t,))


_INT_TAGS = {"track_no": 100_000, "disc_no": 10_000, "year": 9999}  # above these a tag is nonsense


def clean_tags(tags: dict) -> dict:
    """The tag fields as the database can store them: a number no track, disc or year can have
    (TRACKNUMBER=99999999999999999999 overflows SQLite's integers) is dropped, the rest kept; text
    that is not valid Unicode (a title taken from a Latin-1 file name) is read as Windows-1252."""
    out = {}
    for f in TAG_FIELDS:
        v = tags.get(f)
        if f in _INT_TAGS and v is not None:
            try:
                v = int(v)
            except (TypeError, ValueError, OverflowError):
                v = None
            if v is not None and not 0 <= v <= _INT_TAGS[f]:
                v = None
        elif isinstance(v, str):
            v = _unicode(v)
        out[f] = v
    return out


def _unicode(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    raw = text.encode("utf-8", "surrogateescape") if all(ord(ch) < 128 or 0xDC80 <= ord(ch) <= 0xDCFF
                                                          for ch in text) else None
    # all of it undecodable: a Latin-1 era name, which Windows-1252 reads right ("café")
    return raw.decode("cp1252", "replace") if raw is not None else text.encode("utf-8", "replace").decode("utf-8")


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


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def _refuse_if_open_elsewhere(db_path: Path) -> None:
    """Moving the file aside under a process that has it open would leave that process writing
    into the set-aside file (and its WAL). Leaving WAL mode needs every other connection closed,
    so trying it tells whether there is one; a file too damaged to answer has no other user."""
    if not db_path.is_file():
        return
    try:
        c = sqlite3.connect(str(db_path), timeout=0, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        c.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as e:
        if "locked" in str(e).lower() or "busy" in str(e).lower():
            raise LibraryError(f"the library {db_path} is open in another MusicRec process (the app, or another "
                               "command); close it, then start afresh") from None
    finally:
        c.close()


def start_afresh(db_path: str | os.PathLike) -> dict:
    """Set a damaged library aside (never deleted) and create a new one, bringing back the ratings
    from the old file if it can still be read, else from the backup kept beside it.

    Returns {"set_aside": path, "ratings_saved": n, "ratings_file": path}. Library ratings re-attach
    when their files are scanned again (by path or content hash): call restore_ratings after a scan."""
    from musicrec_engine.library import ratings_backup

    db_path = Path(db_path)
    _refuse_if_open_elsewhere(db_path)
    saved: list[dict] = []
    try:
        old = Library(db_path)
        saved = old.export_ratings()
        old.close()
    except (LibraryError, sqlite3.Error):
        backup = ratings_backup.latest(db_path)
        if backup is not None:
            try:
                saved = ratings_backup.read(backup)
            except MusicRecError:
                saved = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            os.replace(p, Path(str(aside) + suffix))
    keep = db_path.with_name(f"ratings-{stamp}.json")
    keep.write_text(json.dumps(saved))
    lib = Library(db_path)
    lib.restore_ratings(saved)
    lib.close()
    return {"set_aside": str(aside), "ratings_saved": len(saved), "ratings_file": str(keep)}
