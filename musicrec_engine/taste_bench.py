"""`taste bench`: cross-validated accuracy and ROC AUC of the preference net on seed 004's data,
optionally beside a gradient-boosting baseline measured on the same folds.

With `tune`, hyper-parameters are chosen inside each outer training fold by an inner
cross-validation of the same kind (artist-grouped inside artist-grouped), so the test fold never
influences any choice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from musicrec_engine.taste_cv import cross_validate, splits
from musicrec_engine.taste_net import TasteParams, fit_ensemble

# A small neighbourhood of the defaults, for the inner search.
TUNE_GRID = [{}, {"hidden": (256,), "dropout": 0.5, "weight_decay": 1e-4},
             {"batch_size": 128, "learning_rate": 2e-3}]


def net_fit_predict(params: TasteParams, cancel: threading.Event | None = None):
    def fp(Xtr, ytr, Xte, _groups=None):
        return fit_ensemble(Xtr, ytr, params, cancel=cancel).predict_proba(Xte)

    return fp


def gbm_fit_predict(Xtr, ytr, Xte, _groups=None):
    """The reference: scikit-learn's histogram gradient boosting with its defaults."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=0).fit(Xtr, ytr).predict_proba(Xte)[:, 1]


def tuned_fit_predict(base: TasteParams, cv: str, grid=None, inner_folds: int = 3, log: Callable | None = None,
                      cancel: threading.Event | None = None):
    grid = grid or TUNE_GRID

    def fp(Xtr, ytr, Xte, groups_tr=None):
        scores = []
        for cand in grid:
            p = TasteParams.from_dict({**base.to_dict(), **cand})
            inner = cross_validate(Xtr, ytr, net_fit_predict(p, cancel), cv, inner_folds, groups_tr, seed=1,
                                   cancel=cancel)
            scores.append(float(np.mean(inner.accuracy)))
        best = int(np.argmax(scores))
        if log:
            log(f"inner {cv} CV picked {grid[best] or 'the defaults'} ({scores[best]:.3f})")
        p = TasteParams.from_dict({**base.to_dict(), **grid[best]})
        return fit_ensemble(Xtr, ytr, p, cancel=cancel).predict_proba(Xte)

    return fp


def bench(X: np.ndarray, y: np.ndarray, artists, cv: str = "stratified", folds: int = 5,
          params: TasteParams | None = None, baseline: bool = True, tune: bool = False,
          progress=None, log: Callable | None = None, cancel: threading.Event | None = None) -> dict:
    params = params or TasteParams()
    splits(y, cv, folds, artists)  # bad settings fail here, before any training
    fp = tuned_fit_predict(params, cv, log=log, cancel=cancel) if tune else net_fit_predict(params, cancel)
    out = {"rows": len(y), "likes": int(np.sum(y)), "features": X.shape[1], "cv": cv, "folds": folds,
           "params": params.to_dict(), "tuned_inside_folds": tune,
           "net": cross_validate(X, y, fp, cv, folds, artists, progress=progress, cancel=cancel).summary()}
    if baseline:
        out["gbm"] = cross_validate(X, y, gbm_fit_predict, cv, folds, artists, cancel=cancel).summary()
    return out
