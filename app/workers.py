"""Background jobs: QRunnables that call the engine and report back by signals.

Widgets live in the GUI thread only. A job's signals object is created in the GUI thread, so its
signals reach slots there through queued connections; the worker never touches a widget.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
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
            if _expected(exc):  # a user-level message (no model yet, bad input): not a bug
                log.info("job %s: %s", self.name, exc)
            else:
                log.error("job %s failed: %s\n%s", self.name, exc, traceback.format_exc())
            self._emit(self.signals.failed, _sentence(exc))
        else:
            self._emit(self.signals.finished, result)
        self._emit(self.signals.done)


BACKGROUND_NICE = 10


def _child_pids() -> set[int]:
    pids: set[int] = set()
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as f:
                pids.update(int(p) for p in f.read().split())
    except OSError:
        pass
    return pids


@contextlib.contextmanager
def children_at_low_priority(interval: float = 0.25):
    """While the block runs, give the processes this process starts (the engine's analysis pool) a
    lower CPU priority, so the GUI thread wins the CPU when a batch keeps every core busy.

    Only the children: lowering the calling thread itself would make it slow to hand back Python's
    GIL, which stalls the GUI thread more, not less. Linux only (elsewhere this does nothing)."""
    if not sys.platform.startswith("linux"):
        yield
        return
    stop = threading.Event()
    done: set[int] = set()

    def renice():
        while True:
            for pid in _child_pids() - done:
                with contextlib.suppress(OSError):  # gone already, or not ours to change
                    if os.getpriority(os.PRIO_PROCESS, pid) < BACKGROUND_NICE:
                        os.setpriority(os.PRIO_PROCESS, pid, BACKGROUND_NICE)
                done.add(pid)
            if stop.wait(interval):
                return

    t = threading.Thread(target=renice, name="renice-analysis", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()


_pauses = 0
_pauses_lock = threading.Lock()


@contextlib.contextmanager
def collector_paused():
    """Build many long-lived objects in a worker (a library's table rows, the playlists' pool)
    without stopping the window: with the cyclic garbage collector paused, then frozen in.

    Making a few hundred thousand objects sets off full collections in the building thread, each
    a walk over every object the app holds with the GIL held: 70-110 ms of a stopped window for
    each, twice per 10,000-track load (benchmarks/bench_app.py). Freezing what is alive at the end
    keeps later collections from walking it again; frozen objects are still freed when their last
    reference goes, so a replaced table's rows (which hold no reference cycles) are not kept.
    Jobs may overlap: the collector comes back when the last one ends."""
    global _pauses
    with _pauses_lock:
        _pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if not _pauses:
                gc.freeze()
                gc.enable()


def _expected(exc: BaseException) -> bool:
    from musicrec_engine.engine import MusicRecError

    return isinstance(exc, MusicRecError) or type(exc).__name__ == "Unavailable"


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

    def run(self, name: str, fn, *, finished=None, failed=None, progress=None, item=None, done=None) -> Job:
        """Start `fn` in the pool with these slots on its signals. They are connected before the job
        starts: a job that ends at once (a missing file, no network) would otherwise end unheard."""
        job = Job(name, fn)
        for sig, slot in ((job.signals.finished, finished), (job.signals.failed, failed),
                          (job.signals.progress, progress), (job.signals.item, item), (job.signals.done, done)):
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
