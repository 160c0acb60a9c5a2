"""The incremental re-scan of music folders.

A re-scan compares what is on disk with the library: unchanged files (same size and mtime) are
skipped; new and changed files are analysed; a file whose content hash matches a track that is no
longer at its old path has moved (its features, attributes and rating follow it); tracks whose
file is gone are marked missing, never deleted, so their ratings survive an unplugged drive.

The analysis itself is handed in (`analyze_paths`, e.g. analysis.pipeline.analyze_paths with the
engine's feature cache): the library sits below the analysis and never imports it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from musicrec_engine.jobs import Progress


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


def scan(lib, roots: Iterable[str | os.PathLike], analyze_paths: Callable, progress: Progress | None = None,
         cancel: threading.Event | None = None, jobs: int | None = None) -> ScanReport:
    """Bring the library up to date with the folders `roots` (see the module doc).

    `analyze_paths(paths, jobs=, progress=, cancel=)` yields one analysis result per file."""
    from musicrec_engine.audio import files

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
