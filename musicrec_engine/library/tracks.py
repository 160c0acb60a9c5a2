"""Library tracks: storing an analysed file, moves and missing files, and reading tracks,
their attributes and their feature vectors back."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from musicrec_engine.library import heard_tags as listened_tags
from musicrec_engine.library.database import TAG_FIELDS, db_path, id_filter, now, num, path_from_db

_TRACK_COLS = ["id", "path", "content_hash", "size", "mtime", *TAG_FIELDS, "duration", "status", "error",
               "missing", "added_at", "analysed_at"]


class TrackRows:
    """The tracks part of Library (library/store.py)."""

    def store_analysis(self, result, tags: dict | None = None) -> int:
        """Upsert the analysed file by path: tags, file facts, features and attributes. Returns the track id.

        `tags` defaults to what tags.read_tags finds in the file (the file is only read)."""
        from musicrec_engine.library.tags import read_tags

        path = str(Path(result.path).resolve())
        if tags is None:
            tags = read_tags(path)
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
                          error=getattr(result, "error", None), analysed_at=now())
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
                              (track_id, name, num(d.get("value")), d.get("provenance", "estimated"),
                               num(d.get("confidence")), d.get("source"), d.get("basis")))
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
                        [values["path"], now()] + [values[k] for k in cols])
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
            cond, params = id_filter("t.id", ids)
            where.append(cond)
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
            cond, params = id_filter("track_id", ids)
            sql += f" WHERE {cond}"
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
            cond, id_params = id_filter("f.track_id", ids)
            sql += f" AND {cond}"
            params += id_params
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


_INT_TAGS = {"track_no": 100_000, "disc_no": 10_000, "year": 9999, "compilation": 1}  # above these a tag is nonsense


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
