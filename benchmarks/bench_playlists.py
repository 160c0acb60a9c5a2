"""How long a playlist takes to make from a big library, against a plain "similar tracks" search
over the same library in the same run (the reference).

    python benchmarks/bench_playlists.py [--tracks 10000] [--size 30] [--repeats 5]
        [--cold-runs 5 [--against OLD_TREE]]

The library is real (SQLite in a temporary data folder, made through Library.store_analysis) with
generated feature vectors of the real shapes (MFCC-273 and the 235 statistical values) and
attributes, 700 artists, a rating on one track in twenty and a p(like) on every track. Cold is the
first playlist of a fresh Engine: once with no sound space saved (reading every track's vectors
and fitting it, as after an analysis) and once with the space the first one saved (as after a
restart); warm is every later one. The target is a 30-track playlist from 10,000 tracks in under 0.5 s.

The fit whitens with search/sound.py's whitening() on one BLAS thread; the last tables time an SVD
of the same shape with OpenBLAS's default threads and with one, and that SVD against whitening()
(the Gram matrix's eigenvectors), alternately, in this run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.provenance import announce  # noqa: E402


def build(home: Path, n: int, seed: int = 0) -> None:
    from musicrec_engine.attributes import Attribute
    from musicrec_engine.engine import Engine

    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (200, 273 + 235))
    names = {"mfcc": [f"m{i}" for i in range(273)], "stats": [f"s{i}" for i in range(235)]}
    eng = Engine(home)
    lib = eng.library
    genres = ["Jazz", "Rock", "Soul", "Folk", "Electronic", "Hip-Hop", "Classical", "Pop"]
    with lib.batch():
        for i in range(n):
            v = centres[i % 200] + rng.normal(0, 0.6, 273 + 235)
            attrs = {"tempo": rng.uniform(60, 180), "key": rng.integers(12), "mode": rng.integers(2),
                     **{a: rng.random() for a in ("energy", "valence", "danceability", "acousticness",
                                                   "instrumentalness", "liveness", "speechiness")},
                     "loudness": rng.uniform(-20, -5)}
            res = SimpleNamespace(path=str(home / "music" / f"{i:05d}.flac"), status="ok", error=None,
                                  duration=float(rng.uniform(120, 420)), content_hash=f"h{i}",
                                  features={"mfcc": v[:273].astype(np.float32), "stats": v[273:].astype(np.float32)},
                                  feature_names=names, schema_hash={"mfcc": "m1", "stats": "s1"},
                                  attributes={k: Attribute(float(x), "measured", 1.0) for k, x in attrs.items()})
            lib.store_analysis(res, tags={"title": f"Track {i}", "artist": f"Artist {i % 700}",
                                          "album": f"Album {i // 10}", "genre": genres[i % len(genres)],
                                          "year": 1960 + i % 60})
    ids = [t["id"] for t in lib.tracks()]
    lib.set_predictions({i: float(p) for i, p in zip(ids, rng.random(len(ids)), strict=True)})
    for i in ids[::20]:
        lib.set_rating(i, int(rng.random() < 0.6))
    eng.close()


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def svd_threads(n: int, d: int, repeats: int) -> dict[str, float]:
    """Median seconds of the sound space's SVD of an n x d matrix, default BLAS threads vs one."""
    from threadpoolctl import threadpool_info, threadpool_limits

    z = np.random.default_rng(1).normal(size=(n, d))
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    default = max((i["num_threads"] for i in blas), default=1)
    times: dict[str, list[float]] = {f"default ({default} threads)": [], "one thread (what the app runs)": []}
    for _ in range(repeats):  # alternate, so both see the same load
        for name, limit in zip(times, (None, 1), strict=True):
            with threadpool_limits(limits=limit, user_api="blas"):
                times[name] += timed(lambda: np.linalg.svd(z, full_matrices=False), 1)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--svd-repeats", type=int, default=3, help="runs of each SVD variant (0: skip)")
    ap.add_argument("--cold-runs", type=int, default=0,
                    help="first playlists in fresh interpreters, CPU and wall seconds (0: skip)")
    ap.add_argument("--against", metavar="TREE", help="with --cold-runs: also run another source tree's "
                    "code (e.g. an older revision from `git archive`), alternating with this one")
    args = ap.parse_args()
    announce(args)
    import os

    print(f"# OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}")
    from musicrec_engine.engine import Engine

    with tempfile.TemporaryDirectory(prefix="bench-playlists-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        build(home, args.tracks)
        print(f"# library of {args.tracks} tracks built in {time.perf_counter() - t0:.1f} s")
        with Engine(home) as eng:
            ids = [t["id"] for t in eng.library.tracks()]
        seed, other = ids[17], ids[len(ids) // 2]
        cold = {}
        for name in (COLD_FIT, COLD_SAVED):  # the first fits and saves the sound space, the second reads it
            with Engine(home) as eng:
                t0, c0 = time.perf_counter(), time.process_time()
                eng.make_playlist("seeds", seeds=[seed], size=args.size)
                cold[name] = time.perf_counter() - t0
                cold[f"{name}, CPU seconds"] = time.process_time() - c0
        eng = Engine(home)
        kinds = {
            "reference: similar(top=N)": lambda: eng.similar(track_id=seed, top=args.size, source="library"),
            "more like this (1 seed)": lambda: eng.make_playlist("seeds", seeds=[seed], size=args.size),
            "more like this (3 seeds)": lambda: eng.make_playlist("seeds", seeds=[seed, other, ids[5]], size=args.size),
            "taste radio": lambda: eng.make_playlist("taste", size=args.size, discover=0),
            "path A -> B": lambda: eng.make_playlist("path", start=seed, end=other, size=args.size),
            "filter tag:jazz energy<0.5": lambda: eng.make_playlist("filter", expression="tag:jazz energy<0.5",
                                                                     size=args.size),
            "60 minutes, diversity 0.5, gap 3": lambda: eng.make_playlist("seeds", seeds=[seed], minutes=60,
                                                                           diversity=0.5, artist_gap=3),
        }
        rows = {name: statistics.median(timed(fn, args.repeats)) for name, fn in kinds.items()}
        rows.update(cold)
        print_times(f"{args.size}-track playlists from {len(ids)} tracks (median of {args.repeats}, warm)", "what",
                    rows, "reference: similar(top=N)", target=0.5)
        eng.close()
        if args.cold_runs:
            print_cold(cold_runs(home, args.cold_runs, args.against))
    if args.svd_repeats:
        d = 273 + 235
        print_times(f"The sound space's SVD, {args.tracks} x {d} (median of {args.svd_repeats}, alternating)",
                    "BLAS threads", svd_threads(args.tracks, d, args.svd_repeats), "one thread (what the app runs)")
        print_times(f"The sound space's whitening, {args.tracks} x {d} on one BLAS thread (median of "
                    f"{args.svd_repeats}, alternating)", "how", whitening_ways(args.tracks, d, args.svd_repeats),
                    "numpy SVD of the tracks (before)")
    return 0


COLD_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from musicrec_engine.engine import Engine
eng = Engine(Path(sys.argv[2]))
if sys.argv[3] == "fit":  # as after an analysis: no saved sound space (older code never saves one)
    for f in (eng.paths.data / "index").glob("sound-space*"):
        f.unlink()
seed = eng.library.query("SELECT id FROM tracks ORDER BY id LIMIT 1 OFFSET 17")[0][0]
import musicrec_engine.playlists.generate, musicrec_engine.search.similarity  # imports are not timed
t0, c0 = time.perf_counter(), time.process_time()
eng.make_playlist("seeds", seeds=[seed], size=30)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
"""


def cold_runs(home: Path, runs: int, against: str | None) -> dict[str, list[dict]]:
    """The first playlist of a fresh interpreter and engine, `runs` times per case, the cases
    alternating: this tree with no saved sound space and with the one the run before saved, and
    (with `against`) the other tree with none."""
    import json
    import os
    import subprocess

    here = str(Path(__file__).resolve().parents[1])
    cases = [(f"{against} (other tree), nothing saved", against, "fit")] if against else []
    cases += [("this tree, no saved sound space", here, "fit"), ("this tree, space saved by the run before", here,
                                                                  "saved")]
    out: dict[str, list[dict]] = {name: [] for name, _, _ in cases}
    for _ in range(runs):
        for name, tree, mode in cases:
            r = subprocess.run([sys.executable, "-c", COLD_CHILD, tree, str(home), mode], capture_output=True,
                               text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
            out[name].append(json.loads(r.stdout.strip().splitlines()[-1]))
    return out


def print_cold(runs: dict[str, list[dict]]) -> None:
    n = len(next(iter(runs.values())))
    print(f"\nFirst playlist of a fresh interpreter, 30 tracks (median [min, max] of {n}, cases alternating)\n")
    print("| code | CPU seconds | wall seconds |\n|---|---:|---:|")
    for name, rs in runs.items():
        c, w = [r["cpu"] for r in rs], [r["wall"] for r in rs]
        print(f"| {name} | {statistics.median(c):.2f} [{min(c):.2f}, {max(c):.2f}] | "
              f"{statistics.median(w):.2f} [{min(w):.2f}, {max(w):.2f}] |")


COLD_FIT = "first playlist of a fresh engine, sound space not fitted yet (after an analysis)"
COLD_SAVED = "first playlist of a fresh engine, sound space saved by an earlier one (a restart)"


def whitening_ways(n: int, d: int, repeats: int) -> dict[str, float]:
    """Median seconds of the sound space's top-16 whitening of an n x d z-scored matrix: an SVD of
    the matrix (what the fit ran before) and the eigenvectors of its Gram matrix (search/sound.py)."""
    from threadpoolctl import threadpool_limits

    from musicrec_engine.search.sound import whitening

    z = np.random.default_rng(1).normal(size=(n, d))
    ways = {"numpy SVD of the tracks (before)": lambda: np.linalg.svd(z, full_matrices=False),
            "eigenvectors of the d x d Gram matrix (now)": lambda: whitening(z, 16, 1.0)}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeats):
        for name, fn in ways.items():
            with threadpool_limits(limits=1, user_api="blas"):
                times[name] += timed(fn, 1)
    return {name: statistics.median(t) for name, t in times.items()}


def print_times(title: str, what: str, rows: dict[str, float], reference: str, target: float | None = None) -> None:
    """A Markdown table of seconds, each also as a multiple of the row named `reference`."""
    ref = rows[reference]
    print(f"\n{title}\n")
    print(f"| {what} | seconds | × reference |" + (f" under {target} s |" if target else ""))
    print("|---|---:|---:|" + (":---:|" if target else ""))
    for name, s in rows.items():
        print(f"| {name} | {s:.3f} | {s / ref:.1f} |" + (f" {'yes' if s < target else 'no'} |" if target else ""))


if __name__ == "__main__":
    sys.exit(main())
