"""Train the shipped default model for speechiness, acousticness, liveness and instrumentalness.

Protocol: clips from tools.trainset with exact ground truth. The model is
trained on seed 1 and evaluated ONCE on clips from seed 2 (different speech, melodies, instruments
draws, rooms and audiences), which were never used for tuning. Inputs: the descriptor vector of
attributes/estimated.py (its schema hash goes into the manifest).

    B=benchmarks/train_default_attributes.py
    .venv/bin/python $B generate --seed 1 --count 800 --start 0 --out W/train_a.npz     # these two
    .venv/bin/python $B generate --seed 1 --count 800 --start 800 --out W/train_b.npz   # in parallel
    .venv/bin/python $B generate --seed 2 --count 300 --out W/test.npz
    .venv/bin/python $B train --train W/train_a.npz,W/train_b.npz --test W/test.npz [--budget N] \
        [--keep-fitted W/fitted.joblib]
    .venv/bin/python $B calibrate --data W/train_a.npz,W/train_b.npz
    .venv/bin/python $B convert --fitted W/fitted.joblib   # the fitted model to ONNX again
    .venv/bin/python $B compare --data W/test.npz

While choosing descriptors, evaluate on another seed (e.g. --seed 3 as --test) and keep seed 2
for the one final evaluation.

`train` writes resources/models/default_attributes.onnx + default_attributes.manifest.json
(training.save_model: converted to ONNX and checked against the fitted model) and prints the
held-out table; with --keep-fitted it also keeps the fitted scikit-learn/XGBoost groups as a joblib
file for developers (never shipped, never read by the app). `calibrate` writes
resources/models/estimated_calibration.json.
`convert` converts such a fitted file again (e.g. after a converter fix) and rewrites the model and
the manifest's format, checksum and groups, keeping its metrics and dates. The model shipped until
the change to ONNX is that file too: `git show 4d163f0:resources/models/default_attributes.joblib`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from musicrec_engine.attributes import estimated, modelfile  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402
from tools import trainset  # noqa: E402

MODEL_DIR = ROOT / "resources" / "models"
MODEL_NAME = "default_attributes"
SPOTIFY_SAMPLE = ROOT.parent / "shared" / "data" / "spotify-sample" / "tracks_features_sample_1k.csv"


def cmd_generate(a) -> None:
    X, rows = [], []
    t0 = time.time()
    for y, labels in trainset.generate(a.count, a.seed, seconds=a.seconds, batch=40, start=a.start):
        spec = Spectrum(y)
        X.append(estimated.descriptor_vector(spec))
        rows.append(labels)
        if len(rows) % 50 == 0:
            print(f"{len(rows)}/{a.count} clips, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    cols = {c: np.array([np.nan if r[c] == "" else r[c] for r in rows], dtype=float)
            for c in trainset.LABEL_COLUMNS if c != "family"}
    np.savez_compressed(a.out, X=np.array(X), names=np.array(estimated.descriptor_names()),
                        schema=estimated.descriptor_schema_hash(), seed=a.seed, seconds=a.seconds, **cols)
    print(f"wrote {a.out}: {len(rows)} clips in {time.time() - t0:.0f} s")


def _load(paths: str) -> dict:
    """One data set from one or more npz files (comma-separated parts of the same seed)."""
    parts = [dict(np.load(p)) for p in paths.split(",")]
    out = dict(parts[0])
    for k, v in out.items():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and k != "names":
            out[k] = np.concatenate([p[k] for p in parts])
    return out


def cmd_train(a) -> None:
    from musicrec_engine.attributes.training import train as training

    tr, te = _load(a.train), _load(a.test)
    assert str(tr["schema"]) == estimated.descriptor_schema_hash(), "descriptors changed since generation"
    budget = training.DEFAULT_BUDGET if a.budget is None else a.budget
    result = training.train_default(tr, te, budget=budget, report_dir=a.report,
                                    progress=lambda d, n, m: print(f"  {m}", file=sys.stderr, flush=True))
    if a.keep_fitted:
        import joblib

        joblib.dump({"groups": result.groups, "manifest": result.manifest}, a.keep_fitted, compress=3)
        print(f"kept the fitted groups in {a.keep_fitted}")
    out = training.save_model(result, MODEL_DIR, MODEL_NAME)
    print(f"wrote {out}")
    print(f"\nHeld-out generated clips (seed {int(te['seed'])}, {len(te['X'])} clips of {float(te['seconds']):.0f} s; "
          f"trained on seed {int(tr['seed'])}, {len(tr['X'])} clips)\n")
    print("| attribute | held-out task | AUC | R2 | rows |")
    print("|---|---|---|---|---|")
    for name, m in result.manifest["metrics"]["attributes"].items():
        r2 = f"{m['r2']:.3f}" if "r2" in m else "-"
        print(f"| {name} | {m['task']} | {m['auc']:.3f} | {r2} | {m['rows']} |")
    import resource

    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)  # worker processes' CPU time counts once they are reaped
    cpu = sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime
              for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"\nmodel file {out.stat().st_size / 1e6:.1f} MB; training {result.manifest['training_seconds']:.0f} s wall, "
          f"{cpu:.0f} s CPU (all processes, including loading)")


def convert_fitted(fitted: Path) -> Path:
    """Convert a fitted file (`train --keep-fitted`, or the joblib model shipped before ONNX) and
    save it as the shipped model. The manifest keeps its description, dates and metrics; format,
    file, checksum and groups are the new model's. The fitted file is a pickle: open only your own."""
    import joblib

    from musicrec_engine.attributes.training import train as training

    fitted_data = joblib.load(fitted)
    mpath = modelfile.manifest_path(modelfile.model_path(MODEL_DIR, MODEL_NAME))
    manifest = fitted_data.get("manifest") or json.loads(mpath.read_text())
    manifest = {k: v for k, v in manifest.items() if k not in ("file", "sha256", "compiled", "groups")}
    if "names" in fitted_data.get("input", {}):
        manifest["input"] = dict(manifest["input"], names=fitted_data["input"]["names"])
    # save_model also removes the pickled and numpy copies of the same name
    return training.save_model(training.TrainResult(fitted_data["groups"], manifest), MODEL_DIR, MODEL_NAME)


def cmd_convert(a) -> None:
    out = convert_fitted(Path(a.fitted))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and {modelfile.manifest_path(out).name}")


def _spotify_quantiles(col: str, qs: np.ndarray) -> np.ndarray:
    vals = []
    with open(SPOTIFY_SAMPLE, newline="") as f:
        for row in csv.DictReader(f):
            vals.append(float(row[col]))
    return np.quantile(np.array(vals), qs)


def _raw(data, name: str) -> np.ndarray:
    """Formula scores recomputed from the stored descriptors, so formula edits need no regeneration."""
    names = [str(n) for n in data["names"]]
    return np.array([estimated.RAW[name](dict(zip(names, map(float, x), strict=True))) for x in data["X"]])


def cmd_calibrate(a) -> None:
    """Quantile map raw formula score -> Spotify value (see attributes/estimated.py)."""
    import json

    data = _load(a.data)
    # Reference audio: the generated clips that contain music (with or without voice or speech);
    # speech-only clips are a quarter of the training set but a tiny share of Spotify's catalogue.
    keep = data["music"] == 1
    data["X"] = data["X"][keep]
    qs = np.linspace(0, 1, 21)
    cal = {"source": f"raw scores over {int(keep.sum())} generated clips with music (trainset seed "
                     f"{int(data['seed'])}); targets: quantiles of {SPOTIFY_SAMPLE.name}", "quantiles": qs.tolist()}
    for name in estimated.RAW:
        raw_q = np.quantile(_raw(data, name), qs)
        raw_q = np.maximum.accumulate(raw_q + np.arange(qs.size) * 1e-9)  # strictly increasing for interp
        cal[name] = {"raw_q": raw_q.tolist(), "spotify_q": _spotify_quantiles(name, qs).tolist()}
    path = estimated.CALIBRATION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cal, indent=1))
    print(f"wrote {path}")


def cmd_compare(a) -> None:
    """Estimated-attribute quantiles on held-out clips vs Spotify's sample quantiles."""
    from sklearn.metrics import roc_auc_score

    full = _load(a.data)
    data = dict(full)
    data["X"] = full["X"][full["music"] == 1]  # the same population as the calibration set
    estimated._calibration.cache_clear()
    print(f"Held-out clips with music: {len(data['X'])} (seed {int(full['seed'])})\n")
    qs = [0.1, 0.25, 0.5, 0.75, 0.9]
    print(f"| attribute | source | {' | '.join(f'q{int(q * 100)}' for q in qs)} |")
    print("|---|---|" + "---|" * len(qs))
    for name in estimated.RAW:
        est = np.array([estimated._to_unit(name, r) for r in _raw(data, name)])
        sp = _spotify_quantiles(name, np.array(qs))
        print(f"| {name} | Spotify sample | {' | '.join(f'{v:.2f}' for v in sp)} |")
        print(f"| {name} | estimated, held-out clips | {' | '.join(f'{v:.2f}' for v in np.quantile(est, qs))} |")
    print("\nHow well the formulas alone separate the generated facts (all held-out clips, AUC):\n")
    print("| estimate | fact | AUC |")
    print("|---|---|---|")
    for name, fact in (("speechiness", "speech_present"), ("acousticness", "acousticness"),
                       ("liveness", "liveness"), ("instrumentalness", "instrumentalness")):
        ok = ~np.isnan(full[fact])
        print(f"| {name} | {fact} | {roc_auc_score(full[fact][ok].astype(int), _raw(full, name)[ok]):.3f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--seed", type=int, required=True)
    g.add_argument("--count", type=int, default=800)
    g.add_argument("--start", type=int, default=0, help="first clip index (to split a set across processes)")
    g.add_argument("--seconds", type=float, default=6.0)
    g.add_argument("--out", required=True)
    t = sub.add_parser("train")
    t.add_argument("--train", required=True)
    t.add_argument("--test", required=True)
    t.add_argument("--budget", type=int, default=None, help="default: training.DEFAULT_BUDGET")
    t.add_argument("--report", default=None, help="folder for comparison.csv/png")
    c = sub.add_parser("calibrate")
    c.add_argument("--data", required=True)
    q = sub.add_parser("compare")
    q.add_argument("--data", required=True)
    t.add_argument("--keep-fitted", default=None, metavar="FILE",
                   help="also keep the fitted groups (joblib, for developers; never shipped)")
    k = sub.add_parser("convert")
    k.add_argument("--fitted", required=True, metavar="FILE", help="fitted groups: train --keep-fitted's file, or the "
                   "pre-ONNX shipped model (git show 4d163f0:resources/models/default_attributes.joblib)")
    a = p.parse_args()
    {"generate": cmd_generate, "train": cmd_train, "calibrate": cmd_calibrate, "compare": cmd_compare,
     "convert": cmd_convert}[a.cmd](a)


if __name__ == "__main__":
    main()
