"""Seed 000's hybrid stacking ensemble, one per task group.

Level 0: Random Forest, XGBoost, SVM, Ridge, Lasso and ElasticNet (their logistic counterparts for
classification), each inside StandardScaler -> PCA(50) -> model. PCA keeps at most 50 components,
fewer when the data has fewer features or the smallest training fold has fewer rows.
Level 1: out-of-fold (k-fold) predictions of the base models feed a Ridge (alpha=1, regression) or
a LogisticRegression (max_iter=5000, classification) meta-model: sklearn's Stacking* estimators.
Multi-target regression groups wrap the stack in MultiOutputRegressor (one stack per target).
Each base model's hyper-parameters are tuned first with scikit-optimize's BayesSearchCV (k-fold CV,
`budget` evaluations per base model; budget 0 keeps the defaults below).

Cost: the search spaces are kept to settings that fit in a few seconds on ~2,000 rows (forests of
at most 150 trees, boosting with histogram bins of 64 and at most 200 rounds of depth <= 5, loose
saga tolerance), and the CV fits of the search and of the stack run on `jobs` processes; see
docs/BENCHMARKS.md (learned and estimated attributes) for the measured training time.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

# Seed 000's task groups. Classification targets: key (12), mode (2), tempo bin (6).
REGRESSION_GROUPS = {
    "energy_mood": ["energy", "valence", "danceability"],
    "production": ["loudness", "acousticness", "instrumentalness", "liveness"],
    "structure": ["speechiness"],
}
CLASSIFICATION_GROUPS = {"key": ["key"], "mode": ["mode"], "tempo_bins": ["tempo_bin"]}
BASE_NAMES = ["rf", "xgb", "svm", "ridge", "lasso", "elasticnet"]
PCA_MAX = 50
MAX_JOBS = 4  # processes for CV fits; each holds a copy of the training rows and sklearn


def default_jobs() -> int:
    return max(1, min(MAX_JOBS, os.cpu_count() or 1))


@dataclass
class GroupSpec:
    name: str
    kind: str  # "regression" | "classification"
    targets: list[str]
    meta: dict = field(default_factory=dict)


def pca_components(n_rows: int, n_features: int, folds: int) -> int:
    """50, capped by the features and by the rows of the smallest nested training fold."""
    smallest_fold = int(n_rows * (1 - 1 / folds) * (1 - 1 / folds))
    return max(1, min(PCA_MAX, n_features, smallest_fold - 1))


def _pipe(model, n_comp: int, seed: int):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=n_comp, random_state=seed)),
                     ("model", model)])


def base_models(kind: str, n_comp: int, seed: int = 0) -> dict:
    """The six level-0 pipelines with sensible defaults (what budget 0 trains)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge, RidgeClassifier
    from sklearn.svm import SVC, SVR
    from xgboost import XGBClassifier, XGBRegressor

    if kind == "regression":
        models = {
            "rf": RandomForestRegressor(n_estimators=100, min_samples_leaf=2, max_features=0.3, n_jobs=1,
                                        random_state=seed),
            "xgb": XGBRegressor(n_estimators=150, max_depth=4, learning_rate=0.08, subsample=0.8, n_jobs=1,
                                tree_method="hist", max_bin=64, random_state=seed, verbosity=0),
            "svm": SVR(C=1.0, epsilon=0.05, gamma="scale"),
            "ridge": Ridge(alpha=1.0),
            "lasso": Lasso(alpha=0.01, max_iter=5000),
            "elasticnet": ElasticNet(alpha=0.01, l1_ratio=0.5, max_iter=5000),
        }
    else:
        models = {
            "rf": RandomForestClassifier(n_estimators=100, min_samples_leaf=2, max_features=0.3, n_jobs=1,
                                         random_state=seed),
            "xgb": XGBClassifier(n_estimators=150, max_depth=4, learning_rate=0.08, subsample=0.8, n_jobs=1,
                                 tree_method="hist", max_bin=64, random_state=seed, verbosity=0),
            "svm": SVC(C=1.0, gamma="scale", probability=True, random_state=seed),
            "ridge": RidgeClassifier(alpha=1.0),
            # tol 1e-3: saga's default 1e-4 cost 4-8x the time (12-class key) for no held-out difference.
            "lasso": LogisticRegression(l1_ratio=1.0, solver="saga", C=1.0, max_iter=2000, tol=1e-3),
            "elasticnet": LogisticRegression(l1_ratio=0.5, solver="saga", C=1.0, max_iter=2000, tol=1e-3),
        }
    return {name: _pipe(m, n_comp, seed) for name, m in models.items()}


def search_space(kind: str, name: str) -> dict:
    from skopt.space import Integer, Real

    reg = kind == "regression"
    spaces = {
        "rf": {"model__n_estimators": Integer(50, 150), "model__max_depth": Integer(4, 16),
               "model__min_samples_leaf": Integer(1, 10), "model__max_features": Real(0.1, 0.5)},
        "xgb": {"model__n_estimators": Integer(50, 200), "model__max_depth": Integer(2, 5),
                "model__learning_rate": Real(0.03, 0.3, prior="log-uniform"),
                "model__subsample": Real(0.6, 1.0)},
        "svm": {"model__C": Real(0.03, 30, prior="log-uniform"), "model__gamma": Real(1e-3, 0.3, prior="log-uniform")},
        "ridge": {"model__alpha": Real(1e-3, 1e3, prior="log-uniform")},
        "lasso": ({"model__alpha": Real(1e-4, 1, prior="log-uniform")} if reg
                  else {"model__C": Real(1e-3, 100, prior="log-uniform")}),
        "elasticnet": ({"model__alpha": Real(1e-4, 1, prior="log-uniform"), "model__l1_ratio": Real(0.05, 0.95)}
                       if reg else {"model__C": Real(1e-3, 100, prior="log-uniform"),
                                    "model__l1_ratio": Real(0.05, 0.95)}),
    }
    return spaces[name]


def _cv(kind: str, y, folds: int, seed: int):
    from sklearn.model_selection import KFold, StratifiedKFold

    if kind == "classification":
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() >= folds:
            return StratifiedKFold(folds, shuffle=True, random_state=seed)
    return KFold(folds, shuffle=True, random_state=seed)


def tune(pipe, kind: str, name: str, X, y, budget: int, folds: int = 3, seed: int = 0, jobs: int = 1):
    """BayesSearchCV over the base model's space; returns the pipeline with the best parameters."""
    if budget <= 0:
        return pipe
    from sklearn.base import clone
    from sklearn.multioutput import MultiOutputRegressor
    from skopt import BayesSearchCV

    est, space = pipe, search_space(kind, name)
    if np.ndim(y) == 2:  # tune one setting for all targets of the group: mean R2 over them
        est = MultiOutputRegressor(pipe)
        space = {f"estimator__{k}": v for k, v in space.items()}
    search = BayesSearchCV(est, space, n_iter=budget, cv=_cv(kind, y, folds, seed),
                           scoring="r2" if kind == "regression" else "f1_weighted", n_jobs=jobs,
                           # points asked together are fitted together: folds x points fits keep all
                           # processes busy (with the small budgets used here the first points are
                           # random draws anyway, so asking in pairs costs the search nothing)
                           random_state=seed, n_points=max(1, min(jobs, budget)), refit=False,
                           error_score=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    params = {k.removeprefix("estimator__"): v for k, v in search.best_params_.items()}
    return clone(pipe).set_params(**params)


def stack(kind: str, bases: dict, folds: int = 5, y=None, seed: int = 0, jobs: int = 1):
    from sklearn.ensemble import StackingClassifier, StackingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    estimators = list(bases.items())
    if kind == "regression":
        return StackingRegressor(estimators, final_estimator=Ridge(alpha=1.0), cv=folds, n_jobs=jobs)
    return StackingClassifier(estimators, final_estimator=LogisticRegression(max_iter=5000),
                              cv=_cv(kind, y, folds, seed), n_jobs=jobs)


def fit_group(spec: GroupSpec, X: np.ndarray, Y: np.ndarray, budget: int, folds: int = 5, seed: int = 0,
              progress=None, cancel=None, jobs: int | None = None):
    """Tune the six base models, then fit the stack (wrapped per target when the group has several).
    `jobs` processes share the CV fits (default: the CPU count, at most MAX_JOBS)."""
    from threadpoolctl import threadpool_limits

    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    # One BLAS/OpenMP thread per process: these fits are small, and threads fighting over a shared
    # machine made a 200-row Ridge fit 20x slower in measurements; parallelism comes from `jobs`.
    with threadpool_limits(1):
        return _fit_group(spec, X, Y, budget, folds, seed, progress, cancel, jobs)


def _fit_group(spec, X, Y, budget, folds, seed, progress, cancel, jobs):
    from sklearn.multioutput import MultiOutputRegressor

    y = Y if Y.ndim == 1 or Y.shape[1] > 1 else Y[:, 0]
    n_comp = pca_components(len(X), X.shape[1], folds)
    bases = base_models(spec.kind, n_comp, seed)
    tuned = {}
    for i, (name, pipe) in enumerate(bases.items()):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("training cancelled")
        if progress:
            progress(i, len(bases) + 1, f"{spec.name}: tuning {name}")
        tuned[name] = tune(pipe, spec.kind, name, X, y, budget, folds=3, seed=seed, jobs=jobs)
    if progress:
        progress(len(bases), len(bases) + 1, f"{spec.name}: fitting the stack")
    model = stack(spec.kind, tuned, folds, y, seed, jobs)
    if spec.kind == "regression" and np.ndim(y) == 2:
        model = MultiOutputRegressor(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return model


def per_target_stacks(model, spec: GroupSpec) -> list:
    """The fitted stacking estimator behind each target of the group."""
    from sklearn.multioutput import MultiOutputRegressor

    if isinstance(model, MultiOutputRegressor):
        return list(model.estimators_)
    return [model]


def predict_group(model, spec: GroupSpec, X: np.ndarray) -> dict[str, np.ndarray]:
    """target -> values (regression) or class labels (classification) for each row of X."""
    pred = model.predict(X)
    pred = pred.reshape(len(X), -1)
    return {t: pred[:, i] for i, t in enumerate(spec.targets)}


def positive_proba(model, X: np.ndarray) -> np.ndarray | None:
    """P(class 1) for a binary classification stack, else None."""
    if hasattr(model, "predict_proba") and len(getattr(model, "classes_", [])) == 2:
        return model.predict_proba(X)[:, list(model.classes_).index(1)] if 1 in model.classes_ else None
    return None


def compare(model, spec: GroupSpec, X: np.ndarray, Y: np.ndarray) -> list[dict]:
    """Held-out scores of every base model and of the stack, per target: the comparison report."""
    from sklearn.metrics import accuracy_score, f1_score, r2_score, roc_auc_score

    rows = []
    Y = Y.reshape(len(X), -1)
    for i, (target, st) in enumerate(zip(spec.targets, per_target_stacks(model, spec), strict=False)):
        y = Y[:, i]
        cands = dict(st.named_estimators_)
        cands["stack"] = st
        for name, est in cands.items():
            p = est.predict(X)
            if spec.kind == "regression":
                rows.append({"group": spec.name, "target": target, "model": name, "metric": "r2",
                             "score": float(r2_score(y, p))})
            else:
                rows.append({"group": spec.name, "target": target, "model": name, "metric": "accuracy",
                             "score": float(accuracy_score(y, p))})
                rows.append({"group": spec.name, "target": target, "model": name, "metric": "f1_weighted",
                             "score": float(f1_score(y, p, average="weighted"))})
                proba = positive_proba(est, X)
                if proba is not None and len(np.unique(y)) == 2:
                    rows.append({"group": spec.name, "target": target, "model": name, "metric": "auc",
                                 "score": float(roc_auc_score(y, proba))})
    return rows


def write_report(rows: list[dict], out_dir) -> list[str]:
    """comparison.csv, and comparison.png (bars per group, heat map model x target) when
    matplotlib is installed. Returns the files written."""
    import csv
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with open(out / "comparison.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["group", "target", "model", "metric", "score"])
        w.writeheader()
        w.writerows(rows)
    written.append(str(out / "comparison.csv"))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return written
    main = [r for r in rows if r["metric"] in ("r2", "f1_weighted")]
    targets = sorted({r["target"] for r in main})
    models = BASE_NAMES + ["stack"]
    grid = np.full((len(models), len(targets)), np.nan)
    for r in main:
        if r["model"] in models:
            grid[models.index(r["model"]), targets.index(r["target"])] = r["score"]
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 1.2 * len(targets) + 6), 4.5))
    width = 0.8 / len(models)
    for k, m in enumerate(models):
        axes[0].bar(np.arange(len(targets)) + k * width, np.nan_to_num(grid[k]), width, label=m)
    axes[0].set_xticks(np.arange(len(targets)) + 0.4, targets, rotation=30, ha="right")
    axes[0].set_ylabel("held-out R2 / F1-weighted")
    axes[0].legend(fontsize=7)
    im = axes[1].imshow(grid, cmap="viridis", aspect="auto", vmin=min(0, np.nanmin(grid)), vmax=1)
    axes[1].set_xticks(range(len(targets)), targets, rotation=30, ha="right")
    axes[1].set_yticks(range(len(models)), models)
    for (a, b), v in np.ndenumerate(grid):
        if np.isfinite(v):
            axes[1].text(b, a, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=axes[1])
    fig.tight_layout()
    fig.savefig(out / "comparison.png", dpi=100)
    plt.close(fig)
    written.append(str(out / "comparison.png"))
    return written
