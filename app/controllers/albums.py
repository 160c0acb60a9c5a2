"""Album jobs: ranking the albums of the library, catalogs and MusicBrainz cache, a MusicBrainz
search (one at a time, cancellable), and cover art fetched in the engine's own threads."""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import QObject, Signal

from app.covers import thumbnail
from app.display import count, passes
from app.workers import Workers

log = logging.getLogger(__name__)


class AlbumsController(QObject):
    shown = Signal(object, str, object)  # albums, a note ("" for the page's own), errors
    message = Signal(str)
    busy = Signal(bool)  # a MusicBrainz search is running
    progress = Signal(int, int, str)
    cover_ready = Signal(str, str)  # release id, image path ("" when there is none); from any thread
    local_cover_ready = Signal(str, str)  # a library album's key, its own picture's path

    def __init__(self, engine, workers: Workers, parent=None):
        super().__init__(parent)
        self.engine, self.workers = engine, workers
        self.source = "all"
        self.search_job = None

    def refresh(self, source: str, thresholds: dict) -> None:
        """`thresholds` are read from the settings by the caller, in the GUI thread."""
        self.source = source or "all"
        source = self.source
        self.message.emit("Ranking albums…")
        self.workers.run("albums", lambda j: self.engine.albums(source=source, thresholds=thresholds),
                         finished=lambda r: self.shown.emit(r["albums"], "", r["errors"]),
                         failed=lambda m: self.shown.emit([], m, []))

    @property
    def refreshing(self) -> bool:
        return self.workers.busy("albums")

    def search(self, query: dict, thresholds: dict) -> bool:
        if self.search_job is not None:
            return False
        self.busy.emit(True)

        def done(report):
            albums = report["albums"]
            good = sum(1 for a in albums if a.get("recommended", True))
            note = (f"{count(len(albums), 'album')} found on MusicBrainz; {good} {passes(good)} "
                    "your thresholds." if albums else
                    "MusicBrainz returned no albums for this search.")
            if report["cancelled"]:
                note = "Search cancelled. " + note
            self.shown.emit(albums, note, report["errors"])

        def finished():
            self.search_job = None
            self.busy.emit(False)

        self.search_job = self.workers.run(
            "album search", lambda j: self.engine.search_albums(
                **query, thresholds=thresholds, progress=j.progress, cancel=j.cancel),
            finished=done, failed=self.message.emit, progress=self.progress.emit, done=finished)
        return True

    def cancel_search(self) -> None:
        if self.search_job is not None:
            self.search_job.cancel.set()

    def want_cover(self, release_id: str) -> str | None:
        """The cover's path when it is cached; else it is fetched in the engine's threads and
        cover_ready follows (Qt queues that signal to the GUI thread)."""
        try:
            path = self.engine.cover_art().get(release_id, on_ready=self._emit_cover)
        except (ValueError, OSError) as exc:
            log.info("no cover for %s: %s", release_id, exc)
            return None
        return str(path) if path else None

    def want_local_cover(self, key: str, track_ids: list) -> None:
        """A library album's picture from its own files, read in a worker (mutagen, read-only) and
        made a thumbnail there, so the window never loads a full-size scan."""
        ids = [i for i in track_ids if str(i).isdigit()]
        if ids:
            self.workers.run("local cover", lambda j: thumbnail(self.engine.library_album_cover(ids)),
                             finished=lambda p: p and self.local_cover_ready.emit(key, p),
                             failed=lambda m: log.info("no cover for %s: %s", key, m))

    def _emit_cover(self, release_id, path) -> None:
        with contextlib.suppress(RuntimeError):  # the window has closed meanwhile
            self.cover_ready.emit(release_id, str(path or ""))
