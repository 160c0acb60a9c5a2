"""What a saved attribute model is, shared by the code that writes models (training) and the code
that uses them (learned): the format number, the files, checksums, the feature-schema hash of the
inputs, and the values a group of the model gives per row.

A model is two files side by side, neither of them a pickle:
  NAME.onnx           the fitted groups as one ONNX graph (training/onnx_export.py), input "input"
                      (float32, rows x n_features), one output per group
  NAME.manifest.json  kind, format, the SHA-256 of NAME.onnx, input pipeline + schema hash and
                      width, rows, held-out metrics, and "groups": per group its name, kind
                      (regression | classification), targets, output per target (value | proba),
                      classes, and the name of its ONNX output
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from musicrec_engine.features import PIPELINES  # the inputs of user-trained models, in this order

FORMAT = 2  # 1 was a joblib pickle, never loaded since
KIND = "musicrec-attributes"
USER_MODEL = "attributes"  # models/attributes.onnx in the data folder
SUFFIX = ".onnx"
# Files that unpickle when loaded: one found in the data folder is refused, never opened.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


def model_path(folder: Path, name: str) -> Path:
    return Path(folder) / f"{name}{SUFFIX}"


def manifest_path(path: Path) -> Path:
    """NAME.manifest.json beside NAME.onnx (or beside NAME.joblib, the old pickled models)."""
    path = Path(path)
    return path.with_name(path.stem + ".manifest.json")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def combined_schema_hash(hashes: dict) -> str:
    """One hash for the concatenated PIPELINES vectors, from each pipeline's schema hash."""
    return "feat-" + hashlib.sha256("|".join(f"{p}:{hashes.get(p)}" for p in PIPELINES).encode()).hexdigest()[:16]


def group_values(group: dict, output: np.ndarray) -> dict[str, np.ndarray]:
    """target -> value per row from the group's ONNX output (`group` as the manifest describes it):
    the regression value, P(class 1) for a 0..1 attribute given as "proba", else the likeliest class."""
    output = np.asarray(output)
    if group["kind"] == "regression":
        output = output.reshape(len(output), -1)
        return {t: output[:, i] for i, t in enumerate(group["targets"])}
    (target,) = group["targets"]
    classes = list(group["classes"])
    if group["output"].get(target) == "proba" and 1 in classes:
        return {target: output[:, classes.index(1)]}
    return {target: np.asarray(classes)[np.argmax(output, axis=1)]}
