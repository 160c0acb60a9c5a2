"""Learned attributes: predictions of trained stacking models, with provenance "learned".

Two sources, the user's own model first:
  DATA/models/attributes.joblib (+ .manifest.json)   written by `musicrec attributes train`
  resources/models/default_attributes.joblib          shipped: speechiness, acousticness,
                                                       liveness, instrumentalness (trainset.py)
A model is used only if its manifest says it was written by this program (kind, format, the
SHA-256 of the joblib file) and its feature-schema hash equals the current one; otherwise it is
refused with a sentence (see `status()`), and the attribute falls back to the next source.
When NAME.compiled.npz sits next to the joblib file and the manifest records its SHA-256, the model
is read from those arrays (attributes/compiled.py): unpickling the joblib file would import sklearn,
XGBoost, pandas and scipy.stats, seconds of every cold start.
Each prediction's confidence comes from the manifest's held-out metrics for that attribute.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import Attribute
from musicrec_engine.attributes import compiled as npmodel
from musicrec_engine.attributes.modelfile import (
    FORMAT,
    KIND,
    USER_MODEL,
    combined_schema_hash,
    file_sha256,
    group_values,
    manifest_path,
)
from musicrec_engine.paths import SHIPPED_MODELS

log = logging.getLogger("musicrec.attributes.learned")
DEFAULT_DIR = SHIPPED_MODELS
DEFAULT_NAME = "default_attributes"
_UNIT = {"energy", "valence", "danceability", "acousticness", "instrumentalness", "liveness", "speechiness"}
_lock = threading.Lock()
_cache: dict = {}


class ModelRefused(Exception):
    """A model file that will not be used, with the sentence saying why."""


@dataclass
class LoadedModel:
    path: Path
    manifest: dict
    compiled: dict | None = None  # the arrays of NAME.compiled.npz, when the model has them
    _bundle: dict | None = None

    @property
    def bundle(self) -> dict:
        """The joblib bundle; a compiled model unpickles it (importing sklearn) only when asked."""
        if self._bundle is None:
            self._bundle = _read_joblib(self.path, self.manifest)
        return self._bundle

    def groups(self) -> list[dict]:
        return npmodel.groups(self.compiled) if self.compiled is not None else self.bundle["groups"]

    def group_values(self, group: dict, X: np.ndarray) -> dict[str, np.ndarray]:
        if self.compiled is not None:
            return npmodel.predict_group(self.compiled, group, X)
        return group_values(group, X)

    @property
    def pipeline(self) -> str:
        return self.manifest["input"]["pipeline"]

    @property
    def schema_hash(self) -> str:
        return self.manifest["input"]["schema_hash"]


def forget_loaded() -> None:
    """Drop the loaded models, so a model written since is read again."""
    with _lock:
        _cache.clear()


def user_model_path(models_dir: Path | None = None) -> Path:
    if models_dir is None:
        from musicrec_engine import paths

        models_dir = paths.resolve().models
    return Path(models_dir) / f"{USER_MODEL}.joblib"


def current_schema_hash(pipeline: str, schema_hash: dict | None = None) -> str | None:
    """The schema hash that current features of `pipeline` carry, or None when unknown."""
    if pipeline == "descriptors":
        from musicrec_engine.attributes import estimated

        return estimated.descriptor_schema_hash()
    if schema_hash and all(p in schema_hash for p in pipeline.split("+")):
        return combined_schema_hash(schema_hash)
    return None


def load(path: Path, expected_schema: str | None = None) -> LoadedModel:
    """Load a model written by this program; raises ModelRefused with a reason otherwise."""
    path = Path(path)
    mpath = manifest_path(path)
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError:
        raise ModelRefused(f"{path.name} has no manifest ({mpath.name}), so it is not loaded") from None
    except (OSError, ValueError) as e:
        raise ModelRefused(f"the manifest {mpath.name} is unreadable ({e}), so {path.name} is not loaded") from None
    if manifest.get("kind") != KIND or manifest.get("format") != FORMAT:
        raise ModelRefused(f"{path.name} is not an attribute model of this version (format {manifest.get('format')})")
    if expected_schema is not None and manifest.get("input", {}).get("schema_hash") != expected_schema:
        raise ModelRefused(f"{path.name} was trained on features with schema {manifest.get('input', {}).get('schema_hash')}"
                           f" but current features have schema {expected_schema}; retrain it with "
                           "`musicrec attributes train`")
    arrays = _read_compiled(path, manifest)
    if arrays is not None:
        return LoadedModel(path, manifest, compiled=arrays)
    return LoadedModel(path, manifest, _bundle=_read_joblib(path, manifest))


def _checked(path: Path, sha256: str | None) -> None:
    if file_sha256(path) != sha256:
        raise ModelRefused(f"{path.name} does not match the checksum in its manifest (changed since it was "
                           "written), so it is not loaded")


def _read_joblib(path: Path, manifest: dict) -> dict:
    try:
        _checked(path, manifest.get("sha256"))
        import joblib

        return joblib.load(path)
    except ModelRefused:
        raise
    except Exception as e:  # a corrupt file is a refusal, not a crash of the analysis
        raise ModelRefused(f"{path.name} could not be read ({type(e).__name__}: {e})") from None


def _read_compiled(path: Path, manifest: dict) -> dict | None:
    """The compiled arrays, or None when the manifest records none or they cannot be used (then the
    joblib file is). Both files must match their checksums: a changed file is refused as before."""
    entry = manifest.get("compiled")
    if not isinstance(entry, dict) or not entry.get("file"):
        return None
    cpath = path.with_name(Path(entry["file"]).name)
    if not cpath.is_file():
        log.info("%s has no %s; reading it through joblib", path.name, cpath.name)
        return None
    try:
        _checked(path, manifest.get("sha256"))
        _checked(cpath, entry.get("sha256"))
        return npmodel.load(cpath)
    except ModelRefused:
        raise
    except OSError as e:
        raise ModelRefused(f"{path.name} could not be read ({type(e).__name__}: {e})") from None
    except Exception as e:  # e.g. a compiled format this version does not know: the joblib file still works
        log.warning("%s could not be read (%s: %s); reading %s through joblib", cpath.name, type(e).__name__, e,
                    path.name)
        return None


def _cached(path: Path, expected_schema: str | None) -> LoadedModel | None:
    """Loads once per file version; a refusal is logged once and remembered."""
    try:
        st = path.stat()
    except OSError:
        return None
    try:
        cst = npmodel.path_for(path).stat()
        cversion = (cst.st_mtime_ns, cst.st_size)
    except OSError:
        cversion = None
    key = (str(path), st.st_mtime_ns, st.st_size, cversion, expected_schema)
    with _lock:
        if key not in _cache:
            try:
                _cache[key] = load(path, expected_schema)
            except ModelRefused as e:
                log.warning("%s", e)
                _cache[key] = e
        hit = _cache[key]
    return hit if isinstance(hit, LoadedModel) else None


def _manifest_input(path: Path) -> dict | None:
    try:
        return json.loads(manifest_path(path).read_text())["input"]
    except (OSError, ValueError, KeyError):
        return None


def active_models(schema_hash: dict | None = None, models_dir: Path | None = None) -> list[LoadedModel]:
    """The usable models, user's first."""
    out = []
    for path in (user_model_path(models_dir), DEFAULT_DIR / f"{DEFAULT_NAME}.joblib"):
        inp = _manifest_input(path)
        if inp is None:
            continue
        expected = current_schema_hash(inp.get("pipeline", ""), schema_hash)
        if expected is None:  # never use a model whose inputs cannot be checked against its schema
            continue
        m = _cached(path, expected)
        if m is not None:
            out.append(m)
    return out


def status(schema_hash: dict | None = None, models_dir: Path | None = None) -> list[dict]:
    """One entry per model file found: which attributes it gives, or why it is refused."""
    out = []
    for path in (user_model_path(models_dir), DEFAULT_DIR / f"{DEFAULT_NAME}.joblib"):
        if not path.exists():
            continue
        inp = _manifest_input(path) or {}
        expected = current_schema_hash(inp.get("pipeline", ""), schema_hash)
        try:
            m = load(path, expected)
            out.append({"path": str(path), "used": True, "attributes": m.manifest.get("attributes", []),
                        "created": m.manifest.get("created"), "rows": m.manifest.get("rows"),
                        "metrics": m.manifest.get("metrics", {}).get("attributes", {}),
                        "schema_checked": expected is not None})
        except ModelRefused as e:
            out.append({"path": str(path), "used": False, "reason": str(e)})
    return out


def _inputs(model: LoadedModel, features: dict) -> np.ndarray | None:
    parts = model.pipeline.split("+")
    if not all(features.get(p) is not None for p in parts):
        return None
    x = np.concatenate([np.asarray(features[p], np.float32).ravel() for p in parts])
    if x.size != model.manifest["input"].get("n_features", x.size) or not np.all(np.isfinite(x)):
        return None
    return x.reshape(1, -1)


def _to_attribute(name: str, v: float, conf: float) -> Attribute:
    if name in _UNIT:
        v = float(np.clip(v, 0.0, 1.0))
    elif name == "loudness":
        v = float(np.clip(v, -60.0, 0.0))
    elif name in ("key", "mode", "tempo_bin"):
        v = int(round(v))
    return Attribute(v, "learned", float(conf))


def predict(features: dict, schema_hash: dict | None = None, models_dir: Path | None = None) -> dict[str, Attribute]:
    """Attributes from the usable models for one track's features.

    `features` maps pipeline -> vector ("mfcc", "stats", and "descriptors" which compute_all
    adds); `schema_hash` maps pipeline -> hash of those vectors (a user model on mfcc+stats is only
    used when it is given and matches)."""
    out: dict[str, Attribute] = {}
    for model in active_models(schema_hash, models_dir):
        x = _inputs(model, features)
        if x is None:
            continue
        metrics = model.manifest.get("metrics", {}).get("attributes", {})
        for group in model.groups():
            if all(t in out for t in group["targets"]):
                continue
            try:
                values = model.group_values(group, x)
            except Exception as e:  # one broken group must not cost the other attributes
                log.warning("model %s, group %s failed: %s", model.path.name, group["name"], e)
                continue
            for t, v in values.items():
                if t == "tempo_bin" or t in out:
                    continue
                out[t] = _to_attribute(t, float(v[0]), metrics.get(t, {}).get("confidence", 0.0))
    return out
