"""Taste model benchmark (issue 7): accuracy on seed 004's real data, training and scoring speed.

  .venv/bin/python benchmarks/bench_taste.py [--data DIR] [--folds 5] [--quick] [--tune]

Accuracy: 5-fold cross-validation, stratified and grouped by artist, of the preference net with
its default settings beside scikit-learn's HistGradientBoostingClassifier (defaults) on the same
folds and the same inputs (the 122 AcousticBrainz/year features plus the artist, label and genre
columns, fitted the same way). Every fold fits scaling, the artist/label/genre shares, nets,
early stopping (on a split of the training fold) and calibration on its training rows only.
Two more net rows show what the context adds: "label+genre" (no artist identity) and "none"
(sound and release year only, the previous recipe). `--tune` adds the net with hyper-parameters
chosen inside each training fold by an inner CV of the same kind (nested; slow). Two row sets: "unique" counts each
recording once (the honest one: the file repeats 92 recordings row for row, and a repeat in
the test fold of a training row inflates accuracy); "as given" keeps the 1,517 rows, the protocol
behind the 0.845 / 0.736 baseline figures in DESIGN.md.

Speed (one thread, torch.set_num_threads(1)): training on ~1,500 rated tracks (CPU seconds, the
machine is shared, and wall seconds), and scoring 1.2M taste-space rows, each against gradient
boosting doing the same job in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the baseline on one thread too, like the net

import numpy as np  # noqa: E402
import torch  # noqa: E402

from musicrec_engine.taste.bench import bench, gbm_fit_predict  # noqa: E402
from musicrec_engine.taste.cv import cross_validate  # noqa: E402
from musicrec_engine.taste.features import encode_taste_rows  # noqa: E402
from musicrec_engine.taste.model import TasteModel  # noqa: E402
from musicrec_engine.taste.net import TasteParams, fit_ensemble  # noqa: E402
from musicrec_engine.taste.ratings import load_ab_training  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "album-recommender"
FEATURES = "liked_and_disliked_tracks_with_acoustic_and_music_brainz_features.csv"


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def accuracy(data_dir: Path, folds: int, cvs, tune: bool) -> None:
    print(f"\n## Accuracy, {folds}-fold cross-validation (mean ± std over folds)")
    print(f"{'rows':<14} {'cv':<11} {'model':<22} {'accuracy':>15} {'ROC AUC':>15} {'ratio acc':>9} {'cpu s':>6}")
    for label, dedupe in (("unique", True), ("as given", False)):
        d = load_ab_training(data_dir / FEATURES, dedupe=dedupe)
        for cv in cvs:
            c0 = time.process_time()
            r = bench(d.enc.rows(), d.y, d.artists, cv, folds, TasteParams(), baseline=False)
            c1 = time.process_time()
            r["gbm"] = cross_validate(d.enc.rows(), d.y, gbm_fit_predict, cv, folds, d.artists).summary()
            rows = [("net, all context", r["net"], c1 - c0), ("GBM, same inputs", r["gbm"], time.process_time() - c1)]
            variants = [("net, label+genre", {"context": ("label", "genre")}),
                        ("net, none", {"context": ()})]
            if tune:
                variants.append(("net, tuned in folds", {"tune": True}))
            for name, v in variants:
                c0 = time.process_time()
                params = TasteParams.from_dict({k: x for k, x in v.items() if k != "tune"})
                rv = bench(d.enc.rows(), d.y, d.artists, cv, folds, params, baseline=False, tune=v.get("tune", False))
                rows.append((name, rv["net"], time.process_time() - c0))
            ref = r["gbm"]["accuracy_mean"]
            for name, m, cpu in rows:
                print(f"{label + ' ' + str(r['rows']):<14} {cv:<11} {name:<22} {m['accuracy_mean']:>7.3f} ± "
                      f"{m['accuracy_std']:.3f} {m['roc_auc_mean']:>7.3f} ± {m['roc_auc_std']:.3f} "
                      f"{m['accuracy_mean'] / ref:>9.3f} {cpu:>6.0f}", flush=True)


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
    """A new user: a few random ratings from seed 004's file, the rest scored by the cold start."""
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
    print(f"\n## Cold start: {n_rated} random ratings from seed 004's file, the other tracks scored "
          f"({len(acc)} draws, means)")
    print(f"p(like) 10th-90th percentile: {s[0]:.2f}-{s[1]:.2f} (the previous 0.5 + score/4 map: "
          f"{o[0]:.2f}-{o[1]:.2f}); accuracy {np.mean(acc):.3f}, ROC AUC {np.mean(auc):.3f}")
    print(f"Brier score {np.mean(brier):.3f} (previous map {np.mean(old_brier):.3f}; 0.250 = always 50 %)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="speed only")
    ap.add_argument("--tune", action="store_true", help="also the net tuned inside each fold (nested CV)")
    ap.add_argument("--only", choices=["speed", "accuracy", "cold"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")
    print(f"# bench_taste: {os.cpu_count()} cores ({cpu}), torch {torch.__version__}, load {os.getloadavg()[0]:.1f}")
    if args.only in (None, "speed"):
        speed(args.data)
    if args.only in (None, "cold"):
        cold_start(args.data)
    if not args.quick and args.only in (None, "accuracy"):
        accuracy(args.data, args.folds, ("stratified", "artist"), args.tune)


if __name__ == "__main__":
    main()
