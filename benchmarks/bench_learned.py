"""Cost of learned and estimated attributes per track, cold start, and training time of the ensemble.

    .venv/bin/python benchmarks/bench_learned.py predict [--tracks 8]
    .venv/bin/python benchmarks/bench_learned.py cold [--runs 5] [--reference-tree DIR]
    .venv/bin/python benchmarks/bench_learned.py train [--rows 2000] [--budget N] [--jobs N]
    .venv/bin/python benchmarks/bench_learned.py models --fitted W/fitted.joblib --seen W/seen.npz --unseen W/unseen.npz
    .venv/bin/python benchmarks/bench_learned.py tags --unseen W/unseen.npz

(The defaults are the arguments of the runs in docs/BENCHMARKS.md; W is the folder of
train_default_attributes.py's clip sets and fitted groups.)

predict: per 4-minute generated track, time of the shared STFT+mel (the reference, measured in
the same run), the descriptor vector, the shipped model's prediction (learned.predict) and the
estimate formulas; targets: prediction < 20 ms per track.
cold: `musicrec analyze` of a generated 30 s MP3 in a new data folder, as a new process each time
(the start to the first analysed file, from source rather than the bundle), and inside one process
the first learned.predict (loading the model) and later ones; this tree against --reference-tree
(another checkout, e.g. a worktree of the commit before a change), alternating run by run.
train: `training.train_user`-equivalent fit of the audio recommender's six groups (11 targets) on synthetic
feature rows of the real width (MFCC-273 + stats), default budget and jobs; target < 15 min on
2 cores. CPU time is this process plus its worker processes (counted once they have exited), so on
a shared machine it says what the job costs where wall time says what the neighbours left over.
models: every base model and the stack of the shipped default model, on the seen-generator and
unseen-generator clips (tools/trainset.py): the table of docs/BENCHMARKS.md "Learned attributes".
tags: whether MusiCNN's tags could give speechiness or liveness instead, on the unseen-generator
clips (generated with --tags).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _machine() -> str:
    cpu = "?"
    if Path("/proc/cpuinfo").exists():
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.python_version()}, load {os.getloadavg()[0]:.1f}"


def _revision(tree: Path) -> str:
    r = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def _header(a) -> None:
    args = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items() if k != "cmd" and v is not None)
    print(f"bench_learned.py {a.cmd} {args} (git {_revision(ROOT)})")


def bench_predict(a) -> None:
    from audio_fixtures import music

    from musicrec_engine.attributes import estimated, learned
    from musicrec_engine.features.spectrum import Spectrum

    rows = {"shared STFT+mel+onset+chroma (reference)": [], "descriptors": [], "learned.predict (default model)": [],
            "estimate formulas": []}
    learned.predict({"descriptors": estimated.descriptor_vector(Spectrum(music(5.0)))})  # load the model once
    for i in range(a.tracks):
        y = np.tile(music(30.0, key=i % 12, bpm=80 + 5 * i, drums=i % 2 == 0, seed=i), 8)  # 4 minutes
        # CPU time of this process: on a shared machine, wall time mostly measures the neighbours.
        t0 = time.process_time()
        spec = Spectrum(y)
        _ = spec.log_mel, spec.onset_env, spec.chroma, spec.rms
        t1 = time.process_time()
        x = estimated.descriptor_vector(spec)
        t2 = time.process_time()
        out = learned.predict({"descriptors": x})
        t3 = time.process_time()
        estimated.estimate(spec)
        t4 = time.process_time()
        for k, v in zip(rows, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            rows[k].append(v)
    assert out, "no learned attributes: is resources/models/default_attributes.onnx there?"
    ref = np.median(rows["shared STFT+mel+onset+chroma (reference)"])
    _header(a)
    print(f"\n{a.tracks} generated 4-minute tracks; {_machine()}\n")
    print("| step (process CPU time) | median ms/track | p90 ms | ratio to reference |")
    print("|---|---|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {1000 * np.median(v):.1f} | {1000 * np.percentile(v, 90):.1f} | {np.median(v) / ref:.3f} |")


# One process: the first learned.predict (importing the runtime and loading the shipped model)
# and the median of later ones, in process CPU and wall seconds.
_IN_PROCESS = """
import json, time
from musicrec_engine.attributes import estimated
from musicrec_engine.audio import synth
from musicrec_engine.features.spectrum import Spectrum
x = estimated.descriptor_vector(Spectrum(synth.music(3.0, seed=5)))
c0, t0 = time.process_time(), time.perf_counter()
from musicrec_engine.attributes import learned
assert learned.predict({"descriptors": x})
c1, t1 = time.process_time(), time.perf_counter()
later = []
for _ in range(50):
    s = time.process_time()
    learned.predict({"descriptors": x})
    later.append(time.process_time() - s)
later.sort()
print(json.dumps({"first_cpu": c1 - c0, "first_wall": t1 - t0, "later_cpu": later[len(later) // 2]}))
"""


def _child(tree: Path, argv: list[str], home: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds (this child only) of `python argv` with `tree` on the path."""
    env = dict(os.environ, PYTHONPATH=str(tree), MUSICREC_HOME=str(home))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, *argv], env=env, cwd=tree, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.stdout


def bench_cold(a) -> None:
    import json

    from musicrec_engine.audio import synth

    trees = {"this tree": ROOT}
    if a.reference_tree:
        trees["reference"] = Path(a.reference_tree).resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-learned-"))
    song = work / "song.mp3"
    synth.write(song, synth.music(30.0))
    rows: dict = {}
    for run in range(a.runs):
        for name, tree in trees.items():
            home = work / f"{name.replace(' ', '-')}-{run}"
            for what, argv in (("bare start: `musicrec --version`", ["-m", "musicrec_engine", "--version"]),
                               ("`musicrec analyze` 30 s MP3, new data folder", ["-m", "musicrec_engine", "analyze",
                                                                                 str(song), "--jobs", "1"])):
                wall, cpu, _ = _child(tree, argv, home)
                rows.setdefault((what, name), []).append((wall, cpu))
            _, _, out = _child(tree, ["-c", _IN_PROCESS], home)
            m = json.loads(out)
            rows.setdefault(("first learned.predict in a process (loads the model)", name), []).append(
                (m["first_wall"], m["first_cpu"]))
            rows.setdefault(("later learned.predict", name), []).append((float("nan"), m["later_cpu"]))
    _header(a)
    print(f"{a.runs} runs alternating the trees; {_machine()}")
    for name, tree in trees.items():
        print(f"  {name}: {tree} (git {_revision(tree)})")
    print("\n| step | tree | median wall s | min wall s | median CPU s | CPU ratio to reference |")
    print("|---|---|---|---|---|---|")
    for (what, name), v in rows.items():
        wall, cpu = np.array([w for w, _ in v]), np.array([c for _, c in v])
        ref = rows.get((what, "reference"))
        ratio = f"{np.median(cpu) / np.median([c for _, c in ref]):.2f}" if ref else "-"
        fmt = (lambda x: f"{x * 1000:.2f} ms") if what.startswith("later") else (lambda x: f"{x:.3f}")
        print(f"| {what} | {name} | {fmt(np.median(wall)) if np.isfinite(wall).all() else '-'} | "
              f"{fmt(wall.min()) if np.isfinite(wall).all() else '-'} | {fmt(np.median(cpu))} | {ratio} |")


def bench_train(a) -> None:
    from musicrec_engine.attributes.training import train as training
    from musicrec_engine.attributes.training.train import Labels

    rng = np.random.default_rng(0)
    n, d = a.rows, 273 + 230
    latent = rng.normal(size=(n, 8))
    X = (latent @ rng.normal(size=(8, d)) + rng.normal(size=(n, d))).astype(np.float32)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    vals = {
        "energy": sig(latent[:, 0]), "valence": sig(latent[:, 1]), "danceability": sig(latent[:, 0] + latent[:, 2]),
        "loudness": -30 + 5 * latent[:, 0], "acousticness": sig(-latent[:, 0] + latent[:, 3]),
        "instrumentalness": sig(latent[:, 4]), "liveness": sig(latent[:, 5] - 1), "speechiness": sig(latent[:, 6] - 2),
        "key": (np.floor(sig(latent[:, 7]) * 12) % 12), "mode": (latent[:, 1] > 0).astype(float),
        "tempo": 60 + 140 * sig(latent[:, 2]),
    }
    from musicrec_engine.attributes import tempo_bin

    rows = []
    for i in range(n):
        v = {k: float(vals[k][i]) for k in vals}
        v["tempo_bin"] = float(tempo_bin(v["tempo"]))
        rows.append({"line": i + 2, "path": f"{i}.wav", "values": v})
    labels = Labels(rows, list(vals), [], "path")
    from joblib.externals.loky import get_reusable_executor

    from musicrec_engine.attributes.training import stacking

    budget = training.DEFAULT_BUDGET if a.budget is None else a.budget
    jobs = stacking.default_jobs() if a.jobs is None else a.jobs
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    res = training.train_user(labels, X, rows, "bench", budget, jobs=jobs,
                              progress=lambda dn, tot, m: print(f"  wall {time.perf_counter() - t0:6.0f} s  {m}",
                                                                file=sys.stderr, flush=True))
    dt = time.perf_counter() - t0
    get_reusable_executor().shutdown(wait=True)  # workers' CPU time is counted once they are reaped
    cpu = sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime
              for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    _header(a)
    print(f"\n{n} rows x {d} features, budget {budget}, {jobs} job(s); {_machine()} (load {load0:.1f} at start)\n")
    print("| rows | budget | jobs | wall s | CPU s (all processes) | CPU s / jobs (idle-machine floor) | target |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {n} | {budget} | {jobs} | {dt:.0f} | {cpu:.0f} | {cpu / jobs:.0f} | < 900 s wall |")
    for g, m in res.manifest["metrics"]["groups"].items():
        print(f"  {g}: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items() if k != "targets"))


def _load_sets(a) -> dict:
    """The held-out clip sets named on the command line: {"seen generator": data, "unseen generator": data}."""
    from train_default_attributes import load_clips

    return {kind: load_clips(path) for kind, path in (("seen generator", a.seen), ("unseen generator", a.unseen)) if path}


def _fitted_groups(a) -> tuple[list, str]:
    """The default model's fitted groups: from --fitted (train_default_attributes.py train
    --keep-fitted; a pickle, so only your own) or fitted again from --train."""
    if a.fitted:
        import joblib

        return joblib.load(a.fitted)["groups"], f"fitted groups from {a.fitted}"
    from train_default_attributes import load_clips

    from musicrec_engine.attributes.training import train as training

    if not (a.train and a.unseen):
        raise SystemExit("models: give --fitted FILE, or --train and --unseen to fit the groups again")
    res = training.train_default(load_clips(a.train), load_clips(a.unseen), budget=a.budget or training.DEFAULT_BUDGET)
    return res.groups, f"groups fitted again from {a.train} (budget {a.budget or training.DEFAULT_BUDGET})"


def bench_models(a) -> None:
    """Every base model and the stack of the default model, on each held-out set: the detection AUC
    of each attribute (speechiness: speech present, from the predicted value) and speechiness's R2."""
    from sklearn.metrics import r2_score, roc_auc_score

    from musicrec_engine.attributes.training import heldout, stacking

    _header(a)
    sets = _load_sets(a)
    groups, where = _fitted_groups(a)
    names = ["rf", "xgb", "svm", "ridge", "lasso", "elasticnet", "stack"]
    print(f"{where}; {_machine()}\n")
    print("| attribute | metric | held-out clips | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for g in groups:
        spec = stacking.GroupSpec(g["name"], g["kind"], g["targets"])
        for target, st in zip(spec.targets, stacking.per_target_stacks(g["model"], spec), strict=False):
            truth = heldout.TASKS[target][0]
            cands = {**dict(st.named_estimators_), "stack": st}
            for kind, data in sets.items():
                ok = ~np.isnan(np.asarray(data[truth], float))
                X, y = data["X"][ok], np.asarray(data[truth])[ok].astype(int)
                aucs, r2s = [], []
                for n in names:
                    est = cands.get(n)
                    if est is None:
                        aucs.append("-")
                        r2s.append("-")
                        continue
                    score = est.predict(X) if spec.kind == "regression" else stacking.positive_proba(est, X)
                    aucs.append("-" if score is None else f"{roc_auc_score(y, score):.3f}")
                    if spec.kind == "regression":
                        r2s.append(f"{r2_score(np.asarray(data[target], float)[ok], score):.3f}")
                print(f"| {target} | AUC | {kind} | " + " | ".join(aucs) + " |")
                if spec.kind == "regression":
                    print(f"| {target} | R2 | {kind} | " + " | ".join(r2s) + " |")
    print("\n(RidgeClassifier has no probabilities, so no AUC; the regression's bases are scored by their values.)")


def bench_tags(a) -> None:
    """Could MusiCNN's tags (the grounded attributes' evidence) give speechiness or liveness? On the
    unseen-generator clips (generate --tags), the AUC of the tag evidence for speech present and
    for an audience, against the default model's. The grounded recipe for voice is
    -raw_instrumentalness; for the rest, the single best tag of the 100 is chosen ON THIS SET, so
    its figure is optimistic."""
    from sklearn.metrics import roc_auc_score

    from musicrec_engine.attributes import grounded, learned
    from musicrec_engine.attributes.training import heldout
    from musicrec_engine.listening.vocab import TAGS

    _header(a)
    a.seen = None
    data = _load_sets(a)["unseen generator"]
    if "tags_msd" not in data:
        raise SystemExit(f"{a.unseen} has no tags: generate it with --tags")
    tags = [{v: dict(zip(TAGS[v], map(float, data[f"tags_{v}"][i]), strict=True)) for v in TAGS}
            for i in range(len(data["X"]))]
    model = [learned.predict({"descriptors": x}) for x in data["X"]]
    voice = np.array([-grounded.raw_scores(t)["instrumentalness"] for t in tags])
    print(f"{len(tags)} unseen-generator clips; {_machine()}\n")
    print("| attribute (fact) | default model AUC [95% CI] | tag evidence | AUC [95% CI] |")
    print("|---|---|---|---|")
    for attr in ("speechiness", "liveness"):
        truth = np.asarray(data[heldout.TASKS[attr][0]]).astype(int)
        m = np.array([p[attr].value for p in model])
        lo, hi = heldout.bootstrap_interval(truth, m, roc_auc_score)
        cands = {"voice tags (-raw instrumentalness)": voice}
        best = max(((v, t) for v in TAGS for t in TAGS[v]),
                   key=lambda vt: abs(roc_auc_score(truth, [x[vt[0]][vt[1]] for x in tags]) - 0.5))
        score = np.array([x[best[0]][best[1]] for x in tags])
        low = roc_auc_score(truth, score) < 0.5  # a tag that speaks against the fact counts as much
        cands[f"best single tag on this set: {best[0]} '{best[1]}'{' (low = yes)' if low else ''}"] = -score if low else score
        for name, score in cands.items():
            tlo, thi = heldout.bootstrap_interval(truth, score, roc_auc_score)
            print(f"| {attr} ({heldout.TASKS[attr][0]}) | {roc_auc_score(truth, m):.3f} [{lo:.3f}, {hi:.3f}] | {name} | "
                  f"{roc_auc_score(truth, score):.3f} [{tlo:.3f}, {thi:.3f}] |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("predict")
    q.add_argument("--tracks", type=int, default=8, help="default: the documented run's")
    c = sub.add_parser("cold")
    c.add_argument("--runs", type=int, default=5)
    c.add_argument("--reference-tree", default=None, metavar="DIR",
                   help="another checkout to compare with, e.g. `git worktree add --detach /tmp/ref COMMIT`")
    t = sub.add_parser("train")
    t.add_argument("--rows", type=int, default=2000)
    t.add_argument("--budget", type=int, default=None, help="default: training.DEFAULT_BUDGET")
    t.add_argument("--jobs", type=int, default=None, help="default: stacking.default_jobs()")
    g = sub.add_parser("tags", help="MusiCNN tag evidence for speech and audiences vs the default model")
    m = sub.add_parser("models", help="every base model and the stack on the held-out clip sets")
    m.add_argument("--fitted", default=None, metavar="FILE", help="train_default_attributes.py train --keep-fitted's file")
    m.add_argument("--train", default=None, help="else: training clips to fit the groups again")
    m.add_argument("--budget", type=int, default=None)
    m.add_argument("--seen", default=None, help="seen-generator clips (train_default_attributes.py generate)")
    for sp in (m, g):
        sp.add_argument("--unseen", required=True, help="unseen-generator clips (generate --pool heldout ...)")
    a = p.parse_args()
    {"predict": bench_predict, "cold": bench_cold, "train": bench_train, "models": bench_models,
     "tags": bench_tags}[a.cmd](a)


if __name__ == "__main__":
    main()
