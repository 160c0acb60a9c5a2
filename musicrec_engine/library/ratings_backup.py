"""Backups of the ratings, the one thing a user cannot recompute.

After every change the library writes all ratings (export_ratings: enough identity to re-attach
them to a rebuilt library) to a new dated file in `ratings-backups/` beside the database, written
whole, fsynced, then renamed into place, so a crash leaves the previous backups intact; the
newest KEEP files are kept. `musicrec rate --restore [FILE]` brings one back, and a library that
is started afresh takes its ratings from the newest when the old file cannot be read.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from musicrec_engine.errors import MusicRecError

FOLDER = "ratings-backups"
LEGACY = "ratings-backup.json"  # the single file earlier versions rewrote beside the database
KEEP = 10


def folder(db_path: str | os.PathLike) -> Path:
    return Path(db_path).parent / FOLDER


def write(db_path: str | os.PathLike, ratings: list[dict]) -> Path:
    d = folder(db_path)
    d.mkdir(parents=True, exist_ok=True)
    t = time.time()
    while True:  # names sort by time; two backups in one microsecond get the next one
        f = d / f"ratings-{time.strftime('%Y%m%d-%H%M%S', time.localtime(t))}-{int(t % 1 * 1e6):06d}.json"
        if not f.exists():
            break
        t += 1e-6
    tmp = f.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(ratings, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, f)
    _fsync_dir(d)
    for old in backups(db_path)[:-KEEP]:
        with contextlib.suppress(OSError):
            old.unlink()
    return f


def backups(db_path: str | os.PathLike) -> list[Path]:
    """The backups, oldest first."""
    d = folder(db_path)
    return sorted(d.glob("ratings-*.json")) if d.is_dir() else []


def latest(db_path: str | os.PathLike) -> Path | None:
    found = backups(db_path)
    if found:
        return found[-1]
    legacy = Path(db_path).with_name(LEGACY)
    return legacy if legacy.is_file() else None


def read(path: str | os.PathLike) -> list[dict]:
    """A backup's ratings; MusicRecError with the reason when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MusicRecError(f"{path}: cannot read the ratings backup ({e.strerror or e})") from None
    except ValueError:
        raise MusicRecError(f"{path}: not a ratings backup (not JSON)") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) and r.get("rating") in (0, 1) for r in data):
        raise MusicRecError(f"{path}: not a ratings backup (expected a list of ratings)")
    return data


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not possible on Windows: the rename is enough there
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
