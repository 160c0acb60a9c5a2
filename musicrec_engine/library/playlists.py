"""Saved playlists in the library file: name, when made, the rules that made them, and their
tracks in order with the reason each is there. Names are unique whatever their case.

Every change is one transaction, so a playlist is never half rewritten. Tracks that are no longer
in the library drop out of their playlists (the schema cascades); `tracks()` also says which
saved entries point at files that are missing now.
"""

from __future__ import annotations

import json
import time

from musicrec_engine.errors import MusicRecError, UsageError
from musicrec_engine.library.store import display_name

MAX_NAME = 200


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise UsageError("a playlist needs a name")
    if len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise UsageError(f"a playlist name is at most {MAX_NAME} printable characters")
    return name


def _row(lib, name_or_id) -> tuple | None:
    if isinstance(name_or_id, int):
        rows = lib.query("SELECT id, name, created_at, updated_at, rules FROM playlists WHERE id=?", (name_or_id,))
    else:
        rows = lib.query("SELECT id, name, created_at, updated_at, rules FROM playlists WHERE name=?",
                         (str(name_or_id).strip(),))
    return rows[0] if rows else None


def _head(row: tuple, count: int, seconds: float) -> dict:
    try:
        rules = json.loads(row[4] or "{}")
    except ValueError:
        rules = {}
    return {"id": row[0], "name": row[1], "created_at": row[2], "updated_at": row[3], "rules": rules,
            "count": count, "seconds": round(seconds or 0.0, 1)}


def all_playlists(lib) -> list[dict]:
    rows = lib.query("SELECT p.id, p.name, p.created_at, p.updated_at, p.rules, COUNT(pt.track_id), "
                     "SUM(t.duration) FROM playlists p LEFT JOIN playlist_tracks pt ON pt.playlist_id=p.id "
                     "LEFT JOIN tracks t ON t.id=pt.track_id GROUP BY p.id ORDER BY p.name COLLATE NOCASE")
    return [_head(r[:5], r[5], r[6]) for r in rows]


def get(lib, name_or_id) -> dict | None:
    """The playlist with its entries in order: [{"track_id", "why": [...]}], or None."""
    row = _row(lib, name_or_id)
    if row is None:
        return None
    entries = lib.query("SELECT pt.track_id, pt.why, t.duration FROM playlist_tracks pt JOIN tracks t "
                        "ON t.id=pt.track_id WHERE pt.playlist_id=? ORDER BY pt.position", (row[0],))
    out = _head(row, len(entries), sum(e[2] or 0 for e in entries))
    out["entries"] = [{"track_id": e[0], "why": _why(e[1])} for e in entries]
    return out


def _why(text) -> list[str]:
    try:
        v = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(x) for x in v] if isinstance(v, list) else []


def save(lib, name: str, entries: list[dict], rules: dict | None = None, replace: bool = False) -> dict:
    """Create (or, with replace, overwrite) a playlist from entries [{"track_id"|"id", "why"}]."""
    name = check_name(name)
    ids = [_entry_id(e) for e in entries]
    _check_tracks(lib, ids)
    now = time.time()
    with lib.batch() as c:
        old = c.execute("SELECT id, created_at FROM playlists WHERE name=?", (name,)).fetchone()
        if old and not replace:
            raise MusicRecError(f"a playlist named {name!r} already exists; choose another name or replace it")
        if old:
            c.execute("UPDATE playlists SET name=?, updated_at=?, rules=? WHERE id=?",
                      (name, now, json.dumps(rules or {}), old[0]))
            pid = old[0]
        else:
            pid = c.execute("INSERT INTO playlists (name, created_at, updated_at, rules) VALUES (?,?,?,?)",
                            (name, now, now, json.dumps(rules or {}))).lastrowid
        _write_entries(c, pid, ids, [e.get("why") or [] for e in entries])
    return get(lib, pid)


def _entry_id(e) -> int:
    v = e.get("track_id", e.get("id")) if isinstance(e, dict) else e
    try:
        return int(v)
    except (TypeError, ValueError):
        raise UsageError(f"{v!r} is not a track id") from None


def _check_tracks(lib, ids: list[int]) -> None:
    if not ids:
        return
    known = {r[0] for r in lib.query(f"SELECT id FROM tracks WHERE id IN ({','.join('?' * len(set(ids)))})",
                                     sorted(set(ids)))}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise MusicRecError(f"not in the library: track id(s) {', '.join(map(str, unknown[:5]))}")


def _write_entries(c, pid: int, ids: list[int], whys: list[list[str]]) -> None:
    c.execute("DELETE FROM playlist_tracks WHERE playlist_id=?", (pid,))
    c.executemany("INSERT INTO playlist_tracks (playlist_id, position, track_id, why) VALUES (?,?,?,?)",
                  [(pid, n, i, json.dumps(list(w))) for n, (i, w) in enumerate(zip(ids, whys, strict=True))])
    c.execute("UPDATE playlists SET updated_at=? WHERE id=?", (time.time(), pid))


def set_tracks(lib, name_or_id, track_ids: list[int]) -> dict:
    """New order and membership (reorder, remove, add): reasons follow their tracks; a track added
    by hand gets 'added by you'."""
    row = _row(lib, name_or_id)
    if row is None:
        raise MusicRecError(f"no playlist named {name_or_id!r}")
    ids = [_entry_id(i) for i in track_ids]
    _check_tracks(lib, ids)
    old = {e["track_id"]: e["why"] for e in get(lib, row[0])["entries"]}
    with lib.batch() as c:
        _write_entries(c, row[0], ids, [old.get(i) or ["added by you"] for i in ids])
    return get(lib, row[0])


def rename(lib, name_or_id, new_name: str) -> dict:
    row = _row(lib, name_or_id)
    if row is None:
        raise MusicRecError(f"no playlist named {name_or_id!r}")
    new_name = check_name(new_name)
    with lib.batch() as c:
        other = c.execute("SELECT id FROM playlists WHERE name=?", (new_name,)).fetchone()
        if other and other[0] != row[0]:
            raise MusicRecError(f"a playlist named {new_name!r} already exists")
        c.execute("UPDATE playlists SET name=?, updated_at=? WHERE id=?", (new_name, time.time(), row[0]))
    return get(lib, row[0])


def delete(lib, name_or_id) -> bool:
    row = _row(lib, name_or_id)
    if row is None:
        return False
    with lib.batch() as c:
        c.execute("DELETE FROM playlists WHERE id=?", (row[0],))
    return True


def likely_catalog_rows(lib, limit: int) -> list[dict]:
    """Unrated catalog rows the taste model likes best (for a playlist's "to discover" list)."""
    rows = lib.query("SELECT ct.id, ct.title, ct.artist, ct.album, ct.duration, c.name, cp.prob FROM catalog_predictions "
                     "cp JOIN catalog_tracks ct ON ct.id=cp.catalog_track_id JOIN catalogs c ON c.id=ct.catalog_id "
                     "LEFT JOIN catalog_ratings cr ON cr.catalog_track_id=ct.id WHERE cr.catalog_track_id IS NULL "
                     "AND ct.generation=c.generation ORDER BY cp.prob DESC LIMIT ?", (int(limit),))
    return [{"catalog_track_id": r[0], "title": r[1], "artist": r[2], "album": r[3], "duration": r[4],
             "name": display_name({"title": r[1], "artist": r[2]}),
             "catalog": r[5], "score": round(r[6], 4),
             "why": [f"your taste model gives it {r[6]:.0%} chance of a like"]} for r in rows]
