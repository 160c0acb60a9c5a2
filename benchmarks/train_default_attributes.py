"""Train the shipped default model for speechiness, acousticness, liveness and instrumentalness.

Protocol: clips from tools.trainset with exact ground truth. Every General MIDI program, drum
kit, espeak-ng voice and sentence belongs to one of two pools (tools/trainset.py, by a hash of its
name). The model is trained on seed 1 of the training pools rendered with FluidR3 GM, and scored
once on two held-out sets: seed 3 of the training pools (the "seen generator": new melodies,
mixes and rooms, the same presets and voices) and seed 2 of the held-out pools rendered with
MuseScore General (the "unseen generator": no program, kit, voice, sentence or SoundFont of
training). The unseen figures become the manifest's metrics and the confidence shown with each
value (training/heldout.py). Inputs: the descriptor vector of attributes/estimated.py (its schema
hash goes into the manifest). About 20 CPU-minutes of generation and 3 of training:

    B=benchmarks/train_default_attributes.py
    nice -n 10 .venv/bin/python $B generate --seed 1 --count 1600 --pool train --soundfont fluidr3 --out W/train.npz
    nice -n 10 .venv/bin/python $B generate --seed 3 --count 300 --pool train --soundfont fluidr3 --out W/seen.npz
    nice -n 10 .venv/bin/python $B generate --seed 2 --count 300 --pool heldout --soundfont musescore \
        --batch 100 --tags --out W/unseen.npz
    nice -n 10 .venv/bin/python $B train --train W/train.npz --seen W/seen.npz --unseen W/unseen.npz \
        --keep-fitted W/fitted.joblib
    .venv/bin/python $B calibrate --data W/train.npz
    .venv/bin/python $B convert --fitted W/fitted.joblib   # the fitted model to ONNX again
    .venv/bin/python $B compare --data W/unseen.npz

While choosing descriptors, evaluate on other seeds of the training pools (e.g. --seed 4 as
--unseen) and keep the held-out pools for the one final evaluation.

`train` writes resources/models/default_attributes.onnx + default_attributes.manifest.json
(training.save_model: converted to ONNX and checked against the fitted model) and prints the
held-out table; with --keep-fitted it also keeps the fitted scikit-learn/XGBoost groups as a joblib
file for developers (never shipped, never read by the app), which `bench_learned.py models` reads
to print every base model's figures. `calibrate` writes resources/models/estimated_calibration.json.
`convert` converts such a fitted file again (e.g. after a converter fix) and rewrites the model and
the manifest's format, checksum and groups, keeping its metrics and dates.
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

import provenance  # noqa: E402

from musicrec_engine.attributes import estimated, modelfile  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402
from tools import trainset  # noqa: E402

MODEL_DIR = ROOT / "resources" / "models"
MODEL_NAME = "default_attributes"
SPOTIFY_SAMPLE = ROOT.parent / "shared" / "data" / "spotify-sample" / "tracks_features_sample_1k.csv"


def cmd_generate(a) -> None:
    X, rows, tags = [], [], {}
    t0 = time.time()
    if a.tags:
        from musicrec_engine import listening
    for y, labels in trainset.generate(a.count, a.seed, seconds=a.seconds, batch=a.batch, start=a.start,
                                       pool=a.pool, soundfont=a.soundfont):
        spec = Spectrum(y)
        X.append(estimated.descriptor_vector(spec))
        rows.append(labels)
        if a.tags:  # MusiCNN's tag probabilities, to ask whether the real-music taggers hear these facts
            for vocab, probs in listening.listen(y, trainset.SR).tags.items():
                tags.setdefault(f"tags_{vocab}", []).append(list(probs.values()))
        if len(rows) % 50 == 0:
            print(f"{len(rows)}/{a.count} clips, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    cols = {c: np.array([np.nan if r[c] == "" else r[c] for r in rows], dtype=float)
            for c in trainset.LABEL_COLUMNS if c != "family"}
    np.savez_compressed(a.out, X=np.array(X), names=np.array(estimated.descriptor_names()),
                        schema=estimated.descriptor_schema_hash(), seed=a.seed, seconds=a.seconds,
                        pool=a.pool, soundfont=a.soundfont, **cols, **{k: np.array(v, np.float32) for k, v in tags.items()})
    print(f"wrote {a.out}: {len(rows)} clips in {time.time() - t0:.0f} s")


def load_clips(paths: str) -> dict:
    """One data set from one or more npz files (comma-separated parts of the same seed)."""
    parts = [dict(np.load(p)) for p in paths.split(",")]
    out = dict(parts[0])
    for k, v in out.items():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and k != "names":
            out[k] = np.concatenate([p[k] for p in parts])
    return out


def _figures_table(manifest: dict) -> list[str]:
    """The held-out figures of a trained default model: each attribute on the seen-generator and
    the unseen-generator clips, AUC and accuracy with their 95% bootstrap intervals."""
    ci = lambda m, k: f"{m[k]:.3f} [{m[k + '_ci'][0]:.3f}, {m[k + '_ci'][1]:.3f}]"  # noqa: E731
    out = ["| attribute | held-out task | held-out clips | AUC [95% CI] | accuracy [95% CI] | R2 | clips |",
           "|---|---|---|---|---|---|---|"]
    metrics = manifest["metrics"]
    for name, unseen in metrics["attributes"].items():
        for kind, m in (("seen generator", metrics.get("seen_generator", {}).get(name)), ("unseen generator", unseen)):
            if m is None:
                continue
            r2 = f"{m['r2']:.3f}" if "r2" in m else "-"
            out.append(f"| {name} | {m['task']} | {kind} | {ci(m, 'auc')} | {ci(m, 'accuracy')} | {r2} | {m['rows']} |")
    return out


def cmd_train(a) -> None:
    from musicrec_engine.attributes.training import train as training

    provenance.announce(a)
    tr, unseen = load_clips(a.train), load_clips(a.unseen)
    seen = load_clips(a.seen) if a.seen else None
    for d in (tr, unseen, seen):
        assert d is None or str(d["schema"]) == estimated.descriptor_schema_hash(), "descriptors changed since generation"
    budget = training.DEFAULT_BUDGET if a.budget is None else a.budget
    result = training.train_default(tr, unseen, seen, budget=budget, report_dir=a.report,
                                    progress=lambda d, n, m: print(f"  {m}", file=sys.stderr, flush=True))
    if a.keep_fitted:
        import joblib

        joblib.dump({"groups": result.groups, "manifest": result.manifest}, a.keep_fitted, compress=3)
        print(f"kept the fitted groups in {a.keep_fitted}")
    out = training.save_model(result, MODEL_DIR, MODEL_NAME)
    print(f"wrote {out}")
    print(f"\n{result.manifest['protocol']}; {len(tr['X'])} training clips of {float(tr['seconds']):.0f} s\n")
    print("\n".join(_figures_table(result.manifest)))
    print(f"\nconfidence shown with each value: {result.manifest['confidence_rule']}")
    for name, m in result.manifest["metrics"]["attributes"].items():
        print(f"  {name}: {m['confidence']:.3f}")
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

    data = load_clips(a.data)
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

    full = load_clips(a.data)
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
    g.add_argument("--pool", choices=trainset.POOLS, default="train",
                   help="the programs, kits, voices and sentences to draw from (tools/trainset.py)")
    g.add_argument("--soundfont", choices=sorted(trainset.SOUNDFONTS), default="fluidr3")
    g.add_argument("--batch", type=int, default=40, help="clips per fluidsynth call (each loads the SoundFont)")
    g.add_argument("--tags", action="store_true", help="also store MusiCNN's tag probabilities (tags_msd, tags_mtt)")
    g.add_argument("--out", required=True)
    t = sub.add_parser("train")
    t.add_argument("--train", required=True)
    t.add_argument("--unseen", required=True, help="held-out clips of the held-out pools and second SoundFont "
                   "(their figures become the manifest's metrics and the values' confidence)")
    t.add_argument("--seen", default=None, help="held-out clips of a new seed of the training pools")
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
