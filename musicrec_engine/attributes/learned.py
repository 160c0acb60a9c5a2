"""Learned attributes: predictions of trained stacking models, with provenance "learned".

Two sources, the user's own model first:
  DATA/models/attributes.onnx (+ .manifest.json)   written by `musicrec attributes train`
  resources/models/default_attributes.onnx          shipped: speechiness, acousticness,
                                                     liveness, instrumentalness (tools/trainset.py)
A model is used only if its manifest says it was written by this program (kind, format, the
SHA-256 of the ONNX file) and its feature-schema hash equals the current one; otherwise it is
refused with a sentence (see `status()`), and the attribute falls back to the next source.
Models run in onnxruntime (modelfile.py describes the files). Nothing is ever unpickled: a pickle
in the data folder (attributes.joblib from an earlier version, or any *.pkl put there) could run
any code when loaded, so it is refused with a sentence and never opened.
Each prediction's confidence, and the sentence saying what it rests on (`basis`), come from the
manifest's held-out metrics for that attribute. For the shipped model that is generated audio
only (training/heldout.py), and the basis says so.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import Attribute, modelfile
from musicrec_engine.paths import SHIPPED_MODELS

log = logging.getLogger("musicrec.attributes.learned")
DEFAULT_DIR = SHIPPED_MODELS
DEFAULT_NAME = "default_attributes"
_UNIT = {"energy", "valence", "danceability", "acousticness", "instrumentalness", "liveness", "speechiness"}
_lock = threading.Lock()
_cache: dict = {}
_pickles_told: set = set()


class ModelRefused(Exception):
    """A model file that will not be used, with the sentence saying why."""


@dataclass
class LoadedModel:
    path: Path
    manifest: dict
    session: object  # onnxruntime.InferenceSession

    def groups(self) -> list[dict]:
        return self.manifest["groups"]

    def outputs(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Every group's ONNX output for the float32 rows X, by output name."""
        names = [g["onnx_output"] for g in self.groups()]
        return dict(zip(names, self.session.run(names, {"input": np.asarray(X, np.float32)}), strict=True))

    @property
    def pipeline(self) -> str:
        return self.manifest["input"]["pipeline"]

    @property
    def schema_hash(self) -> str:
        return self.manifest["input"]["schema_hash"]


def session_for(model: bytes):
    """An onnxruntime session for a serialised model."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    # One row per call, and the analysis already runs one process per core: a thread pool per
    # session would only compete with them.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only: its warnings are about graph optimisation, not the user
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def forget_loaded() -> None:
    """Drop the loaded models, so a model written since is read again."""
    with _lock:
        _cache.clear()


def _models_dir(models_dir: Path | None) -> Path:
    if models_dir is None:
        from musicrec_engine import paths

        models_dir = paths.resolve().models
    return Path(models_dir)


def user_model_path(models_dir: Path | None = None) -> Path:
    return modelfile.model_path(_models_dir(models_dir), modelfile.USER_MODEL)


def default_model_path() -> Path:
    return modelfile.model_path(DEFAULT_DIR, DEFAULT_NAME)


def pickles(models_dir: Path | None = None) -> list[Path]:
    """Pickled model files in the data folder's models folder: each is refused, never opened."""
    folder = _models_dir(models_dir)
    try:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in modelfile.PICKLE_SUFFIXES and p.is_file())
    except OSError:
        return []


def pickle_refusal(path: Path) -> str:
    return (f"{path.name} is a pickle, which can run any code when it is loaded, so it is never loaded; "
            "train again with `musicrec attributes train` (models are saved as ONNX now)")


def current_schema_hash(pipeline: str, schema_hash: dict | None = None) -> str | None:
    """The schema hash that current features of `pipeline` carry, or None when unknown."""
    if pipeline == "descriptors":
        from musicrec_engine.attributes import estimated

        return estimated.descriptor_schema_hash()
    if schema_hash and all(p in schema_hash for p in pipeline.split("+")):
        return modelfile.combined_schema_hash(schema_hash)
    return None


def load(path: Path, expected_schema: str | None = None) -> LoadedModel:
    """Load a model written by this program; raises ModelRefused with a reason otherwise."""
    path = Path(path)
    if path.suffix.lower() in modelfile.PICKLE_SUFFIXES:
        raise ModelRefused(pickle_refusal(path))
    mpath = modelfile.manifest_path(path)
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError:
        raise ModelRefused(f"{path.name} has no manifest ({mpath.name}), so it is not loaded") from None
    except (OSError, ValueError) as e:
        raise ModelRefused(f"the manifest {mpath.name} is unreadable ({e}), so {path.name} is not loaded") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != modelfile.KIND \
            or manifest.get("format") != modelfile.FORMAT:
        fmt = manifest.get("format") if isinstance(manifest, dict) else None
        raise ModelRefused(f"{path.name} is not an attribute model of this version (format {fmt})")
    if expected_schema is not None and manifest.get("input", {}).get("schema_hash") != expected_schema:
        raise ModelRefused(f"{path.name} was trained on features with schema {manifest.get('input', {}).get('schema_hash')}"
                           f" but current features have schema {expected_schema}; retrain it with "
                           "`musicrec attributes train`")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelRefused(f"{path.name} could not be read ({type(e).__name__}: {e})") from None
    # The checksum of the bytes that are loaded, not of the file at some other moment.
    if modelfile.bytes_sha256(data) != manifest.get("sha256"):
        raise ModelRefused(f"{path.name} does not match the checksum in its manifest (changed since it was "
                           "written), so it is not loaded")
    try:
        session = session_for(data)
        outputs = {o.name for o in session.get_outputs()}
        missing = [g["onnx_output"] for g in manifest["groups"] if g["onnx_output"] not in outputs]
    except Exception as e:  # a model onnxruntime cannot run is a refusal, not a crash of the analysis
        raise ModelRefused(f"{path.name} could not be loaded ({type(e).__name__}: {e})") from None
    if missing:
        raise ModelRefused(f"{path.name} lacks the output(s) {', '.join(missing)} that its manifest names")
    return LoadedModel(path, manifest, session)


def _cached(path: Path, expected_schema: str | None) -> LoadedModel | None:
    """Loads once per file version; a refusal is logged once and remembered."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_mtime_ns, st.st_size, expected_schema)
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
        return json.loads(modelfile.manifest_path(path).read_text())["input"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _tell_pickles(models_dir: Path | None) -> None:
    """Log each refused pickle once per process (the analysis asks for the models on every file)."""
    for p in pickles(models_dir):
        if p not in _pickles_told:
            _pickles_told.add(p)
            log.warning("%s", pickle_refusal(p))


def active_models(schema_hash: dict | None = None, models_dir: Path | None = None) -> list[LoadedModel]:
    """The usable models, user's first."""
    _tell_pickles(models_dir)
    out = []
    for path in (user_model_path(models_dir), default_model_path()):
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
    out = [{"path": str(p), "used": False, "reason": pickle_refusal(p)} for p in pickles(models_dir)]
    for path in (user_model_path(models_dir), default_model_path()):
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


def _source_and_basis(manifest: dict, name: str) -> tuple[str, str]:
    """Which model gave a value and what its confidence rests on, in words: the manifest's own
    sentence (training writes one per attribute), else its protocol for models written before."""
    source = manifest.get("source") or ("your trained model" if manifest.get("name") == "user" else "trained model")
    m = manifest.get("metrics", {}).get("attributes", {}).get(name, {})
    basis = m.get("basis") or f"held-out rows of its training data ({manifest.get('protocol', 'protocol not recorded')})"
    return source, basis


def _to_attribute(name: str, v: float, conf: float, source: str | None = None, basis: str | None = None) -> Attribute:
    if name in _UNIT:
        v = float(np.clip(v, 0.0, 1.0))
    elif name == "loudness":
        v = float(np.clip(v, -60.0, 0.0))
    elif name in ("key", "mode", "tempo_bin"):
        v = int(round(v))
    return Attribute(v, "learned", float(conf), source=source, basis=basis)


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
        try:
            outputs = model.outputs(x)
        except Exception as e:  # a model that fails leaves its attributes to the next source
            log.warning("model %s failed: %s", model.path.name, e)
            continue
        for group in model.groups():
            try:
                values = modelfile.group_values(group, outputs[group["onnx_output"]])
            except Exception as e:  # one broken group must not cost the other attributes
                log.warning("model %s, group %s failed: %s", model.path.name, group["name"], e)
                continue
            for t, v in values.items():
                if t == "tempo_bin" or t in out:
                    continue
                out[t] = _to_attribute(t, float(v[0]), metrics.get(t, {}).get("confidence", 0.0),
                                       *_source_and_basis(model.manifest, t))
    return out
