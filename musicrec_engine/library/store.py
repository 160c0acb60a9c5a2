"""The library: one SQLite file holding tracks, tags, features, attributes, ratings, predictions,
catalogs, albums and the HTTP cache.

`Library` is composed of the parts in library/database.py (connection, migrations, transactions),
tracks.py and ratings.py; catalog rows, albums and the HTTP cache are here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from musicrec_engine.errors import MusicRecError
from musicrec_engine.library.database import CATALOG_ATTRS, TAG_FIELDS, Database, LibraryError, id_filter, now
from musicrec_engine.library.ratings import RatingRows
from musicrec_engine.library.tracks import TrackRows

__all__ = ["CATALOG_ATTRS", "TAG_FIELDS", "Library", "LibraryError", "display_name", "start_afresh"]


class Library(Database, TrackRows, RatingRows):
    """The library database: see the module doc for where each part lives."""

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
            cond, ids = id_filter("ct.id", ids)
            where.append(cond)
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
        row = self._q("SELECT value FROM http_cache WHERE key=? AND expires_at>?", (key, now()))
        return bytes(row[0][0]) if row else None

    def cache_put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        t = now()
        with self.batch() as c:
            c.execute("INSERT OR REPLACE INTO http_cache VALUES (?,?,?,?)", (key, bytes(value), t, t + ttl_seconds))
            c.execute("DELETE FROM http_cache WHERE expires_at<=?", (t,))


def display_name(row: dict, file: str | None = None) -> str:
    """What a user recognises a track by: "artist – title", the title alone, else the file's name.
    Never a catalog row's id: a built catalog's is the file's content hash, which means nothing
    to a reader (scripts find the ids in the JSON output)."""
    title, artist = row.get("title"), row.get("artist")
    if not title and file:
        title = Path(str(file).replace("\\", "/")).name
    title = title or "untitled"
    return f"{artist} – {title}" if artist else title


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
