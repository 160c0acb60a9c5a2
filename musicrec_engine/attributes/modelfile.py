"""What a saved attribute model is, shared by the code that writes models (training) and the code
that uses them (learned): the format number, the manifest beside each model file, checksums, the
feature-schema hash of the inputs, and the values a group of the model gives per row.

A model is NAME.joblib with NAME.manifest.json beside it (format, input pipeline + schema hash,
rows, held-out metrics, the model file's SHA-256), plus NAME.compiled.npz when it compiles
(attributes/compiled.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

FORMAT = 1
KIND = "musicrec-attributes"
USER_MODEL = "attributes"  # models/attributes.* in the data folder
PIPELINES = ("mfcc", "stats")  # the inputs of user-trained models, in this order


def manifest_path(model_path: Path) -> Path:
    """NAME.manifest.json beside NAME.joblib."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(".joblib") + ".manifest.json")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def combined_schema_hash(hashes: dict) -> str:
    """One hash for the concatenated PIPELINES vectors, from each pipeline's schema hash."""
    return "feat-" + hashlib.sha256("|".join(f"{p}:{hashes.get(p)}" for p in PIPELINES).encode()).hexdigest()[:16]


def group_values(group: dict, X: np.ndarray) -> dict[str, np.ndarray]:
    """target -> value per row of a fitted group: regression output, P(class 1) for binary 0..1
    attributes, or a class. Same numbers as sklearn's predict, a fraction of the time per row."""
    out = {}
    model = group["model"]
    stacks = list(model.estimators_) if type(model).__name__ == "MultiOutputRegressor" else [model]
    for target, st in zip(group["targets"], stacks, strict=True):
        y = fast_output(st, X)
        if group["kind"] == "regression":
            out[target] = np.asarray(y).reshape(len(X))
        elif group["output"].get(target) == "proba" and 1 in st.classes_:
            out[target] = y[:, list(st.classes_).index(1)]
        else:
            out[target] = np.asarray(st.classes_)[np.argmax(y, axis=1)]
    return out


# ------------------------------------------------------------------------------------------------
# Fast prediction for one track at a time. sklearn's own path costs ~35 ms per stack for a single
# row, mostly per-call input validation and a Python loop over up to 300 trees with joblib in
# between. This path computes exactly the same numbers: each pipeline's scaler + PCA once (shared
# when identical, as they are when fitted on the same rows), each forest's trees through their
# compiled `tree_.predict`, and the meta-model on the same meta-features sklearn would build
# (binary predict_proba keeps only the positive column, as in _concatenate_predictions).
# tests/test_learned.py checks it against sklearn's predictions. Models that compile to numpy
# arrays (attributes/compiled.py, the shipped one among them) are predicted there instead; this
# path serves the rest and checks the compiled copy when a model is saved.


def _forest_output(forest, Z: np.ndarray, method: str) -> np.ndarray:
    Z32 = np.ascontiguousarray(Z, dtype=np.float32)
    acc = None
    for t in forest.estimators_:
        v = t.tree_.predict(Z32).reshape(len(Z32), -1)  # single output: (rows, classes) or (rows, 1)
        if method == "predict_proba":
            v = v[:, : forest.n_classes_]
            s = v.sum(axis=1, keepdims=True)
            v = v / np.where(s == 0, 1, s)
        else:
            v = v[:, 0]
        acc = v if acc is None else acc + v
    return acc / len(forest.estimators_)


def _xgb_output(model, Z: np.ndarray, method: str) -> np.ndarray:
    """The booster's in-place prediction: what XGB*.predict/predict_proba return, without the wrapper."""
    raw = np.asarray(model.get_booster().inplace_predict(np.ascontiguousarray(Z, dtype=np.float32)))
    if method != "predict_proba":
        return raw
    if raw.ndim == 1:  # binary:logistic gives P(class 1)
        return np.column_stack([1 - raw, raw])
    return raw


def _linear_output(model, Z: np.ndarray, method: str) -> np.ndarray | None:
    """Linear models' outputs computed directly (regressors, and binary classifiers); None otherwise."""
    from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge, RidgeClassifier

    if isinstance(model, Ridge | Lasso | ElasticNet) and method == "predict" and np.ndim(model.coef_) == 1:
        return Z @ model.coef_ + model.intercept_
    if isinstance(model, LogisticRegression | RidgeClassifier) and len(model.classes_) == 2:
        dec = Z @ np.atleast_2d(model.coef_)[0] + np.ravel(model.intercept_)[0]
        if method == "decision_function":
            return dec
        if method == "predict_proba" and isinstance(model, LogisticRegression):
            p1 = 1.0 / (1.0 + np.exp(-dec))
            return np.column_stack([1 - p1, p1])
    return None


def _shared_transform(pipe, X: np.ndarray, cache: list) -> np.ndarray:
    scaler, pca = pipe.named_steps["scale"], pipe.named_steps["pca"]
    for (s, p), Z in cache:
        if (s is scaler or (np.array_equal(s.mean_, scaler.mean_) and np.array_equal(s.scale_, scaler.scale_))) and \
                (p is pca or (p.components_.shape == pca.components_.shape and np.array_equal(p.components_, pca.components_)
                              and np.array_equal(p.mean_, pca.mean_))):
            return Z
    # StandardScaler then PCA (whiten=False), written out: the estimators' input checks cost more
    # than the arithmetic for one row.
    Z = ((X - scaler.mean_) / scaler.scale_ - pca.mean_) @ pca.components_.T
    cache.append(((scaler, pca), Z))
    return Z


def fast_output(st, X: np.ndarray) -> np.ndarray:
    """A fitted Stacking* estimator's predict (regressor) or predict_proba (classifier) output."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.ensemble._stacking import StackingClassifier
    from xgboost import XGBModel

    cache: list = []
    metas = []
    is_clf = isinstance(st, StackingClassifier)
    for pipe, method in zip(st.estimators_, st.stack_method_, strict=True):
        Z = _shared_transform(pipe, X, cache)
        model = pipe.named_steps["model"]
        if isinstance(model, RandomForestClassifier | RandomForestRegressor):
            p = _forest_output(model, Z, method)
        elif isinstance(model, XGBModel):
            p = _xgb_output(model, Z, method)
        elif (lin := _linear_output(model, Z, method)) is not None:
            p = lin
        else:
            p = getattr(model, method)(Z)
        p = np.asarray(p)
        if p.ndim == 1:
            p = p.reshape(-1, 1)
        elif is_clf and method == "predict_proba" and len(st.classes_) == 2:
            p = p[:, 1:]
        metas.append(p)
    meta = np.hstack(metas)
    final = st.final_estimator_
    lin = _linear_output(final, meta, "predict_proba" if is_clf else "predict")
    if lin is not None:
        return lin
    return final.predict_proba(meta) if is_clf else final.predict(meta)
