"""The analysis queue: files and folders the user added wait here while one analysis job runs;
results come back in batches, and Cancel stops the job and drops what was waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.controllers.analysis_process import analyze
from app.workers import Workers, children_at_low_priority

ARRIVAL_MS = 500  # batch finished files: each repaint of the table costs the busy GUI thread


@dataclass
class Summary:
    ok: int = 0
    failed: int = 0
    cancelled: bool = False


class AnalysisQueue(QObject):
    started = Signal(str)  # the first line for the progress strip
    progress = Signal(int, int, str)  # done, total, current file
    arrived = Signal(object)  # finished items: {"path", "status", "error", "track"}
    failed = Signal(str)  # the job as a whole failed (one sentence)
    finished = Signal(object)  # Summary, once the queue is empty or cancelled

    def __init__(self, engine, workers: Workers, jobs: Callable[[], int | None], parent=None):
        """`jobs` gives the worker-process count; it is read in the GUI thread when a job starts."""
        super().__init__(parent)
        self.engine, self.workers, self.jobs = engine, workers, jobs
        self.job = None
        self.pending: list[str] = []
        self.demo_pending = False
        self.select_path: str | None = None  # a single added file is selected when it arrives
        self.summary = Summary()
        self.closing = False
        self._arrived: list[dict] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(ARRIVAL_MS)
        self._timer.timeout.connect(self._flush)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def add(self, paths: list[str]) -> bool:
        """Queue files/folders; False when they wait behind a running job."""
        one_file = len(paths) == 1 and Path(paths[0]).is_file()
        self.select_path = str(Path(paths[0]).resolve()) if one_file else None
        self.pending.extend(paths)
        return self._start_if_idle()

    def add_demo(self) -> bool:
        self.demo_pending = True
        return self._start_if_idle()

    def cancel(self) -> None:
        if self.job is not None:
            self.pending, self.demo_pending = [], False
            self.job.cancel.set()

    def _start_if_idle(self) -> bool:
        if self.job is not None:
            return False
        self._start()
        return True

    def _start(self) -> None:
        paths, self.pending = self.pending, []
        demo, self.demo_pending = self.demo_pending, False
        jobs = self.jobs()
        engine = self.engine

        def work(job):
            with children_at_low_priority():
                if demo:
                    job.progress(0, 0, "Generating the demo library…")
                    analyze(engine, engine.make_demo_library(), job, jobs=jobs)
                if paths and not job.cancel.is_set():
                    analyze(engine, paths, job, jobs=jobs)

        self.summary = Summary()
        self.job = self.workers.run("analysis", work, item=self._item, failed=self.failed.emit,
                                    progress=self.progress.emit)
        self.job.signals.done.connect(self._done)
        self.started.emit("Generating the demo library…" if demo else "Looking for audio files…")

    def _item(self, item: dict) -> None:
        self._arrived.append(item)
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        items, self._arrived = self._arrived, []
        for item in items:
            if item["status"] == "ok" and item.get("track"):
                self.summary.ok += 1
            else:
                self.summary.failed += 1
        if items:
            self.arrived.emit(items)

    def _done(self) -> None:
        if self.closing:
            return
        self._timer.stop()
        self._flush()
        self.summary.cancelled = self.job.cancel.is_set()
        self.job = None
        if (self.pending or self.demo_pending) and not self.summary.cancelled:
            self._start()
            return
        self.pending, self.demo_pending = [], False
        self.finished.emit(self.summary)
