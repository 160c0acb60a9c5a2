"""Ratings and predictions in the library: likes and dislikes of library and catalog tracks,
ratings given by MusicBrainz id (kept until their track arrives), predicted likes, and the
ratings backup kept beside the database file."""

from __future__ import annotations

import logging
import sqlite3

from musicrec_engine.attributes import ALL_ATTRIBUTES
from musicrec_engine.library import heard_tags as listened_tags
from musicrec_engine.library.database import CATALOG_ATTRS, LibraryError, db_path, now, path_from_db

log = logging.getLogger("musicrec.library")


class RatingRows:
    """The ratings part of Library (library/store.py)."""

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
                          "value=excluded.value, rated_at=excluded.rated_at", (int(ident), v, now()))
        self._backup_ratings()

    def rate_by_mbid(self, ratings: dict[str, int]) -> dict:
        """Attach likes/dislikes given by MusicBrainz recording id (the album recommender's mbid,liked CSV) to every
        library and catalog track with that id. Returns counts {matched, unmatched}."""
        matched = 0
        with self.batch() as c:
            for mbid, v in ratings.items():
                matched += bool(self._rate_mbid(c, mbid, int(v), now()))
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
        t = now()
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
                v, at = int(r["rating"]), r.get("rated_at") or now()
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
