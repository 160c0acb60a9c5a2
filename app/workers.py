"""Background jobs: QRunnables that call the engine and report back by signals.

Widgets live in the GUI thread only. A job's signals object is created in the GUI thread, so its
signals reach slots there through queued connections; the worker never touches a widget.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class JobSignals(QObject):
    progress = Signal(int, int, str)  # done, total, message
    item = Signal(object)  # one per-item result (e.g. one analysed file)
    finished = Signal(object)  # the job function's return value
    failed = Signal(str)  # one sentence for the user
    done = Signal()  # always last, after finished or failed


class Job(QRunnable):
    """Runs `fn(job)`; `fn` reads `job.cancel`, calls `job.progress(...)` and `job.item(...)`."""

    def __init__(self, name: str, fn: Callable[[Job], object]):
        super().__init__()
        self.setAutoDelete(False)  # the pool keeps a Python reference until `done`
        self.name = name
        self.fn = fn
        self.cancel = threading.Event()
        self.signals = JobSignals()

    def progress(self, done: int, total: int, message: str = "") -> None:
        self._emit(self.signals.progress, int(done), int(total), str(message))

    def item(self, obj) -> None:
        self._emit(self.signals.item, obj)

    def _emit(self, signal, *args) -> None:
        with contextlib.suppress(RuntimeError):  # the window closed while this job was finishing
            signal.emit(*args)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except Exception as exc:  # a job failure is reported, never allowed to kill the worker thread
            log.error("job %s failed: %s\n%s", self.name, exc, traceback.format_exc())
            self._emit(self.signals.failed, _sentence(exc))
        else:
            self._emit(self.signals.finished, result)
        self._emit(self.signals.done)


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if text.endswith(".") else text + "."


class Workers(QObject):
    """The app's job pool. Keeps jobs alive until they finish and cancels them all on shutdown."""

    def __init__(self, parent=None, max_threads: int = 3):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.jobs: set[Job] = set()

    def start(self, job: Job) -> Job:
        self.jobs.add(job)
        job.signals.done.connect(lambda j=job: self.jobs.discard(j))
        self.pool.start(job)
        return job

    def run(self, name: str, fn, *, finished=None, failed=None, progress=None, item=None) -> Job:
        job = Job(name, fn)
        for sig, slot in ((job.signals.finished, finished), (job.signals.failed, failed),
                          (job.signals.progress, progress), (job.signals.item, item)):
            if slot is not None:
                sig.connect(slot)
        return self.start(job)

    def busy(self, name: str) -> bool:
        return any(j.name == name for j in self.jobs)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything and wait; True when every job ended in time."""
        for job in list(self.jobs):
            job.cancel.set()
        return self.pool.waitForDone(timeout_ms)
