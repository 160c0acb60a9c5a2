"""Desktop app benchmark: start-up, library table cell cost, GUI responsiveness during analysis.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_app.py [--files 20] [--rows 50000]
        [--playlist-tracks 10000] [--library-tracks 10000] [--bulk 14000] [--only library ...]

Each figure comes with a reference measured in the same run, because the machine is shared:
  start-up     the app's window shown and idle, vs a bare PySide6 window in a fresh interpreter
  cells        LibraryModel.data() per cell on --rows rows, vs Qt's own C++ QStandardItemModel
  stalls       the longest gap of a 10 ms GUI timer while --files files are analysed, vs idle
  playlists    the same while the first playlist of a --playlist-tracks library is prepared in the
               background (tracks read, sound space fitted), vs idle; then the first playlist's seconds
  library      the longest gap of the 10 ms GUI timer while the window opens on a --library-tracks
               library, while it loads into the window's table again (three times, the first
               playlist's preparation left out), while the user clicks column headers to sort it
               and types a filter, vs idle; and the same header clicks on Qt's own C++
               QStandardItemModel and QSortFilterProxyModel holding the same texts and sort keys
  bulk         --bulk empty files (per-file errors) in a folder added to the app (an incremental scan
               in the child process, stderr drained, results read back), vs the same child command
               run alone at the same priority
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from provenance import announce  # noqa: E402 - after the path set-up above

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BARE = r"""
import time, sys
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1200, 760); w.show(); app.processEvents()
print(f"{time.time() - t0:.3f}")
"""
APP = r"""
import time, sys
t0 = float(sys.argv[1])
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.main import apply_theme
apply_theme(app)
from app.window import MainWindow
from musicrec_engine.engine import Engine
w = MainWindow(Engine(sys.argv[2])); w.show(); app.processEvents()
print(f"{time.time() - t0:.3f}")
print("torch loaded" if "torch" in sys.modules else "torch not loaded", file=sys.stderr)
"""


def startup(runs: int = 3) -> tuple[float, float]:
    def once(code, *extra):
        out = subprocess.run([sys.executable, "-c", code, repr(time.time()), *extra], cwd=ROOT, text=True,
                             capture_output=True, check=True)
        return float(out.stdout.split()[-1])

    home = tempfile.mkdtemp(prefix="bench-app-")
    try:
        bare = min(once(BARE) for _ in range(runs))
        full = min(once(APP, home) for _ in range(runs))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return full, bare


def cells(rows: int) -> tuple[float, float]:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from test_app_library_model import fake_library

    from app.widgets.library_model import COLUMNS, LibraryModel

    tracks = fake_library(rows)
    model = LibraryModel()
    model.set_tracks(tracks)
    idx = [model.index(r, c) for r in range(0, rows, max(1, rows // 5000)) for c in range(len(COLUMNS))]
    t0 = time.perf_counter()
    for ix in idx:
        model.data(ix, Qt.ItemDataRole.DisplayRole)
    ours = (time.perf_counter() - t0) / len(idx)

    ref_rows = min(rows, 5000)  # building C++ items for 50k rows would dominate the run
    ref = QStandardItemModel(ref_rows, len(COLUMNS))
    for r in range(ref_rows):
        for c in range(len(COLUMNS)):
            # Text taken from the model's table directly, and a dash for empty cells: PySide 6.12
            # drops a reference to None whenever Python reads an empty value through index.data(),
            # and tens of thousands of those abort the interpreter.
            ref.setItem(r, c, QStandardItem(model._text[r][c] or "-"))
    ridx = [ref.index(r, c) for r in range(ref_rows) for c in range(len(COLUMNS))]
    t0 = time.perf_counter()
    for ix in ridx:
        ref.data(ix, Qt.ItemDataRole.DisplayRole)
    theirs = (time.perf_counter() - t0) / len(ridx)
    return ours, theirs


def measure(start, until_signal=None, seconds=None, until=None) -> tuple[int, float]:
    """(the longest gap in ms between ticks of a 10 ms GUI timer, wall seconds) from start() until
    until_signal fires, until() is true at a tick, or `seconds` pass."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    gaps, clock, timer, loop = [], QElapsedTimer(), QTimer(), QEventLoop()
    timer.setInterval(10)

    def tick():
        gaps.append(clock.restart())
        if until is not None and until():
            loop.quit()

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    if until_signal is not None:
        until_signal.connect(loop.quit)
    QTimer.singleShot(int((seconds or 600) * 1000), loop.quit)
    start()
    t0 = time.monotonic()
    loop.exec()
    timer.stop()
    return max(gaps[1:]), time.monotonic() - t0


def stalls(n_files: int, idle_seconds: float = 5.0) -> tuple[int, int, float]:
    from audio_fixtures import music, write
    from PySide6.QtWidgets import QApplication

    from app.window import MainWindow
    from musicrec_engine.engine import Engine

    _app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the run
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    try:
        for i in range(n_files):
            write(tmp / "audio" / f"t{i:02d}.wav", music(3.0, key=i % 12, bpm=90 + 4 * i, seed=i))
        engine = Engine(tmp / "home")
        w = MainWindow(engine, persist_state=False)
        w.show()

        measure(lambda: None, seconds=3)  # let start-up work (library load, first paint) finish
        idle, _ = measure(lambda: None, seconds=idle_seconds)
        busy, wall = measure(lambda: w.add_paths([str(tmp / "audio")]), until_signal=w.analysis_finished)
        assert w.model.rowCount() == n_files, f"only {w.model.rowCount()} of {n_files} rows arrived"
        w.close()
        engine.close()
        return busy, idle, wall
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def open_library(home: Path, n_tracks: int):
    """(engine, shown main window, path of the saved sound space) on a generated n-track library."""
    from bench_playlists import build

    from app.window import MainWindow
    from musicrec_engine.engine import Engine

    build(home, n_tracks)
    engine = Engine(home)
    w = MainWindow(engine, persist_state=False)
    w.show()
    return engine, w, engine.paths.data / "index" / "sound-space.npz"


def playlist_stalls(n_tracks: int, idle_seconds: float = 5.0, repeats: int = 3) -> tuple[list, int, float, float]:
    """The longest GUI stall of each of `repeats` preparations of the first playlist of an n-track
    library in the background (reads the tracks, fits the sound space: what follows an analysis
    batch), vs idle; and the seconds of the quickest preparation and of the first playlist made after."""
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the run
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    try:
        engine, w, saved = open_library(tmp / "home", n_tracks)
        # start-up: the table fills, the first preparation runs
        measure(lambda: None, seconds=600,
                until=lambda: w.loaded_once and saved.exists() and not w.workers.busy("prepare playlists"))
        idle, _ = measure(lambda: None, seconds=idle_seconds)

        def again():  # as after an analysis batch: nothing saved, every vector read and fitted again
            saved.unlink()
            engine.set_similarity_weights({})
            w.playlist_jobs.prepare()

        runs = [measure(again, until=lambda: saved.exists() and not w.workers.busy("prepare playlists"))
                for _ in range(repeats)]
        busy, wall = [r[0] for r in runs], min(r[1] for r in runs)
        first_id = w.model.tracks[0]["id"]
        _, first = measure(lambda: w.playlist_jobs.make("seeds", seeds=[first_id], size=30),
                           until_signal=w.playlist_jobs.made)
        w.close()
        engine.close()
        return busy, idle, wall, first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def after(ms: int, action):
    """A `measure` start that runs a synchronous action (a click) inside the measured event loop:
    work done in start() itself falls in the first gap, which measure() leaves out."""
    from PySide6.QtCore import QTimer

    return lambda: QTimer.singleShot(ms, action)


def click_header(view, column: int) -> None:
    """A real left click in the middle of a column's header section, as a user sorts."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    hh = view.horizontalHeader()
    x = hh.sectionViewportPosition(column) + hh.sectionSize(column) // 2
    QTest.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, hh.height() // 2))


SORT_CLICKS = (("BPM", "up"), ("BPM", "down"), ("Artist", "up"), ("Artist", "down"))


def library_stalls(n_tracks: int, idle_seconds: float = 3.0) -> dict:
    """The longest GUI stall (ms) while an n-track library loads into the window's table, while its
    column headers are clicked to sort (each click ascending, then descending), and while a filter is
    typed and cleared; the idle window's, and the same clicks on a QTableView over Qt's C++ models
    (QStandardItemModel + QSortFilterProxyModel) with the same texts and sort keys."""
    from PySide6.QtCore import QSortFilterProxyModel, Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QTableView

    from app.widgets.library_model import COLUMNS, SORT_ROLE

    _app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the run
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    out: dict = {}
    try:
        engine, w, saved = open_library(tmp / "home", n_tracks)
        # opening: the table's first load and the first playlist's preparation that follows it
        out["open"], _ = measure(lambda: None, seconds=600, until=lambda: w.loaded_once and saved.exists() and not (
            w.workers.busy("load library") or w.workers.busy("prepare playlists")))
        # From here the table's own cost: the preparation, which follows every load, has a row of its own.
        w.library_loaded.disconnect(w.playlist_jobs.prepare_soon)
        measure(lambda: None, seconds=2)
        out["idle"], _ = measure(lambda: None, seconds=idle_seconds)
        assert w.model.rowCount() == n_tracks, f"{w.model.rowCount()} of {n_tracks} rows"

        loads = []
        for _ in range(3):  # as at start-up and after an analysis batch that moved files: every row again
            done: list[float] = []

            def note(done=done):
                done.append(time.monotonic())

            w.library_loaded.connect(note)
            # until half a second after the rows are in: their first paint is part of the load
            loads.append(measure(w.jobs.load, until=lambda done=done: done and time.monotonic() - done[0] > 0.5)[0])
            w.library_loaded.disconnect(note)
        out["load"] = loads

        table = w.library.table
        out["sort"] = {}
        bpm = COLUMNS.index("BPM")
        for name, _direction in SORT_CLICKS:
            out["sort"].setdefault(name, []).append(
                measure(after(100, lambda n=name: click_header(table, COLUMNS.index(n))), seconds=1.5)[0])
            if name == "BPM":  # the click did sort (checked right after it: a later column re-orders the rows)
                first = [float(w.library.proxy.index(r, bpm).data() or "nan") for r in range(5)]
                assert first == sorted(first) or first == sorted(first, reverse=True), f"not sorted by BPM: {first}"

        typed = []
        for text in ("artist 1", ""):
            typed.append(measure(after(100, lambda t=text: w.library.filter.setText(t)), seconds=1.5)[0])
        out["filter"] = typed
        w.close()
        engine.close()

        # Reference: Qt's own models hold the same cells; sorting compares the same keys in C++.
        model = w.library.model
        ref = QStandardItemModel(model.rowCount(), len(COLUMNS))
        ref.setHorizontalHeaderLabels(COLUMNS)
        for r in range(model.rowCount()):
            for c in range(len(COLUMNS)):
                item = QStandardItem(model._text[r][c])
                item.setData(model._keys[r][c], SORT_ROLE)
                ref.setItem(r, c, item)
        proxy = QSortFilterProxyModel()
        proxy.setSortRole(SORT_ROLE)
        proxy.setSourceModel(ref)
        view = QTableView()
        view.setModel(proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        view.resize(940, 700)
        view.show()
        measure(lambda: None, seconds=1)
        out["reference sort"] = {}
        for name, _direction in SORT_CLICKS:
            out["reference sort"].setdefault(name, []).append(
                measure(after(100, lambda n=name: click_header(view, COLUMNS.index(n))), seconds=1.5)[0])
        view.close()
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bulk(n_files: int) -> tuple[float, float]:
    """Seconds for n empty files through the app's queue, and for the bare child command."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.controllers.analysis import AnalysisQueue
    from app.workers import BACKGROUND_NICE, Workers
    from musicrec_engine.engine import Engine

    _app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the run
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    try:
        deep = tmp.joinpath("music", *["a folder with a long name " * 7] * 3)  # long progress lines
        deep.mkdir(parents=True)
        for i in range(n_files):
            (deep / f"empty file {i:05d}.wav").touch()
        engine = Engine(tmp / "home")
        cmd, env = engine.analysis_command([str(tmp / "music")], jobs=2, scan=True)  # what Add Folder runs
        t0 = time.monotonic()
        # at the app's background priority, so the ratio is the app's own overhead, not the nice level
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                       preexec_fn=lambda: os.nice(BACKGROUND_NICE))
        bare = time.monotonic() - t0
        engine.close()
        engine = Engine(tmp / "home2")
        workers = Workers()
        queue = AnalysisQueue(engine, workers, lambda: 2)
        loop = QEventLoop()
        queue.finished.connect(loop.quit)
        QTimer.singleShot(600_000, loop.quit)
        t0 = time.monotonic()
        queue.add([str(tmp / "music")])
        loop.exec()
        ours = time.monotonic() - t0
        assert queue.summary.failed == n_files, f"{queue.summary.failed} of {n_files} results arrived"
        workers.shutdown()
        engine.close()
        return ours, bare
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


ROWS = ["startup", "cells", "stalls", "library", "playlists", "bulk"]


def print_library(n: int, r: dict) -> None:
    idle = max(r["idle"], 1)
    worst = max(r["load"])
    print(f"| longest GUI stall while the window opens on {n:,} tracks (the table's first load and the first "
          f"playlist's preparation) (ms) | {r['open']} | {r['idle']} (idle window) | {r['open'] / idle:.1f}x |")
    print(f"| longest GUI stall while {n:,} tracks load into the table (ms; worst of {len(r['load'])}: "
          f"{', '.join(map(str, r['load']))}) | {worst} | {r['idle']} (idle window) | {worst / idle:.1f}x |")
    for name, gaps in r["sort"].items():
        ref = r["reference sort"][name]
        print(f"| longest GUI stall on a click on the {name} header, ascending / descending (ms) | "
              f"{gaps[0]} / {gaps[1]} | {ref[0]} / {ref[1]} (C++ QStandardItemModel + QSortFilterProxyModel); "
              f"{r['idle']} (idle) | {max(gaps) / max(max(ref), 1):.1f}x |")
    f = r["filter"]
    print(f"| longest GUI stall typing the filter 'artist 1' / clearing it (ms) | {f[0]} / {f[1]} | "
          f"{r['idle']} (idle window) | {max(f) / idle:.1f}x |")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--playlist-tracks", type=int, default=10_000,
                   help="library size for the first-playlist row (0 skips it)")
    p.add_argument("--library-tracks", type=int, default=10_000,
                   help="library size for the table load / sort / filter rows (0 skips them)")
    p.add_argument("--bulk", type=int, default=14_000, help="empty files for the bulk row (0 skips it)")
    p.add_argument("--only", nargs="+", choices=ROWS, default=ROWS, help="run only these rows")
    args = p.parse_args()
    random.seed(0)
    announce(args)
    print("\n| measure | MusicRec | reference | ratio |\n|---|---|---|---|")
    if "startup" in args.only:
        full, bare = startup()
        print(f"| start-up to an idle window (s) | {full:.2f} | {bare:.2f} (bare PySide6 window) | {full / bare:.1f}x |")
    if "cells" in args.only:
        ours, theirs = cells(args.rows)
        print(f"| data() per cell, {args.rows:,} rows (µs) | {ours * 1e6:.2f} | {theirs * 1e6:.2f} "
              f"(C++ QStandardItemModel) | {ours / theirs:.1f}x |")
    if "stalls" in args.only:
        busy, idle, wall = stalls(args.files)
        print(f"| longest GUI stall while {args.files} files are analysed (ms) | {busy} | {idle} (idle window) | "
              f"{busy / max(idle, 1):.1f}x |")
    if args.library_tracks and "library" in args.only:
        print_library(args.library_tracks, library_stalls(args.library_tracks))
    if args.playlist_tracks and "playlists" in args.only:
        busy, idle, wall, first = playlist_stalls(args.playlist_tracks)
        print(f"| longest GUI stall while the first playlist of {args.playlist_tracks:,} tracks is prepared in the "
              f"background (ms; worst of {len(busy)}: {', '.join(map(str, busy))}) | {max(busy)} | {idle} "
              f"(idle window) | {max(busy) / max(idle, 1):.1f}x |")
        print(f"| the first playlist made after that (s) | {first:.2f} | {wall:.2f} (the preparation: reading "
              f"the tracks, fitting the sound space) | {first / wall:.2f}x |")
    if args.bulk and "bulk" in args.only:
        ours, bare = bulk(args.bulk)
        print(f"| {args.bulk:,} empty files through the app's analysis path (s) | {ours:.1f} | {bare:.1f} "
              f"(the child command alone, same priority) | {ours / bare:.2f}x |")
    if "stalls" in args.only:
        print(f"\n{args.files} files analysed in {wall:.1f} s (3-second clips, analysis in a child process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
