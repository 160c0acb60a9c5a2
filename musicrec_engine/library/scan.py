"""Folder scanning: tags through mutagen, and the incremental re-scan of a library.

A re-scan compares what is on disk with the library: unchanged files (same size and mtime) are
skipped; new and changed files are analysed; a file whose content hash matches a track that is no
longer at its old path has moved (its features, attributes and rating follow it); tracks whose
file is gone are marked missing, never deleted, so their ratings survive an unplugged drive.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("musicrec.scan")

# mutagen's "easy" keys (ID3, MP4 and Vorbis comments all map to these) -> our tag fields.
# Picard writes the recording id as musicbrainz_trackid and the release track as releasetrackid.
_EASY = {
    "title": "title", "artist": "artist", "album": "album", "albumartist": "album_artist",
    "album artist": "album_artist", "album_artist": "album_artist",
    "tracknumber": "track_no", "discnumber": "disc_no", "date": "year", "originaldate": "_origyear",
    "year": "year", "genre": "genre",
    "musicbrainz_trackid": "mb_recording_id", "musicbrainz_releasetrackid": "mb_track_id",
    "musicbrainz_albumid": "mb_release_id", "musicbrainz_releasegroupid": "mb_release_group_id",
    "musicbrainz_artistid": "mb_artist_id", "musicbrainz_albumartistid": "mb_album_artist_id",
}
# Raw ID3 frames (WAV/AIFF carry ID3 without mutagen's easy layer).
_ID3 = {
    "TIT2": "title", "TPE1": "artist", "TALB": "album", "TPE2": "album_artist", "TRCK": "track_no",
    "TPOS": "disc_no", "TDRC": "year", "TYER": "year", "TCON": "genre",
    "TXXX:MusicBrainz Release Track Id": "mb_track_id", "TXXX:MusicBrainz Album Id": "mb_release_id",
    "TXXX:MusicBrainz Release Group Id": "mb_release_group_id", "TXXX:MusicBrainz Artist Id": "mb_artist_id",
    "TXXX:MusicBrainz Album Artist Id": "mb_album_artist_id",
}
_INT_FIELDS = {"track_no", "disc_no", "year"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def read_tags(path: str | os.PathLike) -> dict:
    """Tags of one file, read-only. Missing title/artist/album fall back to the file name and
    folders ("Artist/Album/03 - Title.flac"). Never raises: an unreadable file gives the fallback."""
    p = Path(path)
    tags: dict = {}
    try:
        import mutagen

        f = mutagen.File(str(p), easy=True)
        if f is not None and f.tags is not None:
            tags = _from_tags(f.tags)
    except Exception as e:  # mutagen raises many types for damaged headers; tags are optional
        log.debug("no tags from %s: %s", p, e)
    return _fallback(p, tags)


def _from_tags(t) -> dict:
    out: dict = {}
    keys = list(t.keys())
    is_id3 = any(k[:4].isupper() and len(k) >= 4 for k in keys) and hasattr(t, "getall")
    if is_id3:
        for frame, name in _ID3.items():
            if frame in t:
                _put(out, name, str(t[frame].text[0]) if getattr(t[frame], "text", None) else None)
        for ufid in t.getall("UFID"):
            if ufid.owner == "http://musicbrainz.org":
                _put(out, "mb_recording_id", ufid.data.decode("ascii", "replace"))
        return out
    for k in keys:
        name = _EASY.get(k.lower())
        if name is None:
            continue
        v = t[k]
        v = v[0] if isinstance(v, list) and v else v
        _put(out, name, str(v) if v is not None else None)
    if "year" not in out and "_origyear" in out:
        out["year"] = out["_origyear"]
    out.pop("_origyear", None)
    return out


def _put(out: dict, name: str, value: str | None) -> None:
    if value is None or not str(value).strip() or name in out:
        return
    value = str(value).strip()
    if name in _INT_FIELDS or name == "_origyear":
        m = re.match(r"\s*(\d+)", value)  # "3/12", "2004-05-01"
        if not m:
            return
        out[name] = int(m.group(1))
        return
    if name.startswith("mb_"):
        m = _UUID.search(value)
        if not m:
            return
        value = m.group(0).lower()
    out[name] = value


_NUM_TITLE = re.compile(r"^\s*(?:(\d{1,2})[-.]?)?(\d{1,3})\s*(?:[-._]\s*|\s+)(.+)$")


def _fallback(p: Path, tags: dict) -> dict:
    out = dict(tags)
    stem = p.stem
    m = _NUM_TITLE.match(stem)
    numbered = bool(m)
    if m and "title" not in out:
        out.setdefault("track_no", int(m.group(2)))
        stem = m.group(3)
    if "title" not in out:
        if " - " in stem and "artist" not in out:
            artist, title = stem.split(" - ", 1)
            out["artist"], out["title"] = artist.strip(), title.strip()
        else:
            out["title"] = stem.replace("_", " ").strip() or p.name
    # Only a numbered file name says its folder is an album ("Artist/Album/03 Title"); a loose
    # file in Downloads/ must not become an album called "Downloads".
    parents = p.parent.parts
    if numbered and not tags and len(parents) >= 3:
        out.setdefault("album", parents[-1])
        out.setdefault("artist", parents[-2])
    return out


# --- incremental re-scan ------------------------------------------------------------------------
@dataclass
class ScanReport:
    found: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    unchanged: int = 0
    missing: int = 0
    analysed: int = 0
    failed: list[dict] = field(default_factory=list)  # {"path", "error"}
    messages: list[str] = field(default_factory=list)
    cancelled: bool = False

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def summary(self) -> str:
        return (f"{self.found} audio files: {self.new} new, {self.changed} changed, {self.moved} moved, "
                f"{self.unchanged} unchanged, {self.missing} gone; {self.analysed} analysed, "
                f"{len(self.failed)} failed")


def scan(lib, roots: Iterable[str | os.PathLike], progress: Callable[[int, int, str], None] | None = None,
         cancel: threading.Event | None = None, jobs: int | None = None, analyze_paths=None) -> ScanReport:
    """Bring the library up to date with the folders `roots` (see the module doc)."""
    from musicrec_engine.audio import files

    if analyze_paths is None:
        from musicrec_engine.analysis.pipeline import analyze_paths
    rep = ScanReport()
    progress = progress or (lambda done, total, msg: None)
    present = []
    for r in roots:
        p = Path(r).expanduser()
        if p.exists():
            present.append(p.resolve())
        else:
            # An unplugged drive must not look like a mass deletion: its tracks stay as they are.
            rep.messages.append(f"{p} is not there (moved, deleted or an unplugged drive); its tracks are kept")
    progress(0, 0, "looking for audio files")
    on_disk: dict[str, os.stat_result] = {}
    for f in files.iter_audio_files(present):
        if cancel is not None and cancel.is_set():
            rep.cancelled = True
            return rep
        try:
            on_disk[str(f.resolve())] = f.stat()
        except OSError as e:
            rep.failed.append({"path": str(f), "error": f"cannot read the file: {e.strerror or e}"})
    rep.found = len(on_disk)
    known = lib.file_index()  # path -> (id, size, mtime, hash, missing, status)
    todo: list[str] = []
    came_back: list[int] = []
    new_paths: list[str] = []
    for path, st in on_disk.items():
        k = known.get(path)
        if k is None:
            new_paths.append(path)
        elif k[1] == st.st_size and k[2] is not None and abs(k[2] - st.st_mtime) < 1e-6:
            rep.unchanged += 1
            if k[4]:
                came_back.append(k[0])
        else:
            rep.changed += 1
            todo.append(path)
    if came_back:
        lib.set_missing(came_back, False)
    # New paths whose content is a track whose old file is gone: a move or rename.
    by_hash = {k[3]: (p, k[0]) for p, k in known.items() if k[3] and p not in on_disk}
    moved: set[int] = set()
    for i, path in enumerate(new_paths):
        if cancel is not None and cancel.is_set():
            rep.cancelled = True
            return rep
        progress(i, len(new_paths), f"checking {Path(path).name}")
        old = None
        if by_hash:
            try:
                h = files.content_hash(path)
            except OSError as e:
                rep.failed.append({"path": path, "error": f"cannot read the file: {e.strerror or e}"})
                continue
            old = by_hash.pop(h, None)
        if old is not None and not os.path.exists(old[0]):
            lib.move_track(old[1], path, on_disk[path].st_size, on_disk[path].st_mtime)
            moved.add(old[1])
            rep.moved += 1
        else:
            rep.new += 1
            todo.append(path)
    gone = [k[0] for p, k in known.items()
            if p not in on_disk and not k[4] and k[0] not in moved and any(_under(p, r) for r in present) and not os.path.exists(p)]
    if gone:
        lib.set_missing(gone, True)
    rep.missing = len(gone)
    if todo:
        for res in analyze_paths(todo, jobs=jobs, progress=progress, cancel=cancel):
            lib.store_analysis(res)
            if res.status == "ok":
                rep.analysed += 1
            else:
                rep.failed.append({"path": res.path, "error": res.error})
        if cancel is not None and cancel.is_set():
            rep.cancelled = True
    lib.refresh_library_albums()
    return rep


def _under(path: str, root: Path) -> bool:
    try:
        Path(path).relative_to(root)
        return True
    except ValueError:
        return False
