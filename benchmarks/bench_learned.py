"""Cost of learned and estimated attributes per track, cold start, and training time of the ensemble.

    .venv/bin/python benchmarks/bench_learned.py predict [--tracks 20]
    .venv/bin/python benchmarks/bench_learned.py cold [--runs 7] [--reference-tree DIR]
    .venv/bin/python benchmarks/bench_learned.py train [--rows 2000] [--budget N] [--jobs N]

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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("predict")
    q.add_argument("--tracks", type=int, default=20)
    c = sub.add_parser("cold")
    c.add_argument("--runs", type=int, default=7)
    c.add_argument("--reference-tree", default=None, metavar="DIR",
                   help="another checkout to compare with, e.g. `git worktree add --detach /tmp/ref COMMIT`")
    t = sub.add_parser("train")
    t.add_argument("--rows", type=int, default=2000)
    t.add_argument("--budget", type=int, default=None, help="default: training.DEFAULT_BUDGET")
    t.add_argument("--jobs", type=int, default=None, help="default: stacking.default_jobs()")
    a = p.parse_args()
    {"predict": bench_predict, "cold": bench_cold, "train": bench_train}[a.cmd](a)


if __name__ == "__main__":
    main()
