"""What the app asks of the engine, in one place. Every function here runs in a worker thread
(never the GUI thread) and talks only to the Engine facade.

The engine grows in parallel with the app; a facade method that is not there yet is reported to
the user as "not available in this version" rather than crashing the window.
"""

from __future__ import annotations

import inspect
from pathlib import Path


class Unavailable(RuntimeError):
    """The engine in this build does not offer a feature yet."""


def _method(engine, name: str):
    fn = getattr(engine, name, None)
    if fn is None:
        raise Unavailable(f"{name.replace('_', ' ').capitalize()} is not available in this version.")
    return fn


def _call(fn, *args, **kwargs):
    """Call `fn` with only the keyword arguments it accepts (progress/cancel are optional extras)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(*args, **kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(*args, **kwargs)
    return fn(*args, **{k: v for k, v in kwargs.items() if k in params})


def _plain(obj):
    """Engine results may be dataclasses or dicts; the GUI wants dicts."""
    if obj is None or isinstance(obj, dict):
        return obj
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    return dict(vars(obj))


# --- library --------------------------------------------------------------------------------
def load_tracks(engine) -> list[dict]:
    return [_plain(t) for t in engine.library.tracks()]


def track(engine, ident) -> dict | None:
    return _plain(engine.library.track(ident))


# --- analysis -------------------------------------------------------------------------------
def engine_command(engine) -> tuple[list[str], dict]:
    """The `musicrec` command line for this engine's data folders, and its environment."""
    import os
    import sys

    env = dict(os.environ)
    if getattr(sys, "frozen", False):  # the bundle's one executable runs the CLI when asked with `cli`
        cmd = [sys.executable, "cli"]
    else:
        cmd = [sys.executable, "-m", "musicrec_engine"]
    p = engine.paths
    if p.cache == p.data / "cache" and p.config == p.data / "config":
        cmd += ["--home", str(p.data)]
    else:  # the platform's own folders: the same defaults apply in the child
        env.pop("MUSICREC_HOME", None)
    return cmd, env


def analyze(engine, paths: list[str], job, jobs: int | None = None):
    """Analyse `paths` (files or folders) and emit one item per file:
    {"path", "status", "error", "track"}, track being the library row of an ok file.

    The engine's `analyze` runs in a child process (`musicrec analyze --json`), which stores each
    result in the library; this process only reads the finished rows. Coordinating a process pool
    from inside the GUI process kept several Python threads busy next to the GUI thread, and on a
    loaded machine every hand-over of the interpreter lock cost the GUI tens of milliseconds."""
    import json
    import signal
    import subprocess

    from musicrec_engine.audio.files import iter_audio_files

    total = sum(1 for _ in iter_audio_files(paths))
    job.progress(0, total, "")
    if total == 0:
        return
    cmd, env = engine_command(engine)
    cmd += ["analyze", "--json", *([f"--jobs={jobs}"] if jobs else []), "--", *map(str, paths)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, encoding="utf-8", env=env)
    stop_watch = _watch_cancel(job, proc, signal)
    done = 0
    try:
        for line in proc.stdout:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            done += 1
            item = {"path": str(r.get("path", "")), "status": r.get("status", "error"), "error": r.get("error"),
                    "track": None}
            if item["status"] == "ok":
                item["track"] = track(engine, item["path"])
            job.progress(done, max(total, done), item["path"])
            job.item(item)
    finally:
        stop_watch.set()
        err = proc.stderr.read() if proc.stderr else ""
        code = proc.wait()
    if code not in (0, 1) and not job.cancel.is_set():
        last = [ln for ln in err.strip().splitlines() if ln.strip()]
        raise RuntimeError(last[-1] if last else f"the analysis stopped unexpectedly (exit status {code})")


def _watch_cancel(job, proc, signal):
    """Interrupt the analysis process when the job is cancelled: SIGINT lets it finish its database
    write and shut its worker pool down; a process that does not stop in 10 s is killed."""
    import threading

    stop = threading.Event()

    def watch():
        while not stop.is_set():
            if job.cancel.wait(0.2):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(10)
                    except Exception:
                        proc.kill()
                return

    threading.Thread(target=watch, name="analysis-cancel", daemon=True).start()
    return stop


def analyze_in_process(engine, paths: list[str], job, jobs: int | None = None):
    """The same, through Engine.analyze in this process (for callers without a GUI to keep smooth)."""
    fn = _method(engine, "analyze")
    for result in _call(fn, list(paths), jobs=jobs, progress=job.progress, cancel=job.cancel):
        status = getattr(result, "status", "error")
        item = {"path": str(getattr(result, "path", "")), "status": status,
                "error": getattr(result, "error", None), "track": None}
        if status == "ok":
            item["track"] = track(engine, item["path"])
        job.item(item)
        if job.cancel.is_set():
            break


# --- similarity -----------------------------------------------------------------------------
def similar(engine, t: dict, top: int = 10) -> list[dict]:
    fn = _method(engine, "similar")
    params = inspect.signature(fn).parameters
    if "track_id" in params:
        out = _call(fn, track_id=t["id"], top=top, source="all")
    elif "query" in params:
        from musicrec_engine.search.similarity import Query

        out = _call(fn, Query(track_id=t["id"]), top=top, source="all")
    else:
        out = _call(fn, t["id"], top=top, source="all")
    return [_plain(r) for r in out]


# --- taste ----------------------------------------------------------------------------------
def rate(engine, idents: list, value) -> None:
    fn = getattr(engine, "rate", None)
    for ident in idents:
        if fn is not None:
            fn(ident, value)
        else:
            engine.library.set_rating(ident, value)


def train(engine, job) -> dict:
    fn = _method(engine, "train_taste")
    _call(fn, progress=job.progress, cancel=job.cancel)
    return status(engine)


def status(engine) -> dict:
    fn = getattr(engine, "taste_status", None)
    return _plain(fn()) if fn is not None else {}


def predictions(engine) -> dict:
    """{track_id: probability} for the library, from the current model."""
    fn = _method(engine, "predict_like")
    out = fn()
    if isinstance(out, dict):
        return {k: (None if v is None else float(v)) for k, v in out.items()}
    return {t["id"]: t.get("predicted_like") for t in load_tracks(engine)}


def explain(engine) -> str | dict:
    fn = _method(engine, "explain_taste")
    out = fn()
    return out if isinstance(out, str) else _plain(out)


# --- albums ---------------------------------------------------------------------------------
def _thresholds(values: dict | None):
    from musicrec_engine.albums.scoring import Thresholds

    return Thresholds(**(values or {}))


def _report(out) -> dict:
    """Album answers as {"albums": [...], "errors": [...], "cancelled": bool}."""
    if isinstance(out, dict):
        return {"albums": [_plain(a) for a in out.get("albums", [])], "errors": list(out.get("errors") or []),
                "cancelled": bool(out.get("cancelled")), "musicbrainz": out.get("musicbrainz")}
    return {"albums": [_plain(a) for a in out], "errors": [], "cancelled": False}


def albums(engine, source: str = "all", thresholds: dict | None = None) -> dict:
    fn = _method(engine, "albums")
    return _report(_call(fn, source=source, thresholds=_thresholds(thresholds)))


def search_albums(engine, job, artist=None, tag=None, years=None, thresholds: dict | None = None) -> dict:
    fn = _method(engine, "search_albums")
    return _report(_call(fn, artist=artist or None, tag=tag or None, years=years, thresholds=_thresholds(thresholds),
                         progress=job.progress, cancel=job.cancel))


def import_catalog(engine, job, csv_path: str, name: str | None = None):
    name = name or Path(csv_path).stem
    fn = getattr(engine, "import_catalog", None)
    if fn is None:
        from musicrec_engine.library import catalogs

        return catalogs.import_csv(engine.library, csv_path, name, progress=job.progress, cancel=job.cancel)
    return _call(fn, csv_path, name=name, progress=job.progress, cancel=job.cancel)


# --- demo -----------------------------------------------------------------------------------
def make_demo(engine, job, jobs: int | None = None) -> None:
    """Generate the demo library's tracks in the data folder, then analyse them like any files."""
    from musicrec_engine.library import demo

    job.progress(0, 0, "Generating the demo library…")
    paths = demo.write_tracks(engine.paths.data / demo.DEMO_FOLDER)
    if not job.cancel.is_set():
        analyze(engine, [str(p) for p in paths], job, jobs=jobs)
