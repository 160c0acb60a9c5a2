"""Catalog scale: import time and peak memory for a generated 1.2M-row CSV in the real Spotify
schema, index build and load time, and top-10 query time from 10k to 1.2M rows.

The reference measured in the same run (the machine is shared and noisy): pandas reading the
same CSV whole (`pd.read_csv`, no database) — import time is reported as a ratio to it.
Each phase runs in its own process so peak memory (ru_maxrss) belongs to that phase alone.

    .venv/bin/python benchmarks/bench_library.py [--rows 1200000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from provenance import announce, cpu_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = ["id", "name", "album", "album_id", "artists", "artist_ids", "track_number", "disc_number", "explicit",
          "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness", "instrumentalness",
          "liveness", "valence", "tempo", "duration_ms", "time_signature", "year", "release_date"]
ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))


def _ids(rng, n):
    return ["".join(r) for r in ALPHABET[rng.integers(0, 62, size=(n, 22))]]


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Rows shaped like tracks_features.csv: 22-char ids, python-list artists, albums of ~12 tracks."""
    rng = np.random.default_rng(seed)
    block = 100_000
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for start in range(0, rows, block):
            n = min(block, rows - start)
            ids, albums, artist_ids = _ids(rng, n), _ids(rng, n // 12 + 1), _ids(rng, n // 30 + 1)
            alb = (np.arange(n) // 12)
            art = (np.arange(n) // 30)
            u = rng.random((n, 7))
            key = rng.integers(0, 12, n)
            mode = rng.integers(0, 2, n)
            loud = -rng.gamma(3, 3.5, n)
            tempo = rng.normal(118, 30, n).clip(40, 220)
            dur = rng.integers(60_000, 600_000, n)
            year = rng.integers(1950, 2021, n)
            # like the real file: mostly one artist, some features, a few names with quotes
            guest = rng.random(n)
            artists = [f"['Artist {art[i] + start}']" if guest[i] < 0.85 else
                       f"['Artist {art[i] + start}', 'Guest {i % 997}']" if guest[i] < 0.98 else
                       f"['Artist {art[i] + start}', \"O'Guest {i % 97}\"]" for i in range(n)]
            for i in range(n):
                w.writerow([ids[i], f"Track {start + i} it's", f"Album {alb[i] + start}", albums[alb[i]],
                            artists[i], f"['{artist_ids[art[i]]}']", i % 12 + 1, 1,
                            "False", f"{u[i, 0]:.3f}", f"{u[i, 1]:.3f}", key[i], f"{loud[i]:.3f}", mode[i],
                            f"{u[i, 2] * 0.3:.4f}", f"{u[i, 3]:.3f}", f"{u[i, 4] ** 3:.4g}", f"{u[i, 5] * 0.6:.3f}",
                            f"{u[i, 6]:.3f}", f"{tempo[i]:.3f}", dur[i], 4.0, year[i], f"{year[i]}-01-01"])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- phases, each run in a child process -------------------------------------------------------
def phase_reference(csv_path: str) -> dict:
    import pandas as pd

    t, c = time.perf_counter(), time.process_time()
    df = pd.read_csv(csv_path)
    return {"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c, "rows": len(df),
            "peak_mb": _peak_mb()}


def phase_import(csv_path: str, home: str) -> dict:
    from musicrec_engine.library.catalogs import import_csv
    from musicrec_engine.library.store import Library

    lib = Library(Path(home) / "library.sqlite3")
    t, c = time.perf_counter(), time.process_time()
    rep = import_csv(lib, csv_path, name="bench")
    import_s, import_cpu = time.perf_counter() - t, time.process_time() - c
    from musicrec_engine.search.similarity import build_catalog_index

    t, c = time.perf_counter(), time.process_time()
    build_catalog_index(lib, rep.catalog_id, Path(home) / "index")
    return {"seconds": import_s, "cpu_s": import_cpu, "index_build_s": time.perf_counter() - t,
            "index_build_cpu_s": time.process_time() - c,
            "rows": rep.imported, "peak_mb": _peak_mb(), "catalog_id": rep.catalog_id}


def phase_query(home: str, catalog_id: int, sizes: list[int]) -> dict:
    from musicrec_engine.library.store import Library
    from musicrec_engine.search.similarity import CatalogIndex, Query, Similarity

    lib = Library(Path(home) / "library.sqlite3")
    sim = Similarity(lib, Path(home) / "index")
    t = time.perf_counter()
    idx = sim.catalog_index(catalog_id)
    load_s = time.perf_counter() - t
    n = len(idx.ids)
    rng = np.random.default_rng(1)
    out = {"load_s": load_s, "rows": n, "by_size": {}}
    sim.similar(Query(catalog_track_id=int(idx.ids[0])), top=10, source="catalog")  # first touch of the pages
    for size in sizes:
        if size > n:
            continue
        sub = CatalogIndex(idx.catalog_id, idx.ids[:size], idx.cont[:size], idx.inv[:size], idx.code[:size],
                           idx.onehot_value)
        qs = [idx.vector(int(i)) for i in rng.integers(0, size, 20)]
        times, cpu = [], []
        for q in qs:
            t, c = time.perf_counter(), time.process_time()
            sub.top(q, 10)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        out["by_size"][size] = {"median_ms": 1000 * float(np.median(times)), "max_ms": 1000 * float(np.max(times)),
                                "cpu_ms": 1000 * float(np.median(cpu))}
    # the whole path a user waits for: search + metadata + exclusions + reasons
    full, cpu = [], []
    for tid in rng.integers(0, n, 10):
        t, c = time.perf_counter(), time.process_time()
        sim.similar(Query(catalog_track_id=int(idx.ids[tid])), top=10, source="catalog", exclude_artist=True)
        full.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    out["similar_call_median_ms"] = 1000 * float(np.median(full))
    out["similar_call_cpu_ms"] = 1000 * float(np.median(cpu))
    out["peak_mb"] = _peak_mb()
    return out


def _child(name: str, *args) -> dict:
    r = subprocess.run([sys.executable, __file__, "--phase", name, *map(str, args)], capture_output=True, text=True,
                       cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_200_000)
    ap.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    ap.add_argument("--phase")
    ap.add_argument("rest", nargs="*")
    a = ap.parse_args()
    announce(a)
    if a.phase:
        fn = {"reference": phase_reference, "import": phase_import, "query": phase_query}[a.phase]
        args = a.rest
        if a.phase == "query":
            args = [args[0], int(args[1]), [int(x) for x in args[2].split(",")]]
        print(json.dumps(fn(*args)))
        return
    work = Path(a.keep or tempfile.mkdtemp(prefix="bench-library-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / "tracks_features.csv"
    t = time.perf_counter()
    if not csv_path.exists():
        generate(csv_path, a.rows)
    print(f"generated {a.rows} rows, {csv_path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    home = work / "home"
    if home.exists():
        import shutil

        shutil.rmtree(home)
    home.mkdir()
    ref = _child("reference", csv_path)
    imp = _child("import", csv_path, home)
    sizes = [s for s in (10_000, 100_000, 300_000, 600_000, 1_200_000) if s <= a.rows]
    q = _child("query", home, imp["catalog_id"], ",".join(map(str, sizes)))
    cpu = cpu_name()
    print(f"\nmachine: {os.cpu_count()} cores, {cpu}, load average {os.getloadavg()[0]:.1f}")
    print(f"rows: {imp['rows']}, CSV {csv_path.stat().st_size / 1e6:.0f} MB\n")
    print("| phase | time | peak memory | target |")
    print("|---|---|---|---|")
    print(f"| reference: pandas read_csv whole file | {ref['seconds']:.1f} s wall, {ref['cpu_s']:.1f} s CPU | "
          f"{ref['peak_mb']:.0f} MB | - |")
    print(f"| catalog import (streamed, SQLite) | {imp['seconds']:.1f} s wall, {imp['cpu_s']:.1f} s CPU "
          f"({imp['cpu_s'] / ref['cpu_s']:.1f}x reference CPU) | {imp['peak_mb']:.0f} MB (import + index build) | "
          "< 60 s, < 1.5 GB |")
    print(f"| index build (encode to memory-mapped float32) | {imp['index_build_s']:.1f} s wall, "
          f"{imp['index_build_cpu_s']:.1f} s CPU | (above) | - |")
    print(f"| index load | {1000 * q['load_s']:.0f} ms | - | < 2 s |")
    print(f"| full similar() call, top-10, exclude artist | {q['similar_call_median_ms']:.1f} ms wall, "
          f"{q['similar_call_cpu_ms']:.1f} ms CPU (median) | {q['peak_mb']:.0f} MB serving | < 50 ms, < 600 MB |")
    print("\n| rows | top-10 query, median wall | max wall | median CPU |")
    print("|---|---|---|---|")
    for size, v in q["by_size"].items():
        print(f"| {int(size):,} | {v['median_ms']:.1f} ms | {v['max_ms']:.1f} ms | {v['cpu_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
