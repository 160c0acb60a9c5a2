"""Analysing files on a Dask distributed cluster: a runner for analysis.pipeline.analyze_paths.

Each file is one task running the pipeline's own per-file function (analyze_file) on a worker,
which must have MusicRec installed and read the file at the same path, or at the path the
PathMap gives. Results stream back as they finish; the caller (analyze_paths) keeps the feature
cache, the progress and the library as for the local process pool, so cache hits (files already
analysed and unchanged) are answered here and never submitted.

A bounded number of tasks is in flight (twice the workers' threads), so a cancel leaves little
to withdraw and a million-file archive never sits in the scheduler's memory at once. A worker
that dies mid-file has its tasks rescheduled by Dask on the others; a file that takes down
every worker that tries it (Dask's allowed-failures, 3 by default) becomes a per-file error.

The Dask protocol pickles functions and results between this process and the workers: it is a
code-execution channel between your own machines, to be used on a trusted network only
(docs/CLUSTER.md). Nothing read from the data folder goes through it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from dataclasses import replace

from musicrec_engine.analysis.pipeline import AnalysisResult, analyze_file
from musicrec_engine.cluster.pathmap import PathMap
from musicrec_engine.errors import MusicRecError

log = logging.getLogger("musicrec.cluster")

IN_FLIGHT_PER_THREAD = 2  # tasks queued per worker thread: no worker waits for the next file
ENV_TIMEOUT = "MUSICREC_CLUSTER_TIMEOUT"  # seconds to reach the scheduler (Dask retries until then)
CONNECT_TIMEOUT = 10.0
WORKERS_TIMEOUT = 60.0  # seconds to wait for the first worker to join


def default_connect_timeout() -> float:
    try:
        return max(0.5, float(os.environ.get(ENV_TIMEOUT, "")))
    except ValueError:
        return CONNECT_TIMEOUT


class ClusterError(MusicRecError):
    """The cluster cannot be used at all (unreachable, no workers, workers without MusicRec)."""


def worker_analyze(path: str, window: str) -> tuple[AnalysisResult, str]:
    """Runs on a worker: the pipeline's per-file analysis (no cache: the caller keeps that), and
    the worker's host name, for the error message of a file it could not read."""
    return analyze_file(path, window=window), socket.gethostname()


def worker_fingerprint(window: str) -> dict:
    """Runs on a worker: what decides its results, to compare with this machine's before any file
    is sent (a worker with another version would mix vectors of two schemas into one library, and
    one without the user's trained attribute models would give other attributes)."""
    import hashlib

    from musicrec_engine import __version__, features, paths
    from musicrec_engine.analysis import listening_step, plan
    from musicrec_engine.attributes.modelfile import USER_MODEL

    models = hashlib.sha256()  # the user's trained attribute model and its manifest, by content
    for f in sorted(paths.resolve().models.glob(f"{USER_MODEL}.*")):
        if f.is_file():
            models.update(f"{f.name}\0".encode() + hashlib.sha256(f.read_bytes()).digest())
    return {"version": __version__, "listening": listening_step.schema(),
            "features": {p: features.schema(p, window).hash for p in features.PIPELINES},
            "attribute model": models.hexdigest(),
            "reading plan": plan.describe()}  # how much of a long track is read (MUSICREC_ANALYSIS_PLAN)


class DaskRunner:
    """runner(files, window, cancel) for analyze_paths: the files analysed on the cluster at
    `address` (a scheduler address such as tcp://10.0.0.5:8786), yielded as each finishes,
    named by the local paths given."""

    def __init__(self, address: str, path_map: PathMap | None = None, connect_timeout: float | None = None,
                 workers_timeout: float = WORKERS_TIMEOUT):
        self.address = address
        self.path_map = path_map or PathMap()
        self.connect_timeout = connect_timeout or default_connect_timeout()
        self.workers_timeout = workers_timeout

    def connect(self, window: str = "full"):
        """A distributed.Client on the scheduler with at least one worker that analyses as this
        machine does; ClusterError with what to do otherwise."""
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("analysing on a cluster needs Dask: pip install 'musicrec[cluster]'") from None
        try:
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {self.address} ({_first_line(e)}); start one "
                               "with 'dask scheduler' and workers with 'dask worker ADDRESS' (docs/CLUSTER.md)") from None
        try:
            try:
                client.wait_for_workers(1, timeout=self.workers_timeout)
            except TimeoutError:
                raise ClusterError(f"the Dask scheduler at {self.address} has no workers after "
                                   f"{self.workers_timeout:g} s; start some with 'dask worker {self.address}'") from None
            self._check_workers(client, window)
        except BaseException:
            client.close()
            raise
        return client

    @staticmethod
    def _check_workers(client, window: str) -> None:
        try:
            theirs = client.run(worker_fingerprint, window)
        except Exception as e:  # e.g. ModuleNotFoundError on a worker without the package
            raise ClusterError(f"the Dask workers cannot run MusicRec's analysis ({_first_line(e)}); install it "
                               "on each worker: pip install 'musicrec[cluster]'") from None
        ours = worker_fingerprint(window)
        for worker, fp in theirs.items():
            if fp != ours:
                what = [k for k in ours if fp.get(k) != ours[k]]
                hint = (" (copy the models folder of your data folder to each worker's)"
                        if what == ["attribute model"] else "")
                raise ClusterError(f"the Dask worker {worker} analyses differently from this machine (other "
                                   f"{' and '.join(what)} settings; MusicRec {fp.get('version')} there, "
                                   f"{ours['version']} here); install the same version, with the same "
                                   f"MUSICREC_* settings and trained models, on every worker{hint}")

    def __call__(self, files: list[str], window: str, cancel: threading.Event) -> Iterator[AnalysisResult]:
        if not files:
            return
        client = self.connect(window)
        try:
            yield from self._run(client, files, window, cancel)
        except (OSError, CancelledError) as e:  # the scheduler went away mid-batch
            if client.status == "running":
                raise
            raise ClusterError(f"lost the connection to the Dask scheduler at {self.address} ({_first_line(e)}); "
                               "what was analysed is kept: run the same command again") from None
        finally:
            client.close()

    def _run(self, client, files: list[str], window: str, cancel: threading.Event) -> Iterator[AnalysisResult]:
        from distributed import as_completed

        queue = list(reversed(files))
        running: dict = {}  # future -> local path
        finished = as_completed(loop=client.loop)
        capacity, checked, workers_seen = 0, 0.0, time.monotonic()
        try:
            while queue or running:
                if time.monotonic() - checked > 2.0:  # workers come and go; ask now and then
                    threads = sum(client.nthreads().values())
                    checked = time.monotonic()
                    if threads:
                        workers_seen = checked
                    elif checked - workers_seen > self.workers_timeout:
                        raise ClusterError(f"the Dask cluster at {self.address} has had no workers for "
                                           f"{self.workers_timeout:g} s; what was analysed is kept: run the same "
                                           "command again when workers are back")
                    capacity = IN_FLIGHT_PER_THREAD * max(1, threads)
                while queue and len(running) < capacity and not cancel.is_set():
                    f = queue.pop()
                    fut = client.submit(worker_analyze, self.path_map.to_worker(f), window, pure=False)
                    running[fut] = f
                    finished.add(fut)
                if cancel.is_set() or not running:
                    return  # the futures still out are cancelled below; what arrived is kept
                if not finished.has_ready():  # a short wait, so that a cancel is seen within 0.2 s
                    with finished.thread_condition:
                        finished.thread_condition.wait(timeout=0.2)
                for fut in finished.next_batch(block=False):
                    yield self._result(client, fut, running.pop(fut))
        finally:
            if running:
                with contextlib.suppress(Exception):  # a scheduler that is gone has nothing left to cancel
                    client.cancel(list(running))

    def _result(self, client, fut, path: str) -> AnalysisResult:
        remote = self.path_map.to_worker(path)
        try:
            result, host = fut.result()
        except Exception as e:
            from distributed import KilledWorker

            if client.status != "running":  # not this file's fault: the whole batch stops (see __call__)
                raise
            if isinstance(e, KilledWorker):
                why = ("the analysis stopped every Dask worker that tried this file "
                       "(out of memory or a decoder crash)")
            else:
                log.warning("the cluster failed on %s", path, exc_info=True)
                why = f"the cluster could not analyse this file ({type(e).__name__}: {_first_line(e)})"
            return AnalysisResult(path=path, status="error", error=why)
        finally:
            fut.release()
        if not result.ok:  # say where it was read: a file missing on one machine exists on another
            where = f"as {remote} " if remote != path else ""
            result = replace(result, error=f"{result.error} (read {where}on the Dask worker {host})")
        return replace(result, path=path)


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
