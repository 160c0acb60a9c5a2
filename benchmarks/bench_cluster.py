"""Throughput of `analyze --cluster`: the same real recordings analysed on a Dask LocalCluster of
two single-threaded worker processes and of one, on this machine. Target: two workers at least
1.8x the throughput of one (the Dask path must not serialise what the process pool runs in
parallel). The local process pool with --jobs 2 is printed beside them as the reference.

    nice -n 10 python benchmarks/bench_cluster.py [--tracks 16] [--repeats 2] [--format mp3]

The tracks are an evenly spaced sample of benchmarks/realmusic.py's set (Debian's game-music and
song packages, read in place). Each run starts a fresh cluster, warms every worker with one short
generated clip (imports and model loads are a worker's one-time start, not throughput), then
times the sample from the first submission to the last result; runs alternate between one and
two workers so that a change in the machine's load touches both. The machine's load is printed
before and after: on a shared machine, the ratio means something only when the load is low.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import provenance, realmusic  # noqa: E402


def sample(n: int, fmt: str | None) -> list[realmusic.Track]:
    tracks = sorted((t for _, t in realmusic.all_tracks(realmusic.albums(fmt=fmt)) if t.path.exists()),
                    key=lambda t: t.key)
    if not tracks:
        sys.exit(realmusic.INSTALL_HINT)
    step = len(tracks) / min(n, len(tracks))
    return [tracks[int(i * step)] for i in range(min(n, len(tracks)))]


def warm_clips(folder: Path) -> list[str]:
    """Six short generated clips: enough for the local pool to start its two workers."""
    from musicrec_engine.audio.synth import music, write

    return [str(write(folder / f"warm{i}.flac", music(3.0, seed=i))) for i in range(6)]


def run_cluster(workers: int, files: list[str], clip: str) -> tuple[float, int, float, float]:
    """(wall seconds for the files, files ok, CPU seconds the workers spent, files in progress on
    average) on a fresh LocalCluster of `workers` processes. The last is the sum of each file's
    own analysis time over the batch's wall time: whether the cluster kept every worker busy,
    whatever else the machine was doing (a slow machine makes each file slower, not fewer at once)."""
    from distributed import Client, LocalCluster

    from musicrec_engine.cluster.dask_runner import DaskRunner, worker_analyze

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=120)
        client.run(worker_analyze, clip, "full")  # every worker: imports, decoders, models loaded
        cpu0 = sum(client.run(time.process_time).values())
        t0 = time.perf_counter()
        results = list(DaskRunner(cluster.scheduler_address)(files, "full", threading.Event()))
        wall = time.perf_counter() - t0
        cpu = sum(client.run(time.process_time).values()) - cpu0
    return wall, sum(r.ok for r in results), cpu, sum(r.seconds for r in results) / wall


def run_pool(files: list[str], clips: list[str]) -> tuple[float, int, float]:
    """The reference: today's local process pool, two workers, its fork server started and warm."""
    from musicrec_engine.analysis.pipeline import analyze_paths

    list(analyze_paths(clips, jobs=2))
    t0 = time.perf_counter()
    results = list(analyze_paths(files, jobs=2))
    wall = time.perf_counter() - t0
    return wall, sum(r.ok for r in results), sum(r.seconds for r in results) / wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=16, help="tracks in the sample (default 16)")
    ap.add_argument("--repeats", type=int, default=2, help="timed runs per setting (default 2)")
    ap.add_argument("--format", choices=sorted(realmusic.FORMATS), default=None,
                    help="the converted copies (realmusic.materialize) instead of the files as shipped")
    ap.add_argument("--no-pool", action="store_true", help="skip the local process pool reference")
    args = ap.parse_args()
    provenance.announce(args)
    tracks = sample(args.tracks, args.format)
    files = [str(t.path) for t in tracks]
    minutes = sum(t.seconds for t in tracks) / 60
    print(f"# {len(files)} tracks, {minutes:.1f} min of audio ({', '.join(sorted({Path(f).suffix for f in files}))}); "
          f"listening patches {os.environ.get('MUSICREC_LISTEN_PATCHES', 'default')}")
    load_before = os.getloadavg()
    runs: dict[str, list[float]] = {"1 Dask worker": [], "2 Dask workers": [], "local pool, 2 processes": []}
    cpus: dict[str, list[float]] = {k: [] for k in runs}
    busy: dict[str, list[float]] = {k: [] for k in runs}
    with tempfile.TemporaryDirectory() as tmp:
        clips = warm_clips(Path(tmp))
        for r in range(args.repeats):
            for workers in (1, 2) if r % 2 == 0 else (2, 1):
                wall, ok, cpu, at_once = run_cluster(workers, files, clips[0])
                name = f"{workers} Dask worker{'s' if workers > 1 else ''}"
                runs[name].append(wall)
                cpus[name].append(cpu)
                busy[name].append(at_once)
                print(f"# run {r + 1}: {workers} worker(s): {wall:.1f} s, {cpu:.1f} CPU-s in the workers, "
                      f"{at_once:.2f} files in progress on average, {ok}/{len(files)} ok, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
            if not args.no_pool:
                wall, ok, at_once = run_pool(files, clips)
                runs["local pool, 2 processes"].append(wall)
                busy["local pool, 2 processes"].append(at_once)
                print(f"# run {r + 1}: local pool: {wall:.1f} s, {ok}/{len(files)} ok", flush=True)
    print(f"\nload (1/5/15 min) before: {' / '.join(f'{x:.1f}' for x in load_before)}; after: "
          f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    one = statistics.median(runs["1 Dask worker"])
    print("| setting | runs (wall s) | median wall s | tracks/min | audio min per wall min | workers' CPU-s "
          "per track | files in progress | vs 1 Dask worker |")
    print("|---|---|---|---|---|---|---|---|")
    for name, walls in runs.items():
        if not walls:
            continue
        med = statistics.median(walls)
        cpu = f"{statistics.median(cpus[name]) / len(files):.2f}" if cpus[name] else "-"
        at_once = f"{statistics.median(busy[name]):.2f}" if busy[name] else "-"
        print(f"| {name} | {', '.join(f'{w:.1f}' for w in walls)} | {med:.1f} | {60 * len(files) / med:.1f} | "
              f"{60 * minutes / med:.1f} | {cpu} | {at_once} | {one / med:.2f}x |")
    ratio = one / statistics.median(runs["2 Dask workers"])
    print(f"\n2 Dask workers vs 1: {ratio:.2f}x (target >= 1.8x: {'met' if ratio >= 1.8 else 'NOT met'})")


if __name__ == "__main__":
    main()
