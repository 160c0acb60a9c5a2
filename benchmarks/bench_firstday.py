"""The first day: a new user adds a folder of 500 real music files to the app. Is the window
responsive throughout, and do rows appear steadily?

    QT_QPA_PLATFORM=offscreen nice -n 10 .venv/bin/python benchmarks/bench_firstday.py [--files 500]

The folder (a temporary one) holds, in this order of preference:
  1. the real recordings as shipped by Debian's packages (benchmarks/realmusic.py), as symlinks;
  2. their copies converted to MP3/FLAC/Ogg/Opus/AAC that bench_throughput.py made, as symlinks;
  3. when that is still fewer than --files, byte-different copies of the tracks as shipped: the
     same audio with its title tag changed (the app identifies a file by its content, so a plain
     copy would be answered from its cache; a re-tagged copy is analysed again, like a second rip).
So there are fewer distinct recordings than files; the table says how many of each.

The app is the real MainWindow (offscreen) on a new library, adding the folder as "Add Folder"
does: the analysis runs in the app's child process with the app's default number of workers.
A 10 ms GUI timer records every gap between its ticks (the longest is the worst stall a user
could feel; the same window idle is the reference); the library's row count is sampled as it
goes, and printed against time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from provenance import announce  # noqa: E402


def build_folder(folder: Path, n: int) -> dict[str, int]:
    import mutagen
    import realmusic

    found = realmusic.albums()
    if not found:
        raise SystemExit(realmusic.INSTALL_HINT)
    shipped = [t.path for _, t in realmusic.all_tracks(found)]
    converted = sorted(p for fmt in realmusic.FORMATS for p in (realmusic.DEFAULT_CACHE / fmt).rglob("*")
                       if p.is_file() and not p.name.startswith("."))
    counts = {"as shipped": 0, "converted": 0, "re-tagged copies": 0}
    i = 0
    for kind, paths in (("as shipped", shipped), ("converted", converted)):
        for p in paths:
            if i >= n:
                return counts
            (folder / f"{i:04d} {p.name}").symlink_to(p)
            counts[kind] += 1
            i += 1
    for p in shipped * (1 + n // max(1, len(shipped))):
        if i >= n:
            break
        dest = folder / f"{i:04d} copy of {p.name}"
        shutil.copyfile(p, dest)
        f = mutagen.File(str(dest), easy=True)
        if f is None:  # a format mutagen cannot tag: no byte-different copy of it
            dest.unlink()
            continue
        if f.tags is None:
            f.add_tags()
        f["title"] = f"{p.stem} (first-day copy {i})"
        f.save()
        counts["re-tagged copies"] += 1
        i += 1
    return counts


def run(folder: Path, n_files: int, limit_s: float, idle_s: float = 5.0) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.window import MainWindow
    from musicrec_engine.engine import Engine

    _app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the run
    home = Path(tempfile.mkdtemp(prefix="bench-firstday-home-"))
    try:
        engine = Engine(home)
        w = MainWindow(engine, persist_state=False)
        w.show()

        def watch(start, until=None, seconds=None):
            gaps, rows, clock, since, timer, loop = [], [], QElapsedTimer(), QElapsedTimer(), QTimer(), QEventLoop()
            t0 = time.monotonic()

            def tick():
                gaps.append(clock.restart())
                if since.elapsed() >= 1000:
                    since.restart()
                    rows.append((time.monotonic() - t0, w.model.rowCount()))

            timer.setInterval(10)
            timer.timeout.connect(tick)
            clock.start()
            since.start()
            timer.start()
            if until is not None:
                until.connect(loop.quit)
            QTimer.singleShot(int((seconds or limit_s) * 1000), loop.quit)
            start()
            loop.exec()
            timer.stop()
            rows.append((time.monotonic() - t0, w.model.rowCount()))
            return gaps[1:], rows

        watch(lambda: None, seconds=3)  # start-up work (library load, first paint) out of the way
        idle, _ = watch(lambda: None, seconds=idle_s)
        busy, rows = watch(lambda: w.add_paths([str(folder)]), until=w.analysis_finished)
        problems = w.model.rowCount()
        w.close()
        engine.close()
        return {"idle": idle, "busy": busy, "rows": rows, "final_rows": problems}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--limit", type=float, default=3600.0, help="give up after this many seconds")
    ap.add_argument("--every", type=float, default=30.0, help="seconds between lines of the rows table")
    args = ap.parse_args()
    announce(args)
    folder = Path(tempfile.mkdtemp(prefix="bench-firstday-"))
    try:
        counts = build_folder(folder, args.files)
        total = sum(counts.values())
        print(f"\nFolder: {total} files ({', '.join(f'{v} {k}' for k, v in counts.items())})", flush=True)
        r = run(folder, total, args.limit)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    busy, idle, rows = np.array(r["busy"]), np.array(r["idle"]), r["rows"]
    wall = rows[-1][0]
    print("\n| GUI timer gap (ms), 10 ms timer | while analysing | idle window | ratio |\n|---|---|---|---|")
    for label, f in (("longest", np.max), ("99th percentile", lambda a: np.percentile(a, 99)),
                     ("median", np.median)):
        print(f"| {label} | {f(busy):.0f} | {f(idle):.0f} | {f(busy) / max(f(idle), 1):.1f}x |")
    print(f"\n{r['final_rows']} of {total} rows in the library after {wall:.0f} s "
          f"({total / max(wall, 1e-9) * 60:.0f} files per minute over the whole run).\n")
    print("| time (s) | rows visible | rows added in the interval |\n|---|---|---|")
    last_n, next_t = 0, 0.0
    for t, n in rows:
        if t >= next_t or (t, n) == rows[-1]:
            print(f"| {t:.0f} | {n} | {n - last_n} |")
            last_n, next_t = n, t + args.every
    first = next((t for t, n in rows if n > 0), float("nan"))
    print(f"\nFirst row after {first:.1f} s; longest time with no new row (rows sampled each second): "
          f"{_longest_flat(rows):.0f} s.")
    return 0 if r["final_rows"] >= total else 1


def _longest_flat(rows: list[tuple[float, int]]) -> float:
    """The longest stretch, after the first row and before the last, in which the count did not grow."""
    best, since, prev = 0.0, None, None
    for t, n in rows:
        if prev is None or n > prev:
            if since is not None and prev:
                best = max(best, t - since)
            since, prev = t, n
    return best


if __name__ == "__main__":
    sys.exit(main())
