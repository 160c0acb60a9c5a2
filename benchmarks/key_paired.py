"""Two versions of the key method on the same files: paired MIREX difference with an interval.

    PYTHONPATH=. .venv/bin/python benchmarks/key_paired.py --before TREE_A --after TREE_B CORPUS_DIR [...]

TREE_A and TREE_B are source trees of this project (e.g. `git archive REV | tar -x -C TREE`);
each one's musicrec_engine/attributes/measured/key.py is loaded on its own and given the same
spectrum of every file of each corpus (any folder with a truth.csv from tools.corpus). Printed per
corpus: both MIREX-weighted scores, their paired difference with a 95 % interval that resamples
pieces (a piece's clean and degraded copies together), and how many files changed answer.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_attributes as ba  # noqa: E402
from musicrec_engine.attributes import KEY_NAMES  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402
from tools import corpus  # noqa: E402


def key_module(tree: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, tree / "musicrec_engine/attributes/measured/key.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    return mod


def key_name(key: int, mode: int) -> str:
    return "none" if key < 0 else f"{KEY_NAMES[key]} {'major' if mode == 1 else 'minor'}"


def paired(values: np.ndarray, pieces: np.ndarray, reps: int = 2000) -> tuple[float, float]:
    names, inv = np.unique(pieces, return_inverse=True)
    sums, counts = np.bincount(inv, weights=values), np.bincount(inv)
    idx = np.random.default_rng(0).integers(0, len(names), size=(reps, len(names)))
    lo, hi = np.percentile(sums[idx].sum(1) / counts[idx].sum(1), [2.5, 97.5])
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, required=True)
    ap.add_argument("corpora", type=Path, nargs="+")
    ap.add_argument("--changes", action="store_true", help="also list every file whose answer changed")
    args = ap.parse_args()
    before, after = key_module(args.before, "key_before"), key_module(args.after, "key_after")
    print("| corpus | files | before | after | after - before, 95 % | changed (better / worse) |")
    print("|---|---|---|---|---|---|")
    for d in args.corpora:
        rows = corpus.read_truth(d / corpus.TRUTH_CSV)
        a, b, changes = [], [], []
        for r in rows:
            y, _ = ba.decode(r["file"])
            spec = Spectrum(y)
            ea, eb = before.estimate(spec), after.estimate(spec)
            a.append(ba.mirex(ea.key, ea.mode, r["key"], r["mode"]))
            b.append(ba.mirex(eb.key, eb.mode, r["key"], r["mode"]))
            if (ea.key, ea.mode) != (eb.key, eb.mode):
                changes.append(f"  {r['path']}: truth {key_name(r['key'], r['mode'])}, "
                               f"{key_name(ea.key, ea.mode)} ({ea.confidence:.2f}) -> "
                               f"{key_name(eb.key, eb.mode)} ({eb.confidence:.2f})")
        a, b = np.array(a), np.array(b)
        diff = b - a
        lo, hi = paired(diff, np.array([r["piece"] for r in rows]))
        print(f"| {d.name} | {len(rows)} | {a.mean():.3f} | {b.mean():.3f} | {diff.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] | "
              f"{int((diff != 0).sum())} ({int((diff > 0).sum())} / {int((diff < 0).sum())}) |", flush=True)
        if args.changes:
            print("\n".join(changes), flush=True)


if __name__ == "__main__":
    main()
