"""Analysis of audio files: decode -> one Spectrum -> both feature vectors -> attributes.

A long track is decoded only where analysis/plan.py says (a few stretches spread over it), once,
and every consumer (features, measured and learned attributes, the listening model) reads that one
decoded signal, so the cost of a file is bounded whatever its length.

`analyze_file` does one file; `analyze_paths` does files and folders with a process pool,
progress, cancellation and the feature cache. A file that cannot be analysed becomes a result
with status "error" and a one-sentence reason; it never stops the batch, and nothing is cached
for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from musicrec_engine import features, paths
from musicrec_engine.analysis import listening_step, plan
from musicrec_engine.attributes import Attribute, tempo_bin
from musicrec_engine.audio import decode as audio
from musicrec_engine.audio.files import content_hash, iter_audio_files
from musicrec_engine.features.cache import FeatureCache, stat_key
from musicrec_engine.jobs import Progress

log = logging.getLogger("musicrec.analysis")

_IN_FLIGHT_PER_WORKER = 2  # queued work per process: keeps workers busy without buffering a whole folder
_MIN_FILES_PER_WORKER = 3  # smaller batches run in this process (see bench_features: worker start)
ENV_FILE_TIMEOUT = "MUSICREC_FILE_TIMEOUT"
FILE_TIMEOUT = 120.0


# Analyses files elsewhere: runner(files, window, cancel) yields one AnalysisResult per file, as
# each finishes, named by the path it was given; it stops handing out work when cancel is set.
Runner = Callable[[list[str], str, threading.Event], Iterator["AnalysisResult"]]


@dataclass
class AnalysisResult:
    path: str
    status: str  # "ok" | "error"
    error: str | None = None  # one sentence when status == "error"
    duration: float = 0.0  # seconds, the whole file
    content_hash: str | None = None
    features: dict[str, np.ndarray] = field(default_factory=dict)
    feature_names: dict[str, list[str]] = field(default_factory=dict)
    schema_hash: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Attribute] = field(default_factory=dict)
    analysed_seconds: float = 0.0  # the part analysed: the planned stretches, the whole track (10 min cap) or 30 s
    window: str = "full"
    cached: bool = False  # came from the feature cache
    seconds: float = 0.0  # wall time spent on this file
    warning: str | None = None  # ok, but something is missing (then it is not cached: a re-run tries again)
    # What the listening model heard (analysis/listening_step.py): vocabulary -> tag -> probability,
    # vocabulary -> 200-value embedding, the settings they were computed with, or why there are none.
    tags: dict[str, dict[str, float]] = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    listening_schema: str | None = None
    listening_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        """The `analyze --json` line: facts, a feature summary and the attributes (no raw vectors)."""
        out = {"path": self.path, "status": self.status, "error": self.error}
        if not self.ok:
            return out
        if self.warning:
            out["warning"] = self.warning
        tempo = self.attributes.get("tempo")
        out.update({
            "duration": round(self.duration, 3),
            "analysed_seconds": round(self.analysed_seconds, 3),
            "window": self.window,
            "content_hash": self.content_hash,
            "cached": self.cached,
            "features": {p: {"version": features.PIPELINES[p].VERSION, "schema_hash": self.schema_hash.get(p),
                             "n": int(len(v))} for p, v in self.features.items()},
            "attributes": {k: _attr_dict(a) for k, a in self.attributes.items()},
            "tempo_bin": tempo_bin(float(tempo.value)) if tempo is not None else None,
            "tags": {v: {t: round(p, 4) for t, p in probs.items()} for v, probs in self.tags.items()},
            "embedding": ({"schema": self.listening_schema,
                           "pipelines": {v: len(e) for v, e in self.embeddings.items()}}
                          if self.embeddings else None),
        })
        return out


def _attr_dict(a) -> dict:
    d = a if isinstance(a, dict) else a.to_dict()
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in d.items()}


def analysis_key(window: str = "full", models_dir: str | os.PathLike | None = None) -> str:
    """What a cached analysis must match: both feature schemas and the attribute code and models.

    The attribute part is a fingerprint of the attributes package's source and of the model
    files (names, sizes, times), so retraining a model or changing a measurement re-analyses.
    """
    h = hashlib.sha256()
    for p in features.PIPELINES:
        h.update(features.schema(p, window).hash.encode())
    h.update(str(listening_step.schema()).encode())
    if window == "full" and plan.describe() != "whole":  # whole-track analyses keep the key they always had
        h.update(plan.describe().encode())
    pkg = Path(__file__).resolve().parents[1] / "attributes"
    for f in sorted(pkg.rglob("*.py")):
        h.update(f.relative_to(pkg).as_posix().encode())
        h.update(f.read_bytes())
    if models_dir is None:
        models_dir = paths.resolve().models
    for root in (Path(models_dir), paths.SHIPPED_MODELS):
        if root.is_dir():
            for f in sorted(root.rglob("*")):
                if f.is_file():
                    st = f.stat()
                    h.update(f"{f.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def analyze_file(path: str | os.PathLike, *, window: str = "full", cache: FeatureCache | None = None,
                 models_dir: str | os.PathLike | None = None) -> AnalysisResult:
    """Analyse one file (through the cache when one is given). Never raises for a bad file."""
    key = analysis_key(window, models_dir) if cache is not None else ""
    result, skey = _analyze(str(path), window, cache, key)
    if cache is not None:
        _store(cache, result, skey, key)
    return result


def analyze_paths(paths: Iterable[str | os.PathLike], jobs: int | None = None, progress: Progress | None = None,
                  cancel: threading.Event | None = None, *, cache: FeatureCache | None = None,
                  window: str = "full", models_dir: str | os.PathLike | None = None,
                  runner: Runner | None = None) -> Iterator[AnalysisResult]:
    """Analyse every audio file under `paths`, yielding results as they finish.

    jobs: worker processes (default: the number of cores); 1 runs in this process. Files the
    cache already knows are answered here without a worker. `progress(done, total, path)` after
    each file; setting `cancel` stops handing out work, and the generator ends after the
    files in progress. `runner` analyses the other files somewhere else than this machine's
    process pool (a Dask cluster: musicrec_engine/cluster), with the same cache, progress and cancel.
    """
    files = [str(p) for p in iter_audio_files(paths)]
    total = len(files)
    key = analysis_key(window, models_dir) if cache is not None else ""
    cancel = cancel or threading.Event()
    done = 0

    def report(result: AnalysisResult) -> AnalysisResult:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, result.path)
        return result

    todo = []
    for f in files:  # cache hits first: they cost a stat and two look-ups
        hit = _cached(f, window, cache, key) if cache is not None else None
        if hit is not None:
            yield report(hit)
        else:
            todo.append(f)
        if cancel.is_set():
            return
    if runner is not None:
        for result in runner(todo, window, cancel):
            if cache is not None:
                _store(cache, result, _stat_key(result.path), key)
            yield report(result)
        return
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    if len(todo) < _MIN_FILES_PER_WORKER * jobs:
        jobs = 1  # a worker's start (imports, loading the attribute models) costs more than a few files
    if jobs == 1:
        for f in todo:
            if cancel.is_set():
                return
            result, skey = _analyze(f, window, cache, key)
            if cache is not None:
                _store(cache, result, skey, key)
            yield report(result)
        return
    yield from (report(r) for r in _pool(todo, jobs, window, cache, key, cancel))


def _stat_key(path: str):
    try:
        return stat_key(os.stat(path))
    except OSError:
        return None


def file_timeout() -> float:
    """Seconds one file may take in a worker before the watchdog kills it ($MUSICREC_FILE_TIMEOUT).
    Files are read up to 10 minutes of audio, which takes seconds; minutes mean a hung decoder."""
    try:
        return max(0.5, float(os.environ.get(ENV_FILE_TIMEOUT, "")))
    except ValueError:
        return FILE_TIMEOUT


def _pool(todo: list[str], jobs: int, window: str, cache: FeatureCache | None, key: str,
          cancel: threading.Event) -> Iterator[AnalysisResult]:
    """Files through a process pool, with a watchdog: each worker notes which file it starts (a
    small file named by its pid in a private folder: no lock shared with the other workers, which
    a stuck or killed worker could hold forever), and a
    file that runs past file_timeout() has its worker killed and is reported; the other files that
    were in the pool when it broke (after a kill or a decoder crash) are tried again, a started
    one once, so a crash costs at most the file that caused it."""
    import signal
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    cache_path = str(cache.path) if cache is not None else None
    queue = list(reversed(todo))
    limit = file_timeout()
    import json
    import shutil
    import tempfile

    ctx = _mp_context()
    starts = tempfile.mkdtemp(prefix="musicrec-analysis-")  # <pid> -> [path, time.time()] per worker
    started: dict[str, tuple[int, float]] = {}
    tries: dict[str, int] = {}
    hung: set[str] = set()

    def new_pool():
        for note in os.listdir(starts):  # the dead pool's notes would time out retried files at once
            os.unlink(os.path.join(starts, note))
        return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                   initargs=(cache_path, starts))

    def drain() -> None:
        in_pool = set(running.values())
        for note in os.listdir(starts):
            if note.isdigit():
                with contextlib.suppress(OSError, ValueError):
                    with open(os.path.join(starts, note), encoding="ascii") as fh:
                        f, t = json.load(fh)
                    if f in in_pool:
                        started[f] = (int(note), t)

    ex = new_pool()
    running: dict = {}
    try:
        while queue or running:
            while queue and len(running) < jobs * _IN_FLIGHT_PER_WORKER and not cancel.is_set():
                f = queue.pop()
                running[ex.submit(_worker_analyze, f, window, key)] = f
            if not running:
                return
            finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for fut, f in running.items():
                if fut not in finished and f in started and f not in hung and time.time() - started[f][1] > limit:
                    hung.add(f)
                    log.warning("analysis of %s took over %g s: killing its worker", f, limit)
                    with contextlib.suppress(OSError):
                        os.kill(started[f][0], signal.SIGKILL)
            broken = False
            for fut in finished:
                f = running.pop(fut)
                try:
                    result, skey = fut.result()
                except BrokenProcessPool:
                    broken = True
                    running[fut] = f  # dealt with below with the rest of the broken pool
                    continue
                started.pop(f, None)
                if cache is not None:
                    _store(cache, result, skey, key)
                yield result
            if broken:
                drain()
                for f in running.values():
                    if f in hung:
                        yield _error(f, f"the analysis took longer than {limit:g} s and was stopped "
                                        "(the decoder hung on this file)")
                    elif f in started and tries.get(f, 0) >= 1:
                        yield _error(f, "the analysis process stopped on this file "
                                        "(out of memory or a decoder crash)")
                    else:  # innocent, or a first suspect: once more in a new pool
                        tries[f] = tries.get(f, 0) + (f in started)
                        queue.append(f)
                    started.pop(f, None)
                running.clear()
                _close_pool(ex)
                ex = new_pool()
            if cancel.is_set() and not running:
                return
    finally:
        _close_pool(ex)
        shutil.rmtree(starts, ignore_errors=True)


def _close_pool(ex) -> None:
    """Shut the pool down, killing any worker that has not left a few seconds later: a stuck one
    would otherwise keep this process from ever exiting (the interpreter joins pool workers)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 3.0
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            with contextlib.suppress(OSError, ValueError):
                p.kill()


_WORKER_IMPORTS = ["musicrec_engine.analysis.pipeline", "musicrec_engine.analysis.warmup"]


def _mp_context():
    """Workers come from a fork server where there is one (Linux, macOS): it imports the pipelines and
    loads the attribute models once (analysis.warmup), and each worker is then a fork of it, ready
    in milliseconds,
    instead of paying seconds of imports per worker and per batch. Never a plain fork of this
    process: it may be a GUI with threads, and fork copies their locks. Frozen bundles use spawn."""
    import multiprocessing as mp
    import sys

    if "forkserver" in mp.get_all_start_methods() and not getattr(sys, "frozen", False):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_WORKER_IMPORTS)
        return ctx
    return mp.get_context("spawn")


_worker_cache: FeatureCache | None = None
_worker_starts = None


def _worker_init(cache_path: str | None, starts=None) -> None:
    global _worker_cache, _worker_starts
    _worker_starts = starts
    try:  # one core per worker: N workers use N cores, not N x BLAS threads
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    _worker_cache = FeatureCache(cache_path) if cache_path else None


def _worker_analyze(path: str, window: str, key: str):
    if _worker_starts is not None:  # for the parent's watchdog: which file, since when
        import json

        note = os.path.join(_worker_starts, str(os.getpid()))
        with contextlib.suppress(OSError):
            with open(note + ".tmp", "w", encoding="ascii") as f:
                json.dump([path, time.time()], f)  # ASCII: names that are not UTF-8 are escaped
            os.replace(note + ".tmp", note)
    return _analyze(path, window, _worker_cache, key)


def _error(path: str, reason: str, t0: float | None = None, **kw) -> AnalysisResult:
    return AnalysisResult(path=path, status="error", error=reason,
                          seconds=time.perf_counter() - t0 if t0 else 0.0, **kw)


def _cached(path: str, window: str, cache: FeatureCache, key: str) -> AnalysisResult | None:
    """The cached result for a file whose identity (inode, size, mtime) the cache has seen."""
    t0 = time.perf_counter()
    try:
        st = os.stat(path)
    except OSError:
        return None
    h = cache.known_hash(st)
    return _from_cache(path, h, window, cache, key, t0) if h else None


def _from_cache(path: str, h: str, window: str, cache: FeatureCache, key: str, t0: float) -> AnalysisResult | None:
    row = cache.get_analysis(h, key)
    if row is None:
        return None
    vecs, names, hashes = {}, {}, {}
    for p in features.PIPELINES:
        sch = features.schema(p, window)
        v = cache.get_vector(h, sch.hash)
        if v is None or len(v) != len(sch):
            return None
        vecs[p], names[p], hashes[p] = v, list(sch.names), sch.hash
    attrs = {k: Attribute(**d) for k, d in row["attributes"].items()}
    lschema = listening_step.schema()
    heard = listening_step.from_cache(cache, h, lschema)
    if heard is None and lschema is not None:  # listened with other settings, or not at all: redo
        return None
    tags, embeddings = heard or ({}, {})
    return AnalysisResult(path=path, status="ok", duration=row["duration"], content_hash=h, features=vecs,
                          feature_names=names, schema_hash=hashes, attributes=attrs,
                          analysed_seconds=row["analysed_seconds"], window=window, cached=True,
                          seconds=time.perf_counter() - t0, tags=tags, embeddings=embeddings,
                          listening_schema=lschema if heard else None)


def _analyze(path: str, window: str, cache: FeatureCache | None, key: str):
    """(result, stat key of the file or None). Every failure becomes an error result."""
    t0 = time.perf_counter()
    skey = None
    try:
        audio.check_readable(Path(path))
        st = os.stat(path)
        skey = stat_key(st)
        h = (cache.known_hash(st) if cache is not None else None) or content_hash(path)
        if cache is not None:
            hit = _from_cache(path, h, window, cache, key, t0)
            if hit is not None:  # a copy of a file analysed before
                return hit, skey
        dec = audio.decode(path, window=window, plan=plan.segments)
        spec = features.Spectrum(dec.y, joins=dec.joins)
        spec.extras["channels"] = dec.channels
        vecs = features.extract(spec)
        attrs, warning = _attributes(path, spec, vecs)
        heard, listening_error = listening_step.listen(dec.y, dec.sr)
        if heard is not None:
            attrs = listening_step.ground(attrs, heard.tags, spec.extras.get("descriptors"))
        warning = warning or listening_error
        schemas = {p: features.schema(p, window) for p in features.PIPELINES}
        return AnalysisResult(
            path=path, status="ok", duration=float(dec.duration), content_hash=h, features=vecs,
            feature_names={p: list(s.names) for p, s in schemas.items()},
            schema_hash={p: s.hash for p, s in schemas.items()}, attributes=attrs,
            analysed_seconds=dec.analysed_seconds, window=window, seconds=time.perf_counter() - t0,
            warning=warning, tags=heard.tags if heard else {}, embeddings=heard.embeddings if heard else {},
            listening_schema=heard.schema if heard else None, listening_error=listening_error), skey
    except audio.AudioError as e:
        return _error(path, str(e), t0), None
    except MemoryError:
        return _error(path, "there was not enough memory to analyse this file", t0), None
    except Exception as e:  # a bug must not stop the batch; the log keeps the traceback
        log.exception("analysis of %s failed", path)
        return _error(path, f"analysis failed unexpectedly ({type(e).__name__}: {e})", t0), None


def _attributes(path: str, spec, vecs: dict) -> tuple[dict[str, Attribute], str | None]:
    from musicrec_engine.attributes import compute

    try:
        return compute.compute_all(spec, vecs), None
    except Exception as e:  # the features are good; a failing attribute model must not lose them
        log.exception("attributes of %s failed", path)
        return {}, f"the attributes could not be computed ({type(e).__name__}: {e}); analyse again to retry"


def _store(cache: FeatureCache, result: AnalysisResult, skey, key: str) -> None:
    if not result.ok or result.content_hash is None:
        return
    try:
        if skey is not None:
            cache.remember_hash(skey, result.content_hash)
        if not result.cached and not result.warning:  # an incomplete analysis is not remembered as done
            cache.put_analysis(result.content_hash, key, result.duration, result.analysed_seconds,
                               {k: _attr_dict(a) for k, a in result.attributes.items()},
                               {**{p: (result.schema_hash[p], v) for p, v in result.features.items()},
                                **listening_step.cache_vectors(result.tags, result.embeddings,
                                                               result.listening_schema)})
    except Exception:  # a full disk or locked cache costs speed next time, not this result
        log.exception("could not cache the analysis of %s", result.path)


def file_features(path: str | os.PathLike, pipeline: str, *, window: str = "full",
                  cache: FeatureCache | None = None) -> dict:
    """One pipeline's named vector for one file: {"pipeline", "version", "schema_hash", "names",
    "values", "cached"}. Raises AudioError with the reason when the file cannot be analysed."""
    if pipeline not in features.PIPELINES:
        raise ValueError(f"unknown pipeline {pipeline!r}; choose one of {', '.join(features.PIPELINES)}")
    path = Path(path)
    audio.check_readable(path)
    sch = features.schema(pipeline, window)
    st = os.stat(path)
    h = (cache.known_hash(st) if cache is not None else None) or content_hash(path)
    values = cache.get_vector(h, sch.hash) if cache is not None else None
    cached = values is not None
    if values is None:
        dec = audio.decode(path, window=window, plan=plan.segments)
        spec = features.Spectrum(dec.y, joins=dec.joins)
        values = features.extract(spec, (pipeline,))[pipeline]
        if cache is not None:
            cache.put_vector(h, sch.hash, values)
            cache.remember_hash(stat_key(st), h)
    return {"pipeline": pipeline, "version": sch.version, "schema_hash": sch.hash, "names": list(sch.names),
            "values": [float(v) for v in values], "cached": cached}
