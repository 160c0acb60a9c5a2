"""Writing a trained model: the ONNX file and its manifest (attributes/modelfile.py describes both,
learned.py reads them), each written atomically, the manifest last."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import modelfile
from musicrec_engine.attributes.training import onnx_export
from musicrec_engine.errors import MusicRecError


class ModelNotSaved(MusicRecError):
    """A trained model that has no faithful ONNX form: nothing is saved, the last good model stays."""


@dataclass
class TrainResult:
    groups: list  # fitted groups: name, kind, targets, output (value | proba), model (a fitted estimator)
    manifest: dict
    report_rows: list = field(default_factory=list)
    report_files: list = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Saving


def save_model(result: TrainResult, folder: Path, name: str) -> Path:
    """Write NAME.onnx and NAME.manifest.json (modelfile.py), each atomically, the manifest last, so
    a half-written model never loads. The ONNX graph must give the fitted models' values on rows
    around the training data, or nothing is written and ModelNotSaved says why. A pickled model
    of the same name left by an earlier version is removed once its replacement is saved."""
    folder = Path(folder)
    n_features = int(result.manifest["input"]["n_features"])
    try:
        data, described = onnx_export.convert(result.groups, n_features)
        onnx_export.check(result.groups, data, described, onnx_export.check_rows(result.groups, n_features))
    except onnx_export.NotConvertible as e:
        raise ModelNotSaved(f"the trained model was not saved: {e}") from None
    folder.mkdir(parents=True, exist_ok=True)
    path = modelfile.model_path(folder, name)
    manifest = dict(result.manifest, format=modelfile.FORMAT, kind=modelfile.KIND, file=path.name,
                    sha256=modelfile.bytes_sha256(data), groups=described)
    tmp = folder / f".{path.name}.tmp"
    tmp.write_bytes(data)
    mtmp = folder / f".{name}.manifest.json.tmp"
    mtmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, path)
    os.replace(mtmp, modelfile.manifest_path(path))
    for old in (f"{name}.joblib", f"{name}.compiled.npz"):
        (folder / old).unlink(missing_ok=True)
    return path


def versions() -> dict:
    import onnx
    import onnxruntime
    import skl2onnx
    import sklearn
    import xgboost

    return {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__,
            "onnx": onnx.__version__, "skl2onnx": skl2onnx.__version__, "onnxruntime": onnxruntime.__version__}
