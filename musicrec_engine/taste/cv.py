"""Cross-validated accuracy of the taste model: the honest number shown to the user.

Every fold fits the whole pipeline (scaling, nets, early stopping, calibration) on its training
rows only; the held-out fold is touched once, to score. "artist" folds keep every artist's tracks
in one fold, which measures taste for artists the model has never seen (the harder, truer case).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from musicrec_engine.errors import MusicRecError

FitPredict = Callable[..., np.ndarray]  # (Xtr, ytr, Xte, groups_tr) -> p(like) for Xte


@dataclass
class CVResult:
    cv: str
    folds: int
    accuracy: list[float] = field(default_factory=list)
    roc_auc: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        a, r = np.array(self.accuracy), np.array(self.roc_auc)
        return {"cv": self.cv, "folds": self.folds, "accuracy_mean": round(float(a.mean()), 4),
                "accuracy_std": round(float(a.std()), 4), "roc_auc_mean": round(float(np.nanmean(r)), 4),
                "roc_auc_std": round(float(np.nanstd(r)), 4), "accuracy_per_fold": [round(x, 4) for x in a],
                "seconds": round(self.seconds, 2)}


def splits(y: np.ndarray, cv: str, folds: int, groups=None, seed: int = 0):
    y = np.asarray(y)
    counts = np.bincount(y.astype(int), minlength=2)
    if counts.min() < folds:
        raise MusicRecError(f"{folds}-fold cross-validation needs at least {folds} likes and {folds} dislikes "
                            f"(have {counts[1]} and {counts[0]})")
    if cv == "stratified":
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    if cv == "artist":
        if groups is None:
            raise MusicRecError("artist-grouped cross-validation needs the artist of every rated track")
        g = np.array(["" if v is None or v != v else str(v) for v in groups], dtype=object)
        # a track without an artist is its own group: it cannot share an artist with anything
        g = np.where(g == "", np.array([f"#{i}" for i in range(len(g))], dtype=object), g)
        if len(set(g)) < folds:
            raise MusicRecError(f"artist-grouped {folds}-fold cross-validation needs at least {folds} artists")
        return list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, g))
    raise MusicRecError(f"unknown cross-validation '{cv}' (use stratified or artist)")


def cross_validate(X: np.ndarray, y: np.ndarray, fit_predict: FitPredict, cv: str = "stratified",
                   folds: int = 5, groups=None, seed: int = 0,
                   progress: Callable[[int, int, str], None] | None = None,
                   cancel: threading.Event | None = None) -> CVResult:
    y = np.asarray(y).astype(int)
    res = CVResult(cv, folds)
    t0 = time.perf_counter()
    for k, (tr, te) in enumerate(splits(y, cv, folds, groups, seed)):
        if cancel is not None and cancel.is_set():
            from musicrec_engine.taste.net import Cancelled

            raise Cancelled("cross-validation cancelled")
        if progress:
            progress(k, folds, f"{cv} fold {k + 1} of {folds}")
        p = fit_predict(X[tr], y[tr], X[te], None if groups is None else np.asarray(groups, dtype=object)[tr])
        res.accuracy.append(float(accuracy_score(y[te], p >= 0.5)))
        res.roc_auc.append(float(roc_auc_score(y[te], p)) if len(np.unique(y[te])) == 2 else float("nan"))
    res.seconds = time.perf_counter() - t0
    if progress:
        progress(folds, folds, f"{cv} cross-validation done")
    return res
