"""Finding audio files under the paths a user gives, and identifying a file by its content."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

AUDIO_EXTENSIONS = frozenset({
    ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".m4b", ".mp4", ".aac",
    ".alac", ".aif", ".aiff", ".aifc", ".wma", ".wv", ".ape", ".mka", ".caf",
})


def is_audio_name(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def iter_audio_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Audio files under `paths`, each once, in a stable order.

    A file named explicitly is yielded whatever its extension (or even if it does not exist), so
    the caller reports what is wrong with it instead of it silently vanishing. Folders are walked
    recursively; symlinked folders are followed, but each real folder is visited once, so
    symlink loops end. Hidden files and folders (".name") are skipped.
    """
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            try:
                st = p.stat()
                key = (st.st_dev, st.st_ino)
                if key in seen_files:
                    continue
                seen_files.add(key)
            except OSError:
                pass  # yielded anyway: the analysis says what is wrong with it
            yield p
            continue
        yield from _walk(p, seen_dirs, seen_files)


def _walk(top: Path, seen_dirs: set, seen_files: set) -> Iterator[Path]:
    try:
        st = top.stat()
    except OSError:
        return
    if (st.st_dev, st.st_ino) in seen_dirs:
        return
    seen_dirs.add((st.st_dev, st.st_ino))
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError:  # unreadable folder: nothing in it can be analysed
        return
    subdirs = []
    for e in entries:
        if e.name.startswith("."):
            continue
        try:
            if e.is_dir():  # follows symlinks; loops are cut by seen_dirs
                subdirs.append((e.is_symlink(), Path(e.path)))
            elif e.is_file() and is_audio_name(e.name):
                fst = e.stat()
                key = (fst.st_dev, fst.st_ino)
                if key not in seen_files:  # the same file reached through a symlinked folder
                    seen_files.add(key)
                    yield Path(e.path)
        except OSError:
            continue
    # Real folders before symlinked ones, so a file is reported under its real path when it can be.
    for _, d in sorted(subdirs, key=lambda t: t[0]):
        yield from _walk(d, seen_dirs, seen_files)


def content_hash(path: str | os.PathLike) -> str:
    """SHA-256 of the file's bytes, streamed: the same for renamed, moved or copied files."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
