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
def analyze(engine, paths: list[str], job, jobs: int | None = None):
    """Analyse `paths` (files or folders); emit one item per file:
    {"path", "status", "error", "track"} where track is the library row for ok files."""
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
        from musicrec_engine.similarity import Query

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
    from musicrec_engine.albums import Thresholds

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
        from musicrec_engine import catalogs

        return catalogs.import_csv(engine.library, csv_path, name, progress=job.progress, cancel=job.cancel)
    return _call(fn, csv_path, name=name, progress=job.progress, cancel=job.cancel)


# --- demo -----------------------------------------------------------------------------------
def make_demo(engine, job) -> list[dict]:
    fn = _method(engine, "make_demo_library")
    items = []
    for result in _call(fn, progress=job.progress, cancel=job.cancel):
        item = {"path": str(result.path), "status": result.status, "error": result.error, "track": None}
        if result.status == "ok":
            item["track"] = track(engine, item["path"])
        job.item(item)
        items.append(item)
    return items
