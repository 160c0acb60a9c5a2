"""Training learned-attribute models: the two jobs, the shipped default model from generated clips
(train_default) and the user's model from a label file (train_from_labels).

Their parts: labels.py reads and checks label files, matching.py finds the labelled tracks and
their features, fitting.py fits the stacking groups and scores them on held-out rows, saving.py
writes the ONNX file and its manifest. The files written and their manifest are described in attributes/modelfile.py, which learned.py
reads. The caller hands in how to analyse a file and the open library (the engine facade does),
so this module sits beside the analysis and library layers rather than above them.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import modelfile
from musicrec_engine.attributes.training import onnx_export
from musicrec_engine.attributes.training.fitting import (
    DEFAULT_BUDGET,
    MIN_ROWS,
    TEST_SHARE,
    fit_and_score,
)
from musicrec_engine.attributes.training.labels import LabelError, Labels, read_labels
from musicrec_engine.attributes.training.matching import collect_features
from musicrec_engine.attributes.training.saving import ModelNotSaved, TrainResult, save_model, versions
from musicrec_engine.attributes.training.stacking import CLASSIFICATION_GROUPS, REGRESSION_GROUPS, GroupSpec

# The training job's parts live in the modules named for them; these names stay importable from
# here, where the engine, the benchmarks and the tests have always found them.
__all__ = ["DEFAULT_BUDGET", "LabelError", "Labels", "ModelNotSaved", "TrainResult", "collect_features",
           "fit_and_score", "read_labels", "save_model", "train_default", "train_from_labels", "train_user"]


def _set_name(data) -> str:
    """How a clip set was made, from its npz fields (older sets lack the pool and SoundFont)."""
    pool, sf = str(data.get("pool", "train")), str(data.get("soundfont", "fluidr3"))
    return f"seed {int(data['seed'])} of the {pool} pools, {sf} SoundFont"


def train_default(train, unseen, seen=None, budget: int = DEFAULT_BUDGET, report_dir=None, progress=None,
                  jobs: int | None = None) -> TrainResult:
    """The shipped model from trainset clips (npz from benchmarks/train_default_attributes.py):
    fitted on `train`, scored on `unseen` (the held-out pools and SoundFont: heldout.py), whose
    figures become the manifest's metrics and the values' confidence and basis, and on `seen` (a
    new seed of the training pools) when given, reported beside them."""
    from sklearn.metrics import r2_score

    from musicrec_engine.attributes import estimated
    from musicrec_engine.attributes.training import heldout, stacking

    t0 = time.time()
    specs = [GroupSpec("speech", "regression", ["speechiness"]),
             GroupSpec("acoustic", "classification", ["acousticness"]),
             GroupSpec("live", "classification", ["liveness"]),
             GroupSpec("vocal", "classification", ["instrumentalness"])]
    Y_tr = {t: np.asarray(train[t], float) for s in specs for t in s.targets}
    Y_te = {t: np.asarray(unseen[t], float) for s in specs for t in s.targets}
    groups, metrics, report = fit_and_score(specs, train["X"], Y_tr, unseen["X"], Y_te, budget, progress=progress,
                                            jobs=jobs)
    for g in groups:
        if g["kind"] == "classification":
            g["output"] = {t: "proba" for t in g["targets"]}
    by = {g["targets"][0]: g for g in groups}
    # The figures asked for are detection AUCs: speech present vs absent for speechiness, and the
    # three binary facts for the others (instrumentalness: voice or speech present vs absent).
    sets = {"unseen": unseen, **({"seen": seen} if seen is not None else {})}
    figures: dict = {name: {} for name in sets}
    for name, data in sets.items():
        for target, (truth, _task) in heldout.TASKS.items():
            score = onnx_export.fitted_values(by[target], data["X"])[target]
            figures[name][target] = heldout.detection(target, data[truth], score)
            if target == "speechiness":
                figures[name][target]["r2"] = round(float(r2_score(np.asarray(data[target], float), score)), 4)
    for target, m in figures["unseen"].items():
        m = dict(m, group=by[target]["name"], heldout="unseen generator")
        m["confidence"], m["basis"] = heldout.confidence(m), heldout.basis(m)
        metrics["attributes"][target] = m
    if "seen" in figures:
        metrics["seen_generator"] = figures["seen"]
    files = stacking.write_report(report, report_dir) if report_dir else []
    manifest = {
        "format": modelfile.FORMAT, "kind": modelfile.KIND, "name": "default",
        "description": "Default model trained on generated clips with exact ground truth (tools/trainset.py)",
        "source": "trained on generated audio only",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {"pipeline": "descriptors", "schema_hash": estimated.descriptor_schema_hash(),
                  "n_features": int(train["X"].shape[1]), "names": estimated.descriptor_names()},
        "rows": {"train": int(len(train["X"])), "test": int(len(unseen["X"])),
                 **({"seen_test": int(len(seen["X"]))} if seen is not None else {})},
        "protocol": (f"trained on {_set_name(train)}; held-out unseen generator: {_set_name(unseen)}"
                     + (f"; held-out seen generator: {_set_name(seen)}" if seen is not None else "")),
        "confidence_rule": (f"{heldout.CONFIDENCE_CAP} x the unseen-generator AUC's lower 95% bound rescaled "
                            "(0.5 -> 0, 1 -> 1): generated audio only, never checked on real recordings"),
        "budget": budget, "attributes": sorted(metrics["attributes"]), "metrics": metrics,
        "training_seconds": round(time.time() - t0, 1), "versions": versions(),
    }
    return TrainResult(groups, manifest, report, files)


def train_user(labels: Labels, X: np.ndarray, rows: list[dict], schema_hash: str, budget: int, seed: int = 0,
               report_dir=None, progress=None, cancel=None, jobs: int | None = None) -> TrainResult:
    """Seed 000's groups on the user's labels: 80/20 split, stacks per group, held-out metrics."""
    from musicrec_engine.attributes.training import stacking

    t0 = time.time()
    if len(rows) < MIN_ROWS / (1 - TEST_SHARE):
        raise LabelError(f"only {len(rows)} labelled tracks could be used; at least "
                         f"{math.ceil(MIN_ROWS / (1 - TEST_SHARE))} are needed to train and keep a held-out fifth")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    n_te = max(5, int(round(TEST_SHARE * len(rows))))
    te, tr = order[:n_te], order[n_te:]
    Y = {t: np.array([r["values"].get(t, math.nan) for r in rows], float)
         for t in labels.attributes + (["tempo_bin"] if "tempo" in labels.attributes else [])}
    specs = []
    for name, targets in REGRESSION_GROUPS.items():
        have = [t for t in targets if t in Y]
        if have:
            specs.append(GroupSpec(name, "regression", have))
    for name, targets in CLASSIFICATION_GROUPS.items():
        if targets[0] in Y:
            specs.append(GroupSpec(name, "classification", targets))
    groups, metrics, report = fit_and_score(specs, X[tr], {t: v[tr] for t, v in Y.items()}, X[te],
                                            {t: v[te] for t, v in Y.items()}, budget, seed, progress, cancel, jobs)
    if not groups:
        raise LabelError("no attribute group had enough labelled rows to train (need "
                         f"{MIN_ROWS} training rows with every value of the group)")
    for m in metrics["attributes"].values():
        shown = ", ".join(f"{k.upper() if k in ('auc', 'r2') else k} {m[k]:.2f}" for k in ("auc", "r2", "accuracy")
                          if k in m)
        m["basis"] = f"your labels: {shown} on the {m['rows']} labelled tracks held out of training"
    files = stacking.write_report(report, report_dir) if report_dir else []
    manifest = {
        "format": modelfile.FORMAT, "kind": modelfile.KIND, "name": "user",
        "source": "your trained model",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {"pipeline": "+".join(modelfile.PIPELINES), "schema_hash": schema_hash, "n_features": int(X.shape[1])},
        "rows": {"train": int(len(tr)), "test": int(len(te))},
        "protocol": f"random {int(TEST_SHARE * 100)}% of the matched rows held out (seed {seed}), never used in fitting",
        "budget": budget, "attributes": sorted(metrics["attributes"]), "metrics": metrics,
        "training_seconds": round(time.time() - t0, 1), "versions": versions(),
    }
    return TrainResult(groups, manifest, report, files)


def train_from_labels(labels_path: Path, models_dir: Path, analyse, library=None, audio_dir: Path | None = None,
                      budget: int = DEFAULT_BUDGET, report_dir: Path | None = None, progress=None, cancel=None,
                      warn=None) -> tuple[TrainResult, Path, list[str]]:
    """The whole `attributes train` job: read and check the labels, match and featurise the tracks,
    train, and save the model only when training succeeded. Returns (result, model path, warnings).
    `analyse` and `library` as in collect_features; `library` is None when there is no analysed
    library yet."""
    labels_path = Path(labels_path)
    labels = read_labels(labels_path)
    warnings = list(labels.warnings)
    for w in labels.warnings:
        if warn:
            warn(w)
    if audio_dir is None and labels.by == "tags" and library is None:
        raise LabelError("the labels name tracks by artist and title, but there is no analysed library yet: "
                         "analyse your music first, or pass --audio DIR")
    X, rows, schema, more = collect_features(labels, audio_dir, labels_path.parent, analyse,
                                             library if audio_dir is None else None, progress, cancel)
    for w in more:
        if warn:
            warn(w)
    warnings += more
    if warn:
        warn(f"training on {len(rows)} tracks, {X.shape[1]} features, budget {budget}")
    result = train_user(labels, X, rows, schema, budget, report_dir=report_dir, progress=progress, cancel=cancel)
    path = save_model(result, models_dir, modelfile.USER_MODEL)
    return result, path, warnings
