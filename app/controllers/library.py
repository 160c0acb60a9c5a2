"""Library jobs: loading the tracks, rating, "sounds similar" look-ups, catalog imports and the
preview player. Each runs in the worker pool; answers come back by signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app import playback
from app.workers import Workers, collector_paused


class LibraryController(QObject):
    loaded = Signal(object)
    load_failed = Signal(str)
    rated = Signal(object, object)  # track ids, the rating given
    problem = Signal(str, str)  # where, reason
    similar_ready = Signal(object, object)  # the asking track's id, results
    similar_failed = Signal(str)
    playing = Signal(bool)
    preview_failed = Signal(str)
    import_progress = Signal(int, int, str)
    imported = Signal(str)  # a one-line summary
    import_ended = Signal()

    def __init__(self, engine, workers: Workers, parent=None, rows=list):
        """`rows` turns the loaded tracks into what `loaded` carries, in the worker: the window
        makes its table's rows there, so the GUI thread only swaps them in."""
        super().__init__(parent)
        self.engine, self.workers, self.rows = engine, workers, rows
        self.preview_job = None
        self.import_job = None

    def load(self) -> None:
        # A folder scan records files it could not analyse (so an unchanged bad file is not tried
        # again at every scan); the table shows music, the Problems panel the failures of this session.
        def load(job):
            with collector_paused():  # a 10,000-track library is some 600,000 objects: see collector_paused
                return self.rows([t for t in self.engine.tracks() if t.get("status") == "ok"])

        self.workers.run("load library", load, finished=self.loaded.emit,
                         failed=self.load_failed.emit)

    def rate(self, ids: list, value) -> None:
        def rate(job):
            for i in ids:
                self.engine.rate(i, value)

        self.workers.run("rate", rate,
                         finished=lambda _: self.rated.emit(ids, value),
                         failed=lambda m: self.problem.emit("Rating", m))

    def similar(self, track: dict) -> None:
        ident = track.get("id")
        self.workers.run("similar", lambda j: self.engine.similar(track_id=ident, top=10, source="all"),
                         finished=lambda results: self.similar_ready.emit(ident, results),
                         failed=self.similar_failed.emit)

    def toggle_preview(self, path: str | None) -> None:
        """Play the first seconds of `path`, or stop the preview that is playing."""
        if self.preview_job is not None:
            self.preview_job.cancel.set()
            return
        if not path:
            return
        self.preview_job = self.workers.run("preview", lambda j: playback.play(self.engine, path, j.cancel),
                                            failed=self.preview_failed.emit, done=self._preview_done)
        self.playing.emit(True)

    def _preview_done(self) -> None:
        self.preview_job = None
        self.playing.emit(False)

    def import_catalog(self, csv: str) -> bool:
        if self.import_job is not None:
            return False

        def done(report):
            self.imported.emit(report.summary() if hasattr(report, "summary") else f"Imported {Path(csv).name}")
            for m in getattr(report, "messages", []) or []:
                self.problem.emit(csv, m)

        def ended():
            self.import_job = None
            self.import_ended.emit()

        self.import_job = self.workers.run("import", lambda j: self.engine.import_catalog(
            csv, name=Path(csv).stem, progress=j.progress, cancel=j.cancel),
                                           finished=done, failed=lambda m: self.problem.emit(csv, m),
                                           progress=self.import_progress.emit, done=ended)
        return True

    def cancel_import(self) -> None:
        if self.import_job is not None:
            self.import_job.cancel.set()
