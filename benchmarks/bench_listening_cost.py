"""What the listening model adds to an analysis: CPU time by step, peak memory, and the first file
after a cold start, for a 30-second and a 4-minute file (and 10 minutes, the analysis cap).

In one process, per file: decode, features, the other attributes, then `listening.listen` (both
models, one thread), each timed in CPU seconds, with the models' loading timed apart. Then `musicrec analyze FILE --json` as a user
runs it, from a cold process in a fresh data folder, several times: wall time to the result, CPU
time and peak resident memory of the child, with the listening step and without it
(MUSICREC_LISTEN_PATCHES=0): that reference in the same run keeps the ratios fair on a busy machine.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_listening_cost.py [--repeats 3] [--patches 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def steps(path: Path, patches: int) -> dict[str, float]:
    from musicrec_engine import features, listening
    from musicrec_engine.attributes.compute import compute_all
    from musicrec_engine.audio import decode as audio

    out = {}
    t = cpu()
    dec = audio.decode(path)
    out["decode"] = cpu() - t
    t = cpu()
    spec = features.Spectrum(dec.y)
    vecs = features.extract(spec)
    out["features"] = cpu() - t
    t = cpu()
    compute_all(spec, vecs)
    out["other attributes"] = cpu() - t
    t = cpu()
    listening.listen(dec.y, dec.sr, n_patches=patches)
    out["listening (both models)"] = cpu() - t
    return out


def cold(path: Path, patches: int) -> dict[str, float]:
    """One `musicrec analyze` in a fresh process and data folder; patches=0 is the reference run
    without the listening step. Resource use of that child alone (os.wait4)."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "MUSICREC_HOME": home, "MUSICREC_LISTEN_PATCHES": str(patches),
               "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "musicrec_engine", "analyze", str(path), "--json", "--jobs", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
        first = p.stdout.readline()
        wall = time.perf_counter() - t0
        p.stdout.read()
        _, _, ru = os.wait4(p.pid, 0)
        p.returncode = 0
        row = json.loads(first)
        assert row["status"] == "ok" and (row["tags"] or not patches), row
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "peak_mb": ru.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--patches", type=int, default=4)
    ap.add_argument("--lengths", default="30,240,600", help="seconds of generated music per file")
    ns = ap.parse_args()
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"bench_listening_cost.py --repeats {ns.repeats} --patches {ns.patches} --lengths {ns.lengths}  (git {rev}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    from musicrec_engine import listening
    from musicrec_engine.audio import synth

    t = cpu()
    nets = [listening.load(m) for m in listening.MODELS]  # imports onnxruntime (or torch without the exports)
    load = cpu() - t
    backend = "onnxruntime" if all(isinstance(n, listening.OnnxNet) for n in nets) else "torch"
    lengths = [int(x) for x in ns.lengths.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for s in lengths:
            files[s] = synth.write(Path(tmp) / f"music {s}s.flac", synth.music(float(s), bpm=118, seed=s))
        print(f"\nloading both models on {backend}, its import included: {load:.2f} CPU-s, once per process")
        print("\n## CPU-s by step, one core (median of repeats)")
        print("| file | decode | features | other attributes | listening (both models) | listening share |")
        print("|---|---|---|---|---|---|")
        for s, f in files.items():
            runs = [steps(f, ns.patches) for _ in range(ns.repeats)]
            med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
            total = sum(med.values())
            print(f"| {s} s | " + " | ".join(f"{v:.2f}" for v in med.values())
                  + f" | {med['listening (both models)'] / total:.0%} of {total:.2f} |")
        print("\n## `musicrec analyze FILE --json` from a cold process, fresh data folder (median of repeats)")
        print("| file | listening | wall s to the result | CPU s | peak RSS MB |")
        print("|---|---|---|---|---|")
        for s, f in files.items():
            for patches in (0, ns.patches):
                runs = [cold(f, patches) for _ in range(ns.repeats)]
                med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
                label = f"{patches} patches" if patches else "off (reference)"
                print(f"| {s} s | {label} | {med['wall']:.2f} | {med['cpu']:.2f} | {max(r['peak_mb'] for r in runs):.0f} |")


if __name__ == "__main__":
    main()
