"""Bundle benchmark: size on disk and cold start to the first analysed file.

    .venv/bin/python benchmarks/bench_bundle.py [--bundle dist/MusicRec] [--runs 3]

Build the bundle first (`./dev bundle`). Every start runs the bundle as a user's machine would:
`env -i`, no PATH, a new $HOME (so no numba, font or Qt cache from an earlier run) unless the row
says "later". Timed from the launch to the moment the file is in the library:
  bare start   `musicrec --version`: process start + Python + the CLI parser (reference)
  cli          `musicrec analyze FILE`, the command the app runs for each batch
  app          `musicrec-app FILE` (offscreen Qt), polled until the track is in the library
A "first" row is the first run in a fresh $HOME; "later" rows reuse that $HOME with a new
library, as a user's second launch does. The file is a generated 30 s MP3.

    .venv/bin/python benchmarks/bench_bundle.py --cold [--runs 5]

--cold times cold processes against the listening step switched off in the same run
(MUSICREC_LISTEN_PATCHES=0, the reference), alternating, each in a fresh $HOME and library, with
the CPU time of the process (user + system) beside the wall time: on a machine other jobs share,
the CPU seconds are what can be trusted. The page cache cannot be emptied for one program without
root's drop_caches, which would slow everyone's jobs; instead every file of the bundle is evicted
from it with posix_fadvise(DONTNEED) before an "evicted" run (what a first start after a reboot
reads from disk), and the other runs find the bundle in memory, as a start soon after another does.
It also lists what the listening model adds to the bundle (weights, ONNX exports, manifest with
the licence) and whether onnxruntime would ship anyway (the attribute models run on it too).
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from provenance import announce

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


def tree_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def largest_parts(internal: Path, n: int = 8) -> list[tuple[str, int]]:
    parts = [(p.name, tree_bytes(p) if p.is_dir() else p.lstat().st_size) for p in internal.iterdir()]
    return sorted(parts, key=lambda x: -x[1])[:n]


def clean_env(home: Path) -> dict:
    return {"HOME": str(home), "PATH": "/nonexistent", "LC_ALL": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen"}


def has_track(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("SELECT count(*) FROM tracks").fetchone()[0] > 0
    except sqlite3.Error:  # the app is still creating it
        return False


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_cli(bundle: Path, home: Path, *argv: str, env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(bundle / "musicrec"), *argv], env={**clean_env(home), **(env or {})}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, its reaped children and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(d.name)] = (int(f[1]), sum(int(x) for x in f[11:15]))  # ppid; utime stime cutime cstime
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, (0, 0))[1]
        todo += [c for c, (ppid, _) in stats.items() if ppid == p]
    return total / tick


def timed_app(bundle: Path, home: Path, data: Path, song: Path, timeout: float = 300, env: dict | None = None,
              cpu: list | None = None) -> float:
    """Seconds from launch until the song is in the library; appends the app's CPU seconds to `cpu`."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(bundle / "musicrec-app"), "--home", str(data), str(song)],
                            env={**clean_env(home), **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from musicrec_engine.paths import resolve

        db = resolve(data).library_db
        while not has_track(db):
            if proc.poll() is not None or time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"the app exited or timed out (code {proc.returncode})")
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        if cpu is not None:
            cpu.append(tree_cpu(proc.pid))
        return wall
    finally:
        proc.terminate()
        proc.wait(30)


def evict(tree: Path) -> None:
    """Drop every file of `tree` from the page cache (clean pages only; nothing else is touched)."""
    for p in tree.rglob("*"):
        if p.is_file() and not p.is_symlink():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def listening_parts(internal: Path) -> None:
    """What the listening model adds to the bundle, file by file, and what it shares."""
    folder = internal / "resources" / "models" / "musicnn"
    files = sorted(folder.glob("*")) if folder.exists() else []
    print("\n## What the listening model adds to the bundle\n")
    if not files:
        print("(no resources/models/musicnn in this bundle)")
        return
    print("| file | bytes | MB |\n|---|---|---|")
    for f in files:
        print(f"| `{f.name}` | {f.stat().st_size:,} | {f.stat().st_size / 1e6:.2f} |")
    total = sum(f.stat().st_size for f in files)
    code = sum(p.stat().st_size for p in internal.rglob("*") if "listening" in p.parts and p.is_file())
    print(f"| **total** (manifest.json holds the licence text) | {total:,} | **{total / 1e6:.1f}** |")
    print(f"\nThe listening package's own files outside the archive of byte code: {code / 1e6:.2f} MB.")
    ort = internal / "onnxruntime"
    others = [p.name for p in (internal / "resources" / "models").rglob("*.onnx") if folder not in p.parents]
    print(f"onnxruntime: {tree_bytes(ort) / 1e6:.1f} MB, shipped "
          + ("anyway: the attribute models run on it too (" + ", ".join(sorted(others)[:4]) + ")"
             if others else "for the listening model only") + "; torch ships in any case (training).")


def cold_starts(bundle: Path, song: Path, work: Path, runs: int) -> None:
    """Cold processes, listening on against off, alternating; evicted and warm page cache."""
    print(f"\n## Cold process to the first analysed file, listening on and off ({runs} runs each, alternating)\n")
    rows: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for i in range(runs):
        for cache in ("evicted", "in memory"):
            for listen in ("on (4 patches)", "off (reference)"):
                env = {} if listen.startswith("on") else {"MUSICREC_LISTEN_PATCHES": "0"}
                for kind in ("cli", "app"):
                    home = work / f"cold-{i}-{cache[:2]}-{listen[:3].strip()}-{kind}"
                    home.mkdir()
                    if cache == "evicted":
                        evict(bundle)
                    c0, app_cpu = children_cpu(), []
                    if kind == "cli":
                        wall = timed_cli(bundle, home, "--home", str(home / "lib"), "analyze", "--jobs", "1",
                                         str(song), env=env)
                    else:
                        wall = timed_app(bundle, home, home / "lib", song, env=env, cpu=app_cpu)
                    cpu = children_cpu() - c0 if kind == "cli" else app_cpu[0]
                    rows.setdefault((kind, cache, listen), []).append((wall, cpu))
    print("| start | page cache | listening | median wall s | min wall s | median CPU s |")
    print("|---|---|---|---|---|---|")
    import statistics

    for (kind, cache, listen), v in rows.items():
        label = "`musicrec analyze FILE`" if kind == "cli" else "`musicrec-app FILE`"
        walls, cpus = [w for w, _ in v], [c for _, c in v]
        print(f"| {label} | {cache} | {listen} | {statistics.median(walls):.2f} | {min(walls):.2f} | "
              f"{statistics.median(cpus):.2f} |")
    print("(the app's CPU: its process, its finished children and its live descendants, read from /proc "
          "when the track appears in the library)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", default=str(ROOT / "dist" / "MusicRec"))
    ap.add_argument("--runs", type=int, default=3, help="later starts to time (the best is reported)")
    ap.add_argument("--cold", action="store_true",
                    help="only the listening model's parts and cold starts with listening on/off (see above)")
    args = ap.parse_args()
    announce(args)
    bundle = Path(args.bundle)
    if not (bundle / "musicrec-app").exists():
        print(f"no bundle at {bundle}: run ./dev bundle first", file=sys.stderr)
        return 2

    from musicrec_engine.audio import synth
    work = Path(tempfile.mkdtemp(prefix="bench-bundle-"))
    song = work / "song.mp3"
    synth.write(song, synth.music(30.0))

    if args.cold:
        listening_parts(bundle / "_internal")
        cold_starts(bundle, song, work, args.runs)
        return 0
    unpacked = tree_bytes(bundle)
    tarballs = sorted(bundle.parent.glob("MusicRec-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    print("## Size\n")
    print("| measure | bytes | MB (10^6) | MiB |\n|---|---|---|---|")
    rows = [("unpacked", unpacked)] + [(f"`{t.name}`", t.stat().st_size) for t in tarballs[-1:]]
    for name, size in rows:
        print(f"| {name} | {size:,} | {size / 1e6:.0f} | {size / 2**20:.0f} |")
    print("\nLargest parts of `_internal` (MB):", ", ".join(f"{n} {b / 1e6:.0f}"
                                                         for n, b in largest_parts(bundle / "_internal")))
    listening_parts(bundle / "_internal")
    if tarballs:
        with tarfile.open(tarballs[-1]) as tf:
            assert any(m.name.endswith("musicrec-app") for m in tf.getmembers())

    print("\n## Start to the first analysed file (30 s MP3, env -i, no PATH)\n")
    results = []
    for kind in ("cli", "app"):
        home = work / f"home-{kind}"
        home.mkdir()
        if kind == "cli":
            first = timed_cli(bundle, home, "--home", str(home / "lib0"), "analyze", str(song))
            later = min(timed_cli(bundle, home, "--home", str(home / f"lib{i + 1}"), "analyze", str(song))
                        for i in range(args.runs))
        else:
            first = timed_app(bundle, home, home / "lib0", song)
            later = min(timed_app(bundle, home, home / f"lib{i + 1}", song) for i in range(args.runs))
        results.append((kind, first, later))
    bare = min(timed_cli(bundle, work / "home-cli", "--version") for _ in range(args.runs))
    print("| start | first run s | later s | later / bare start |\n|---|---|---|---|")
    print(f"| bare start (`musicrec --version`, reference) | - | {bare:.2f} | 1.0 |")
    for kind, first, later in results:
        label = "`musicrec analyze FILE`" if kind == "cli" else "`musicrec-app FILE` until it is in the library"
        print(f"| {label} | {first:.2f} | {later:.2f} | {later / bare:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
