"""`python -m tools.taste_bench`: cross-validated accuracy and ROC AUC of the taste net on the album
recommender's rated AcousticBrainz rows, optionally beside a gradient-boosting baseline measured
on the same folds, repeated over several split seeds with a 95% interval (see taste.cv).

A development tool, not part of the product: a user sees the model's own cross-validated
accuracy in `musicrec taste train` and `taste status`.

With `tune`, hyper-parameters are chosen inside each outer training fold by an inner
cross-validation of the same kind (artist-grouped inside artist-grouped), so the test fold never
influences any choice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from musicrec_engine.taste.context import ContextEncoder, as_rows
from musicrec_engine.taste.cv import cross_validate, splits
from musicrec_engine.taste.net import TasteParams, fit_ensemble

# A small neighbourhood of the defaults, for the inner search.
TUNE_GRID = [{}, {"artist_dropout": 0.5}, {"hidden": (256,), "dropout": 0.5, "weight_decay": 1e-4}]


def net_fit_predict(params: TasteParams, cancel: threading.Event | None = None):
    def fp(Xtr, ytr, Xte, _groups=None):
        return fit_ensemble(Xtr, ytr, params, cancel=cancel).predict_proba(Xte)

    return fp


def gbm_fit_predict_with(params: TasteParams):
    """The reference: scikit-learn's histogram gradient boosting with its defaults, given the
    same inputs as the net (the artist/label/genre columns fitted the same way on the same rows)."""

    def fp(Xtr, ytr, Xte, _groups=None):
        from sklearn.ensemble import HistGradientBoostingClassifier

        tr, te = as_rows(Xtr), as_rows(Xte)
        A, B = tr.X, te.X
        if tr.context is not None and params.context:
            ctx = ContextEncoder(params.context, params.artist_dropout, seed=params.seed)
            A = np.hstack([A, ctx.fit_transform(tr.context, ytr)])
            B = np.hstack([B, ctx.transform(te.context, len(B))])
        return HistGradientBoostingClassifier(random_state=0).fit(A, ytr).predict_proba(B)[:, 1]

    return fp


gbm_fit_predict = gbm_fit_predict_with(TasteParams())


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


def bench(X, y: np.ndarray, artists, cv: str = "stratified", folds: int = 5,
          params: TasteParams | None = None, baseline: bool = True, tune: bool = False, repeats: int = 5,
          progress=None, log: Callable | None = None, cancel: threading.Event | None = None) -> dict:
    """`cv` is "artist" (new artists: folds grouped by primary artist), "stratified" (scored on
    test rows whose artist is rated in training: artists already rated) or "both"."""
    params = params or TasteParams()
    kinds = ["stratified", "artist"] if cv == "both" else [cv]
    for kind in kinds:
        splits(y, kind, folds, artists)  # bad settings fail here, before any training
    fp = tuned_fit_predict(params, "artist" if cv == "both" else cv, log=log, cancel=cancel) if tune \
        else net_fit_predict(params, cancel)
    rows = as_rows(X)
    context = sorted(rows.context) if rows.context is not None and params.context else []
    out = {"rows": len(y), "likes": int(np.sum(y)), "features": rows.X.shape[1],
           "context": [c for c in params.context if c in context], "cv": cv, "folds": folds, "repeats": repeats,
           "params": params.to_dict(), "tuned_inside_folds": tune}

    def run(kind, fit_predict, step=None):
        seen = kind == "stratified" and artists is not None
        return cross_validate(X, y, fit_predict, kind, folds, artists, repeats=repeats, seen_artists_only=seen,
                              progress=step, cancel=cancel).summary()

    for kind in kinds:
        key = "" if len(kinds) == 1 else f"_{'rated_artists' if kind == 'stratified' else 'new_artists'}"
        out["net" + key] = run(kind, fp, progress)
        if baseline:
            out["gbm" + key] = run(kind, gbm_fit_predict_with(params))
    return out
