"""Cross-validated accuracy of the taste model: the honest numbers shown to the user.

Every fold fits the whole pipeline (scaling, nets, early stopping, calibration, the artist/label/
genre like-rates) on its training rows only; the held-out fold is touched once, to score.

Two questions, two protocols, because ratings cluster by artist:
  "artist"      folds keep every primary artist's tracks on one side (see taste.artists), which
                measures taste for artists the model has never seen — what album discovery needs;
  "stratified"  folds split by label only; scored on the test rows whose primary artist also has
                ratings in the training folds, it measures taste for artists the user has rated.

One split seed is one draw: `repeated` runs several split seeds and reports the mean with a 95%
interval that accounts for the folds sharing training rows (Nadeau & Bengio's corrected
resampled t, as in Bouckaert & Frank 2004), so a claimed margin can be checked against its noise.
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
from musicrec_engine.jobs import Cancelled, Progress
from musicrec_engine.taste.artists import primary_artists

FitPredict = Callable[..., np.ndarray]  # (Xtr, ytr, Xte, groups_tr) -> p(like) for Xte
KINDS = {"artist": "new artists", "stratified": "artists already rated"}


@dataclass
class CVResult:
    cv: str
    folds: int
    repeats: int = 1
    accuracy: list[float] = field(default_factory=list)
    roc_auc: list[float] = field(default_factory=list)
    tested: list[int] = field(default_factory=list)  # test rows scored per fold
    train_rows: list[int] = field(default_factory=list)
    majority: list[float] = field(default_factory=list)  # always answering the training majority
    predictions: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (test rows, p(like))
    seconds: float = 0.0

    def summary(self) -> dict:
        a, r = np.array(self.accuracy), np.array(self.roc_auc)
        lo, hi = interval(a, self.tested, self.train_rows)
        rlo, rhi = interval(r, self.tested, self.train_rows)
        return {"cv": self.cv, "kind": KINDS.get(self.cv, self.cv), "folds": self.folds, "repeats": self.repeats,
                "rows_scored": int(np.sum(self.tested) // max(self.repeats, 1)),
                "accuracy_mean": _r(np.nanmean(a)), "accuracy_std": _r(np.nanstd(a)),
                "accuracy_ci95": [_r(lo), _r(hi)],
                "roc_auc_mean": _r(np.nanmean(r)), "roc_auc_std": _r(np.nanstd(r)), "roc_auc_ci95": [_r(rlo), _r(rhi)],
                "majority_accuracy": _r(np.nanmean(self.majority)) if self.majority else None,
                "accuracy_per_fold": [_r(x) for x in a], "seconds": round(self.seconds, 2)}


def _r(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def interval(scores, tested, train_rows, level: float = 0.95) -> tuple[float, float]:
    """Corrected resampled-t interval for the mean of per-fold scores from repeated k-fold CV."""
    from scipy import stats

    s = np.asarray(scores, float)
    ok = np.isfinite(s)
    s = s[ok]
    if len(s) < 2:
        return (float(s[0]), float(s[0])) if len(s) else (float("nan"), float("nan"))
    n_test = float(np.mean(np.asarray(tested, float)[ok])) if len(tested) else 1.0
    n_train = float(np.mean(np.asarray(train_rows, float)[ok])) if len(train_rows) else 1.0
    var = np.var(s, ddof=1) * (1.0 / len(s) + n_test / max(n_train, 1.0))
    half = stats.t.ppf(0.5 + level / 2, len(s) - 1) * np.sqrt(var)
    return float(s.mean() - half), float(s.mean() + half)


def artist_groups(artists) -> np.ndarray:
    """Primary-artist keys; a track without an artist is its own group (it shares no artist)."""
    g = primary_artists(artists)
    return np.where(g == "", np.array([f"#{i}" for i in range(len(g))], dtype=object), g)


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
        g = artist_groups(groups)
        if len(set(g)) < folds:
            raise MusicRecError(f"artist-grouped {folds}-fold cross-validation needs at least {folds} artists")
        return list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, g))
    raise MusicRecError(f"unknown cross-validation '{cv}' (use stratified or artist)")


def cross_validate(X, y: np.ndarray, fit_predict: FitPredict, cv: str = "stratified",
                   folds: int = 5, groups=None, seed: int = 0, repeats: int = 1, seen_artists_only: bool = False,
                   given_splits: list | None = None, progress: Progress | None = None,
                   cancel: threading.Event | None = None) -> CVResult:
    """Score `fit_predict` on `repeats` × `folds` splits (split seeds seed, seed+1, ...).

    With `seen_artists_only` (stratified folds), each fold is scored on its test rows whose
    primary artist has ratings in the training rows: the figure for artists already rated.
    `given_splits` replaces the computed (train, test) index pairs, for comparing on fixed folds."""
    y = np.asarray(y).astype(int)
    res = CVResult(cv, folds, repeats)
    keys = artist_groups(groups) if groups is not None else None
    if seen_artists_only and keys is None:
        raise MusicRecError("scoring artists already rated needs the artist of every rated track")
    t0 = time.perf_counter()
    total = folds * repeats
    for rep in range(repeats):
        pairs = given_splits if given_splits is not None else splits(y, cv, folds, groups, seed + rep)
        for k, (tr, te) in enumerate(pairs):
            if cancel is not None and cancel.is_set():
                raise Cancelled("cross-validation cancelled")
            if progress:
                progress(rep * folds + k, total, f"{cv} fold {k + 1} of {folds}"
                         + (f", repeat {rep + 1} of {repeats}" if repeats > 1 else ""))
            if seen_artists_only:
                te = te[np.isin(keys[te], keys[tr])]
                if len(te) == 0:
                    continue
            p = fit_predict(X[tr], y[tr], X[te], None if groups is None else np.asarray(groups, dtype=object)[tr])
            res.accuracy.append(float(accuracy_score(y[te], p >= 0.5)))
            res.roc_auc.append(float(roc_auc_score(y[te], p)) if len(np.unique(y[te])) == 2 else float("nan"))
            res.tested.append(len(te))
            res.train_rows.append(len(tr))
            res.majority.append(float(np.mean(y[te] == int(y[tr].mean() >= 0.5))))
            res.predictions.append((np.asarray(te), np.asarray(p)))
    if not res.accuracy:
        raise MusicRecError("no test fold had an artist that is also rated in its training folds")
    res.seconds = time.perf_counter() - t0
    if progress:
        progress(total, total, f"{cv} cross-validation done")
    return res
