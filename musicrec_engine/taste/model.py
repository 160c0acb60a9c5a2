"""The taste model: learns likes and dislikes, predicts p(like), explains itself, saves safely.

Two modes, and the manifest says which:
  net         - an ensemble of small preference nets (taste_net.py), calibrated, with the
                cross-validated accuracy measured at training time stored in its manifest;
  cold-start  - fewer than MIN_RATINGS ratings, or only likes or only dislikes: a net would learn
                nothing trustworthy, so a track scores by cosine similarity to the liked tracks
                minus similarity to the disliked ones (its 3 nearest of each; 0.5 = no lean).

Saved as a folder: manifest.json + model.npz (plain arrays, loaded with allow_pickle=False, so a
model file can never run code). ModelStore writes a new version beside the old one and switches a
pointer only when the new one is complete: a failed or cancelled training never replaces the last
good model.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musicrec_engine import __version__
from musicrec_engine import paths as _paths
from musicrec_engine.errors import MusicRecError
from musicrec_engine.jobs import Progress
from musicrec_engine.taste.context import ContextEncoder, Rows, as_rows
from musicrec_engine.taste.features import Encoded, schema_hash

if TYPE_CHECKING:  # torch loads only when a model is trained or used, not to read a rating or a status
    from musicrec_engine.taste.net import Ensemble, Scaler, TasteParams

MIN_RATINGS = 20
FORMAT = 2  # 2: scaler interpolates into normal scores; optional artist/label/genre context
APP_TAG = "musicrec-taste-model"


class TasteError(MusicRecError):
    """The taste model cannot be trained, loaded or used as asked."""


def check_training_data(X: np.ndarray, y, names: list[str]) -> np.ndarray:
    y = np.asarray(y)
    if len(y) == 0:
        raise TasteError("no ratings yet: like or dislike a few tracks first")
    if len(y) != len(X):
        raise TasteError(f"{len(X)} feature rows but {len(y)} ratings")
    bad_labels = sorted({str(v) for v in y.tolist() if v not in (0, 1, True, False)})
    if bad_labels:
        raise TasteError(f"ratings must be 1 (like) or 0 (dislike), found {', '.join(bad_labels[:5])}")
    nan_rows = ~np.isfinite(X).all(axis=1)
    if nan_rows.any():
        cols = [names[j] for j in np.nonzero(~np.isfinite(X[nan_rows]).all(axis=0))[0]]
        raise TasteError(f"{int(nan_rows.sum())} rated tracks have missing (NaN) features "
                         f"({', '.join(cols[:4])}); re-analyse them or leave them out")
    return y.astype(np.int64)


def ratings_fingerprint(keys_and_values) -> str:
    """Identifies a set of ratings, so a model can tell whether it is stale."""
    h = hashlib.sha256()
    for k in sorted(str(x) for x in keys_and_values):
        h.update(k.encode() + b"\n")
    return h.hexdigest()[:16]


@dataclass
class ColdStart:
    """Similarity to liked minus disliked tracks, mapped to a probability.

    The raw score (mean cosine to the nearest likes minus the same for dislikes) moves in a
    narrow band, so "0.5 + score / 4" put every track at 45-55 %. Instead the score is divided
    by its spread (over the tracks the model will score, or the rated ones) and passed through a
    logistic whose slope is fitted to the rated tracks' leave-one-out scores (each scored by the
    others), kept within SLOPES per spread: a few ratings can make it neither flat nor a step. No lean
    (score 0) stays 50 %."""

    liked: np.ndarray  # unit rows
    disliked: np.ndarray
    scaler: Scaler | None  # None: the encoding is already on a common scale
    slope: float = 2.5  # per unit of raw score, set by fit_mapping

    SLOPES = (0.5, 2.5)  # per spread of the score: one spread above no lean gives 62-92 %

    def _unit(self, X: np.ndarray) -> np.ndarray:
        Z = self.scaler.transform(X) if self.scaler is not None else np.asarray(X, np.float32)
        n = np.linalg.norm(Z, axis=1, keepdims=True)
        return (Z / np.where(n > 0, n, 1.0)).astype(np.float32)

    def score(self, X: np.ndarray) -> np.ndarray:
        U = self._unit(X)
        return self._near(U, self.liked) - self._near(U, self.disliked)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        return expit(self.slope * self.score(X)).astype(np.float64)

    def fit_mapping(self, reference: np.ndarray | None = None) -> None:
        liked, disliked = self.liked, self.disliked
        U = np.concatenate([liked, disliked])  # rated rows, likes first
        lab = np.concatenate([np.ones(len(liked)), np.zeros(len(disliked))])
        loo = np.empty(len(U))
        for i in range(len(U)):
            keep = np.arange(len(U)) != i
            loo[i] = self._near(U[i:i + 1], U[keep & (lab == 1)])[0] - self._near(U[i:i + 1], U[keep & (lab == 0)])[0]
        spread = float(np.std(self.score(reference))) if reference is not None and len(reference) > 1 else             float(np.std(loo))
        spread = max(spread, 1e-3)
        lo, hi = self.SLOPES
        a = 2.5
        if min(lab.sum(), len(lab) - lab.sum()) >= 2:
            from sklearn.linear_model import LogisticRegression

            # no intercept: a track that leans neither way is 50 %, whatever the like/dislike mix
            a = float(LogisticRegression(fit_intercept=False, C=1.0).fit((loo / spread)[:, None], lab).coef_[0, 0])
        self.slope = float(np.clip(a, lo, hi)) / spread

    @staticmethod
    def _near(U: np.ndarray, rated: np.ndarray) -> np.ndarray:
        """Mean cosine to the k most similar rated tracks: a track like one liked track scores high
        even when the likes are varied (a centroid of varied likes resembles none of them). k grows
        from 1 to 3 with the ratings (one per 4), so with a handful of likes a track's own copy is
        not outvoted by the less similar ones."""
        if len(rated) == 0:
            return np.zeros(len(U))
        S = U @ rated.T
        k = int(np.clip(S.shape[1] // 4, 1, 3))
        return np.partition(S, S.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


class TasteModel:
    """Trained with `TasteModel.train(encoded, ratings)`; `predict_proba(X)` gives p(like)."""

    def __init__(self, manifest: dict, ensemble: Ensemble | None = None, cold: ColdStart | None = None,
                 direction: np.ndarray | None = None, importance: np.ndarray | None = None):
        self.manifest = manifest
        self.ensemble = ensemble
        self.cold = cold
        self.direction = direction if direction is not None else np.zeros(len(manifest["feature_names"]))
        self.importance = importance if importance is not None else np.abs(self.direction)

    # --- facts ----------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.manifest["mode"]

    @property
    def feature_names(self) -> list[str]:
        """The nets' inputs: the caller's features, then any artist/label/genre columns."""
        return self.manifest["feature_names"]

    @property
    def input_names(self) -> list[str]:
        """The features a caller passes to predict_proba."""
        return self.manifest.get("inputs") or self.manifest["feature_names"]

    @property
    def schema(self) -> str:
        return self.manifest["schema"]

    @property
    def accuracy(self) -> dict:
        """Cross-validated accuracy, {"rated_artists": summary or None, "new_artists": ...}: how
        well the model judges tracks by artists the user has rated, and by artists they have not."""
        m = self.manifest.get("metrics", {})
        return {"rated_artists": m.get("cv_rated_artists"), "new_artists": m.get("cv_new_artists")}

    def describe(self) -> str:
        """What the model is, in plain sentences (the Taste page shows them as they are)."""
        t = self.manifest["training"]
        base = f"{t['ratings']} ratings: {t['likes']} likes and {t['dislikes']} dislikes"
        if self.mode == "cold-start":
            return (f"Cold start: {self.manifest['reason']}. Until the net can train, a track scores by how close "
                    f"it is to the tracks you liked minus how close it is to those you disliked, over {base}.")
        parts = [describe_accuracy(s, who) for who, s in
                 (("artists you have rated", self.accuracy["rated_artists"]),
                  ("artists you have not rated", self.accuracy["new_artists"])) if s]
        acc = "; ".join(parts) if parts else "not estimated yet, too few ratings"
        return f"Preference net trained on {base}. Accuracy: {acc}."

    # --- training -------------------------------------------------------------------------------
    @classmethod
    def train(cls, enc: Encoded, ratings, params: TasteParams | dict | None = None, artists=None,
              cv_folds: int = 5, reference: np.ndarray | None = None, source: str = "library",
              fingerprint: str | None = None, progress: Progress | None = None,
              cancel: threading.Event | None = None) -> TasteModel:
        """Fit on encoded rated rows. `reference` (optional) is the population the model will score,
        used to scale features for the cold-start similarity."""
        from musicrec_engine.taste.net import Scaler, TasteParams, fit_ensemble, sensitivities

        t0 = time.perf_counter()
        params = params if isinstance(params, TasteParams) else TasteParams.from_dict(params)
        y = check_training_data(enc.X, ratings, enc.names)
        n_like, n_dis = int(y.sum()), int(len(y) - y.sum())
        manifest = {
            "app": APP_TAG, "format": FORMAT, "version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "schema": enc.schema, "feature_schema_hash": schema_hash(enc.schema, enc.names),
            "feature_names": enc.names, "inputs": enc.names, "groups": enc.groups, "params": params.to_dict(),
            "training": {"ratings": len(y), "likes": n_like, "dislikes": n_dis, "source": source,
                         "ratings_fingerprint": fingerprint, "left_out": enc.dropped[:20]},
            "metrics": {},
        }
        if len(y) < MIN_RATINGS or min(n_like, n_dis) == 0:
            reason = (f"only {len(y)} ratings, and the net needs {MIN_RATINGS}" if len(y) < MIN_RATINGS
                      else f"only {'likes' if n_dis == 0 else 'dislikes'} so far; rate some tracks you "
                           f"{'dislike' if n_dis == 0 else 'like'} too")
            scaler = Scaler().fit(reference) if reference is not None and len(reference) >= MIN_RATINGS else None
            if scaler is None and enc.schema != "taste-space":
                scaler = Scaler().fit(enc.X)
            cold = ColdStart(np.zeros((0, enc.X.shape[1]), np.float32), np.zeros((0, enc.X.shape[1]), np.float32),
                             scaler)
            U = cold._unit(enc.X)
            cold.liked, cold.disliked = U[y == 1], U[y == 0]
            cold.fit_mapping(reference)
            manifest["cold_slope"] = cold.slope
            direction = cold.liked.mean(0) - cold.disliked.mean(0) if min(n_like, n_dis) else \
                (cold.liked.mean(0) if n_like else -cold.disliked.mean(0))
            manifest.update(mode="cold-start", reason=reason)
            manifest["training"]["seconds"] = round(time.perf_counter() - t0, 3)
            return cls(manifest, cold=cold, direction=direction)

        folds = min(cv_folds, n_like, n_dis)
        if artists is None and enc.context is not None:
            artists = enc.context.get("artist")
        if folds >= 2:
            def fit_predict(Xtr, ytr, Xte, _groups):
                return fit_ensemble(Xtr, ytr, params, cancel=cancel).predict_proba(Xte)

            manifest["metrics"].update(_accuracy_by_artist(enc.rows(), y, fit_predict, artists, folds,
                                                           params.seed, progress, cancel))
        if progress:
            progress(2 * folds, 2 * folds + 1, "training the final model on all ratings")
        ens = fit_ensemble(enc.rows(), y, params, cancel=cancel)
        if ens.context is not None:
            manifest["feature_names"] = enc.names + ens.context.names()
            manifest["groups"] = {**enc.groups, **ens.context.groups(len(enc.names))}
            manifest["training"]["context"] = list(ens.context.fields)
        direction, importance = sensitivities(ens, ens.fit_inputs)
        manifest["group_importance"] = group_importance(ens, ens.fit_inputs, manifest["groups"], params.seed)
        manifest.update(mode="net", reason=None, hidden=list(params.hidden), platt=list(ens.platt))
        manifest["metrics"]["validation"] = ens.history
        manifest["training"]["seconds"] = round(time.perf_counter() - t0, 3)
        if progress:
            progress(2 * folds + 1, 2 * folds + 1, "taste model trained")
        return cls(manifest, ensemble=ens, direction=direction, importance=importance)

    # --- scoring --------------------------------------------------------------------------------
    def predict_proba(self, data) -> np.ndarray:
        """p(like) per row of `data`: a feature matrix, or an Encoded / Rows that also carries the
        rows' artist, label and genre (without them a context model treats every artist as new)."""
        rows = data.rows() if isinstance(data, Encoded) else as_rows(data)
        X = np.asarray(rows.X, np.float32)
        n_in = len(self.input_names)
        if X.ndim != 2 or X.shape[1] != n_in:
            raise TasteError(f"the taste model expects {n_in} features per track, "
                             f"got {X.shape[-1] if X.ndim else 0}")
        if len(X) == 0:
            return np.zeros(0)
        # a track with an unknown feature gets no opinion rather than a made-up one
        ok = np.isfinite(X).all(axis=1)
        out = np.full(len(X), np.nan)
        if ok.any():
            ro = rows[ok] if not ok.all() else Rows(X, rows.context)
            out[ok] = self.ensemble.predict_proba(ro) if self.ensemble is not None else self.cold.predict_proba(ro.X)
        return out

    def explain(self):
        from musicrec_engine.taste.explain import explain

        return explain(self)

    # --- files ----------------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"direction": self.direction, "importance": self.importance}
        if self.ensemble is not None:
            arrays.update({f"scaler/{k}": v for k, v in self.ensemble.scaler.state().items()})
            if self.ensemble.context is not None:
                arrays.update({f"context/{k}": v for k, v in self.ensemble.context.state().items()})
            for m, st in enumerate(self.ensemble.states):
                arrays.update({f"net{m}/{k}": v for k, v in st.items()})
        else:
            arrays["cold/liked"], arrays["cold/disliked"] = self.cold.liked, self.cold.disliked
            if self.cold.scaler is not None:
                arrays.update({f"scaler/{k}": v for k, v in self.cold.scaler.state().items()})
        with open(folder / "model.npz", "wb") as f:
            np.savez(f, **arrays)
        manifest = dict(self.manifest, weights_sha256=_sha256(folder / "model.npz"))
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
        self.manifest = manifest
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> TasteModel:
        folder = Path(folder)
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError) as e:
            raise TasteError(f"no readable taste model in {folder} ({e.__class__.__name__})") from None
        if not isinstance(manifest, dict) or manifest.get("app") != APP_TAG:
            raise TasteError(f"{folder} does not hold a taste model written by MusicRec; not loading it")
        if manifest.get("format") != FORMAT:
            raise TasteError(f"the taste model in {folder} has format {manifest.get('format')}; "
                             f"this version reads format {FORMAT}: train it again")
        if _sha256(folder / "model.npz") != manifest.get("weights_sha256"):
            raise TasteError(f"the taste model in {folder} was changed or damaged after it was written; "
                             "train it again")
        from musicrec_engine.taste.net import Ensemble, Scaler

        with np.load(folder / "model.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        scaler_state = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("scaler/")}
        scaler = Scaler.from_state(scaler_state) if scaler_state else None
        if manifest["mode"] == "net":
            n = 1 + max(int(k.split("/")[0][3:]) for k in arrays if k.startswith("net"))
            states = [{k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(f"net{m}/")}
                      for m in range(n)]
            ctx_state = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("context/")}
            ens = Ensemble(scaler, states, tuple(manifest["hidden"]), tuple(manifest["platt"]),
                           manifest["metrics"].get("validation", []),
                           ContextEncoder.from_state(ctx_state) if ctx_state else None)
            return cls(manifest, ensemble=ens, direction=arrays["direction"], importance=arrays["importance"])
        cold = ColdStart(arrays["cold/liked"], arrays["cold/disliked"], scaler, float(manifest["cold_slope"]))
        return cls(manifest, cold=cold, direction=arrays["direction"], importance=arrays["importance"])


def group_importance(ens: Ensemble, X: np.ndarray, groups: dict[str, list[int]], seed: int = 0) -> dict:
    """Per group: mean |change in p(like)| when the group's columns (of the nets' input matrix X)
    are shuffled across the rated tracks together. Summing per-column gradients would favour
    groups with many columns (12 key one-hots); shuffling a whole group measures what the model
    loses without it."""
    rng = np.random.default_rng(seed)
    base = ens.proba_inputs(X)
    out = {}
    for g, cols in groups.items():
        Xp = X.copy()
        perm = rng.permutation(len(X))
        Xp[:, cols] = X[perm][:, cols]
        out[g] = round(float(np.abs(ens.proba_inputs(Xp) - base).mean()), 6)
    return out


def _sha256(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


class ModelStore:
    """Versioned model folders under `root/<slot>/`, with `current.json` naming the good one.

    Only folders inside `root` or the shipped resources folder are ever loaded."""

    KEEP = 2

    def __init__(self, root: str | os.PathLike, shipped: str | os.PathLike | None = None):
        self.root = Path(root)
        self.shipped = Path(shipped) if shipped else _paths.SHIPPED_MODELS

    def _slot(self, slot: str) -> Path:
        return self.root / f"taste-{slot}"

    def save(self, model: TasteModel, slot: str) -> Path:
        base = self._slot(slot)
        base.mkdir(parents=True, exist_ok=True)
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        tmp = base / f".writing-{stamp}"
        final = base / stamp
        model.save(tmp)
        os.replace(tmp, final)
        ptr = base / ".current.json.tmp"
        ptr.write_text(json.dumps({"folder": stamp}))
        os.replace(ptr, base / "current.json")  # the switch: atomic, so a reader sees old or new
        self._prune(base, keep={stamp})
        return final

    def _prune(self, base: Path, keep: set[str]) -> None:
        versions = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
        for p in versions[:-self.KEEP]:
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)
        for p in base.glob(".writing-*"):  # left by a training that died mid-write
            shutil.rmtree(p, ignore_errors=True)

    def current_folder(self, slot: str) -> Path | None:
        ptr = self._slot(slot) / "current.json"
        if ptr.is_file():
            try:
                name = json.loads(ptr.read_text())["folder"]
            except (OSError, ValueError, KeyError, TypeError):
                raise TasteError(f"{ptr} is damaged; train the taste model again") from None
            folder = (self._slot(slot) / str(name)).resolve()
            if not folder.is_relative_to(self._slot(slot).resolve()):
                raise TasteError(f"{ptr} points outside the model folder; not loading it")
            return folder
        shipped = self.shipped / f"taste-{slot}"
        return shipped if (shipped / "manifest.json").is_file() else None

    def manifest(self, slot: str) -> dict | None:
        """The current model's manifest alone (cheap: no weights, no torch)."""
        folder = self.current_folder(slot)
        if folder is None:
            return None
        try:
            m = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        return m if isinstance(m, dict) and m.get("app") == APP_TAG else None

    def load(self, slot: str) -> TasteModel | None:
        folder = self.current_folder(slot)
        return TasteModel.load(folder) if folder is not None else None


def describe_accuracy(summary: dict, who: str) -> str:
    """"78% (95% interval 71-84%) for artists you have not rated, over 240 ratings"."""
    lo, hi = summary.get("accuracy_ci95") or (None, None)
    span = f" (95% interval {lo:.0%}-{hi:.0%})" if lo is not None and hi is not None else ""
    return f"{summary['accuracy_mean']:.0%}{span} for {who}, over {summary['rows_scored']} ratings"


# The grouped figure needs enough different artists for every fold to hold several; the rated-
# artists figure needs test rows whose artist also has training ratings.
MIN_ARTISTS_PER_FOLD = 2


def _accuracy_by_artist(rows, y, fit_predict, artists, folds: int, seed: int, progress, cancel) -> dict:
    """Cross-validated accuracy for artists already rated and for new artists (see taste.cv).
    Without artists every row counts as "rated" in the sense that nothing is known to be new."""
    from musicrec_engine.errors import MusicRecError
    from musicrec_engine.jobs import Cancelled
    from musicrec_engine.taste.cv import artist_groups, cross_validate

    out = {"cv_rated_artists": None, "cv_new_artists": None}
    # two cross-validations, then the final fit: one progress bar over all three
    first = (lambda d, t, m: progress(d, 2 * t + 1, m)) if progress else None
    second = (lambda d, t, m: progress(t + d, 2 * t + 1, m)) if progress else None
    known = artists is not None and any(isinstance(a, str) and a.strip() for a in artists)
    if not known:
        cv = cross_validate(rows, y, fit_predict, "stratified", folds, seed=seed, progress=first, cancel=cancel)
        out["cv_rated_artists"] = cv.summary()
        return out
    try:
        cv = cross_validate(rows, y, fit_predict, "stratified", folds, artists, seed=seed, seen_artists_only=True,
                            progress=first, cancel=cancel)
        if sum(cv.tested) >= folds:
            out["cv_rated_artists"] = cv.summary()
    except Cancelled:
        raise
    except MusicRecError:
        pass  # no artist has ratings on both sides of any split yet
    if len(set(artist_groups(artists))) >= MIN_ARTISTS_PER_FOLD * folds:
        # too few artists with both likes and dislikes for grouped folds: no figure yet
        try:
            out["cv_new_artists"] = cross_validate(rows, y, fit_predict, "artist", folds, artists, seed=seed,
                                                   progress=second, cancel=cancel).summary()
        except Cancelled:
            raise
        except MusicRecError:
            pass
    return out
