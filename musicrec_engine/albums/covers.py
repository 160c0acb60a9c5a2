"""A library album's own cover: the picture embedded in its files (ID3 APIC, FLAC and Vorbis/Opus
pictures, MP4 covr), else a cover/folder/front image beside them. Read with mutagen, never
written: the user's files are only opened for reading.

The picture is copied once into the cache (named by a hash of where it came from, its size and
modification time, so an edited file gives a new copy) and that copy's path is returned; the app
scales it to the card. Pictures over MAX_BYTES, or whose first bytes are not an image, are skipped.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path

log = logging.getLogger("musicrec.covers")
MAX_BYTES = 10 * 2**20
BESIDE = ("cover", "folder", "front", "album", "albumart")
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp")
FRONT_COVER = 3  # the picture type "Cover (front)" in ID3 and FLAC


def _kind(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return ".jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def embedded_picture(path: str) -> bytes | None:
    """The front cover (or else the first picture) embedded in one audio file."""
    import mutagen

    try:
        f = mutagen.File(path)
    except Exception as e:  # a damaged file has no usable picture; that is not an error for the album
        log.debug("no tags read from %s: %s", path, e)
        return None
    if f is None:
        return None
    pics: list[tuple[int, bytes]] = []
    for p in getattr(f, "pictures", None) or []:  # FLAC
        pics.append((p.type, p.data))
    tags = getattr(f, "tags", None)
    if tags is not None:
        if hasattr(tags, "getall"):  # ID3 (MP3, AIFF, WAV)
            pics += [(int(a.type), a.data) for a in tags.getall("APIC")]
        elif "covr" in tags:  # MP4
            pics += [(FRONT_COVER, bytes(c)) for c in tags["covr"]]
        else:  # Vorbis comments (Ogg Vorbis, Opus)
            from mutagen.flac import Picture

            for b64 in tags.get("metadata_block_picture", []) if hasattr(tags, "get") else []:
                try:
                    p = Picture(base64.b64decode(b64))
                    pics.append((p.type, p.data))
                except Exception:  # a broken picture block: skip it
                    continue
    pics = [(t, d) for t, d in pics if d and len(d) <= MAX_BYTES and _kind(d)]
    if not pics:
        return None
    return sorted(pics, key=lambda td: td[0] != FRONT_COVER)[0][1]


def beside(folder: Path) -> Path | None:
    """cover.jpg, folder.png, front.jpg... in the album's folder (case ignored)."""
    try:
        files = sorted(folder.iterdir())
    except OSError:
        return None
    for stem in BESIDE:
        for f in files:
            if f.suffix.lower() in IMAGE_EXT and f.stem.lower() == stem and f.is_file():
                return f
    return None


def album_cover(paths: list[str], cache_dir: Path, tries: int = 3) -> Path | None:
    """The cached copy of an album's cover from its tracks' files, or None when there is none."""
    for p in paths[:tries]:
        try:
            st = os.stat(p)
        except OSError:
            continue
        key = hashlib.sha1(f"{p}|{st.st_size}|{st.st_mtime_ns}".encode("utf-8", "surrogateescape")).hexdigest()
        for ext in (".jpg", ".png", ".webp"):
            if (cache_dir / f"{key}{ext}").is_file():
                return cache_dir / f"{key}{ext}"
        if (cache_dir / f"{key}.none").is_file():
            continue
        data = embedded_picture(p)
        if data is None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            (cache_dir / f"{key}.none").touch()
            continue
        return _store(cache_dir, key, data)
    for folder in dict.fromkeys(Path(p).parent for p in paths):
        img = beside(folder)
        if img is not None:
            try:
                data = img.read_bytes() if img.stat().st_size <= MAX_BYTES else b""
            except OSError:
                continue
            if _kind(data):
                st = img.stat()
                key = hashlib.sha1(f"{img}|{st.st_size}|{st.st_mtime_ns}".encode("utf-8", "surrogateescape")).hexdigest()
                return _store(cache_dir, key, data)
    return None


def _store(cache_dir: Path, key: str, data: bytes) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"{key}{_kind(data)}"
    if not out.is_file():
        tmp = out.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, out)
    return out
