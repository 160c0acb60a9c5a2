"""The analysis queue: what the user added waits here while one job runs — files to analyse,
folders to scan incrementally (new and changed files analysed, moves followed, gone files marked
missing), the demo library. Results come back in batches; Cancel stops the job and drops what
was waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.controllers.analysis_process import analyze
from app.workers import Workers, children_at_low_priority

ARRIVAL_MS = 500  # batch finished files: each repaint of the table costs the busy GUI thread
DEMO, FILES, FOLDERS = "demo", "files", "folders"


@dataclass
class Summary:
    ok: int = 0
    failed: int = 0
    moved: int = 0  # by folder scans: files found under a new name or place (ratings kept)
    missing: int = 0  # by folder scans: files that are gone (their rows hidden, ratings kept)
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
        self.pending: list[tuple[str, list[str]]] = []  # (DEMO | FILES | FOLDERS, paths)
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
        """Queue files (analysed) and folders (scanned); False when they wait behind a running job."""
        one_file = len(paths) == 1 and Path(paths[0]).is_file()
        self.select_path = str(Path(paths[0]).resolve()) if one_file else None
        folders = [p for p in paths if Path(p).is_dir()]
        files = [p for p in paths if p not in folders]
        self.pending += [(kind, ps) for kind, ps in ((FOLDERS, folders), (FILES, files)) if ps]
        return self._start_if_idle()

    def scan(self, folders: list[str]) -> bool:
        self.pending.append((FOLDERS, list(folders)))
        return self._start_if_idle()

    def add_demo(self) -> bool:
        self.pending.append((DEMO, []))
        return self._start_if_idle()

    def cancel(self) -> None:
        if self.job is not None:
            self.pending = []
            self.job.cancel.set()

    def _start_if_idle(self) -> bool:
        if self.job is not None:
            return False
        self._start()
        return True

    def _start(self) -> None:
        requests, self.pending = self.pending, []
        jobs = self.jobs()
        engine = self.engine

        def work(job):
            scans = []
            with children_at_low_priority():
                for kind, paths in requests:
                    if job.cancel.is_set():
                        break
                    if kind == DEMO:
                        job.progress(0, 0, "Generating the demo library…")
                        paths = engine.make_demo_library()
                    scans.append(analyze(engine, paths, job, jobs=jobs, scan=kind == FOLDERS))
            return [s for s in scans if s]

        self.summary = Summary()
        self.job = self.workers.run("analysis", work, item=self._item, failed=self.failed.emit,
                                    progress=self.progress.emit, finished=self._scanned, done=self._done)
        first = requests[0][0]
        self.started.emit({DEMO: "Generating the demo library…", FOLDERS: "Scanning for new and changed music…"}
                          .get(first, "Looking for audio files…"))

    def _scanned(self, reports: list[dict]) -> None:
        for r in reports:
            self.summary.moved += int(r.get("moved") or 0)
            self.summary.missing += int(r.get("missing") or 0)
            for message in r.get("messages") or []:  # e.g. a watched folder on an unplugged drive
                self.failed.emit(message)

    def _item(self, items: list[dict]) -> None:
        self._arrived += items
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
        if self.pending and not self.summary.cancelled:
            summary = self.summary
            self._start()
            self.summary = summary  # one summary for everything the user queued
            return
        self.pending = []
        self.finished.emit(self.summary)
