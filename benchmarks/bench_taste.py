"""Taste model benchmark: accuracy on the album-recommender's real ratings, training and scoring speed.

  .venv/bin/python benchmarks/bench_taste.py [--data DIR] [--folds 5] [--repeats 5] [--only accuracy] [--tune]

Accuracy: repeated cross-validation (5 split seeds x 5 folds by default) of the preference net with
its default settings beside scikit-learn's HistGradientBoostingClassifier (defaults) on the same
folds and the same inputs (the AcousticBrainz/year features plus the artist, label and genre
columns, fitted the same way), each with a 95% interval (taste.cv). Two questions: artists
already rated (stratified folds, scored on test rows whose primary artist has training ratings)
and new artists (folds grouped by primary artist: "X feat. Y", "X & Y" and case variants are X).
Every fold fits scaling, the artist/label/genre shares, nets, early stopping (on a split of the
training fold) and calibration on its training rows only. Two more net rows show what the context
adds: "label+genre" (no artist identity) and "sound+year only". Each recording counts once (the
file repeats 92 recordings row for row; a repeat in the test fold of a training row would inflate
accuracy). `--tune` adds the net with hyper-parameters chosen inside each training fold (slow).

Speed (one thread, torch.set_num_threads(1)): training on ~1,500 rated tracks (CPU seconds, the
machine is shared, and wall seconds), and scoring 1.2M taste-space rows, each against gradient
boosting doing the same job in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tools/
os.environ.setdefault("OMP_NUM_THREADS", "1")  # the baseline on one thread too, like the net

import numpy as np  # noqa: E402
import torch  # noqa: E402
from provenance import announce  # noqa: E402

from musicrec_engine.taste.cv import cross_validate  # noqa: E402
from musicrec_engine.taste.features import encode_taste_rows  # noqa: E402
from musicrec_engine.taste.model import TasteModel  # noqa: E402
from musicrec_engine.taste.net import TasteParams, fit_ensemble  # noqa: E402
from musicrec_engine.taste.ratings import load_ab_training  # noqa: E402
from tools.taste_bench import bench, gbm_fit_predict  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "album-recommender"
FEATURES = "liked_and_disliked_tracks_with_acoustic_and_music_brainz_features.csv"


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def accuracy(data_dir: Path, folds: int, repeats: int, tune: bool) -> None:
    """Each model on the same folds (same split seeds), for artists already rated and new ones."""
    d = load_ab_training(data_dir / FEATURES)
    print(f"\n## Accuracy, {repeats} x {folds}-fold cross-validation, {len(d.y)} unique rated recordings "
          f"({int(d.y.sum())} likes); mean [95% corrected-t interval]")
    print("# 'artists already rated': stratified folds scored on test rows whose primary artist has training "
          "ratings; 'new artists': folds grouped by primary artist")
    print(f"{'for':<22} {'model':<22} {'accuracy':>22} {'ROC AUC':>22} {'majority':>8} {'scored':>7} {'cpu s':>6}")
    variants = [("net, all context", TasteParams(), False), ("net, label+genre", TasteParams(context=("label", "genre")), False),
                ("net, sound+year only", TasteParams(context=()), False)]
    if tune:
        variants.append(("net, tuned in folds", TasteParams(), True))
    for kind in ("stratified", "artist"):
        rows = []
        for name, params, tuned in variants:
            c0 = time.process_time()
            r = bench(d.enc.rows(), d.y, d.artists, kind, folds, params, baseline=False, tune=tuned, repeats=repeats)
            rows.append((name, r["net"], time.process_time() - c0))
        c0 = time.process_time()
        gbm = cross_validate(d.enc.rows(), d.y, gbm_fit_predict, kind, folds, d.artists, repeats=repeats,
                             seen_artists_only=kind == "stratified").summary()
        rows.append(("GBM, same inputs", gbm, time.process_time() - c0))
        for name, m, cpu in rows:
            lo, hi = m["accuracy_ci95"]
            rlo, rhi = m["roc_auc_ci95"]
            print(f"{m['kind']:<22} {name:<22} {m['accuracy_mean']:>8.3f} [{lo:.3f}, {hi:.3f}] "
                  f"{m['roc_auc_mean']:>8.3f} [{rlo:.3f}, {rhi:.3f}] {m['majority_accuracy']:>8.3f} "
                  f"{m['rows_scored']:>7} {cpu:>6.0f}", flush=True)


def speed(data_dir: Path) -> None:
    d = load_ab_training(data_dir / FEATURES, dedupe=False)
    print(f"\n## Training on {len(d.y)} rated tracks, one thread")
    print(f"{'job':<44} {'wall s':>7} {'cpu s':>7} {'cpu ratio':>9}")
    _, gw, gc = timed(lambda: gbm_fit_predict(d.enc.rows(), d.y, d.enc.rows()[:1]))
    _, nw, nc = timed(lambda: fit_ensemble(d.enc.rows(), d.y, TasteParams()))
    _, tw, tc = timed(lambda: TasteModel.train(d.enc, d.y))
    print(f"{'gradient boosting fit, same inputs (reference)':<44} {gw:>7.1f} {gc:>7.1f} {1.0:>9.2f}")
    print(f"{'preference net: 5-net ensemble fit':<44} {nw:>7.1f} {nc:>7.1f} {nc / gc:>9.2f}")
    print(f"{'TasteModel.train (5-fold CV estimate + fit)':<44} {tw:>7.1f} {tc:>7.1f} {tc / gc:>9.2f}")

    rng = np.random.default_rng(0)
    n = 1_200_000
    cols = {a: rng.random(n) for a in ["energy", "valence", "danceability", "acousticness", "instrumentalness",
                                       "liveness", "speechiness"]}
    cols.update(loudness=rng.normal(-10, 4, n), tempo=rng.uniform(60, 180, n), key=rng.integers(0, 12, n),
                mode=rng.integers(0, 2, n))
    import pandas as pd

    df = pd.DataFrame(cols)
    years = rng.integers(1950, 2021, n)
    enc_all, ew, ec = timed(lambda: encode_taste_rows(df, years))
    train_rows = slice(0, 1500)
    y = (cols["energy"][train_rows] > 0.5).astype(int)
    from musicrec_engine.taste.features import Encoded

    sub = Encoded(enc_all.X[train_rows], enc_all.names, enc_all.groups, enc_all.schema)
    model = TasteModel.train(sub, y, cv_folds=2)
    from sklearn.ensemble import HistGradientBoostingClassifier

    gbm = HistGradientBoostingClassifier(random_state=0).fit(sub.X, y)
    _, rw, rc = timed(lambda: gbm.predict_proba(enc_all.X))
    _, pw, pc = timed(lambda: model.predict_proba(enc_all.X))
    print(f"\n## Scoring {n:,} catalog rows (taste space, {enc_all.X.shape[1]} features), one thread")
    print(f"{'job':<44} {'wall s':>7} {'cpu s':>7} {'cpu ratio':>9}")
    print(f"{'gradient boosting predict (reference)':<44} {rw:>7.1f} {rc:>7.1f} {1.0:>9.2f}")
    print(f"{'encode rows to the taste space':<44} {ew:>7.1f} {ec:>7.1f} {ec / rc:>9.2f}")
    print(f"{'preference net predict (5 nets, calibrated)':<44} {pw:>7.1f} {pc:>7.1f} {pc / rc:>9.2f}")


def cold_start(data_dir: Path, n_rated: int = 15, draws: int = 20) -> None:
    """A new user: a few random ratings from the album recommender's file, the rest scored by the cold start."""
    d = load_ab_training(data_dir / FEATURES)
    from musicrec_engine.taste.features import Encoded

    rng = np.random.default_rng(0)
    spread, old_spread, acc, auc, brier, old_brier = [], [], [], [], [], []
    from sklearn.metrics import roc_auc_score

    for _ in range(draws):
        idx = rng.permutation(len(d.y))
        r, rest = idx[:n_rated], idx[n_rated:]
        if d.y[r].min() == d.y[r].max():
            continue
        m = TasteModel.train(Encoded(d.enc.X[r], d.enc.names, d.enc.groups, d.enc.schema), d.y[r],
                             reference=d.enc.X)
        p = m.predict_proba(d.enc.X[rest])
        old = np.clip(0.5 + m.cold.score(d.enc.X[rest]) / 4.0, 0, 1)  # the previous map of the same score
        spread.append(np.percentile(p, [10, 90]))
        old_spread.append(np.percentile(old, [10, 90]))
        acc.append(float(((p >= 0.5) == d.y[rest]).mean()))
        auc.append(roc_auc_score(d.y[rest], p))
        brier.append(float(np.mean((p - d.y[rest]) ** 2)))
        old_brier.append(float(np.mean((old - d.y[rest]) ** 2)))
    s, o = np.mean(spread, axis=0), np.mean(old_spread, axis=0)
    print(f"\n## Cold start: {n_rated} random ratings from the album recommender's file, the other tracks scored "
          f"({len(acc)} draws, means)")
    print(f"p(like) 10th-90th percentile: {s[0]:.2f}-{s[1]:.2f} (the previous 0.5 + score/4 map: "
          f"{o[0]:.2f}-{o[1]:.2f}); accuracy {np.mean(acc):.3f}, ROC AUC {np.mean(auc):.3f}")
    print(f"Brier score {np.mean(brier):.3f} (previous map {np.mean(old_brier):.3f}; 0.250 = always 50 %)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5, help="cross-validation repeats (split seeds)")
    ap.add_argument("--quick", action="store_true", help="speed only")
    ap.add_argument("--tune", action="store_true", help="also the net tuned inside each fold (nested CV)")
    ap.add_argument("--only", choices=["speed", "accuracy", "cold"])
    args = ap.parse_args()
    announce(args)
    torch.set_num_threads(1)
    if args.only in (None, "speed"):
        speed(args.data)
    if args.only in (None, "cold"):
        cold_start(args.data)
    if not args.quick and args.only in (None, "accuracy"):
        accuracy(args.data, args.folds, args.repeats, args.tune)


if __name__ == "__main__":
    main()
