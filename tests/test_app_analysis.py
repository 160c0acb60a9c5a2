"""Dropping real audio files on the window analyses them in the background: rows appear with
attributes, bad files are listed as problems, the GUI stays responsive, and closing mid-job is clean."""

import subprocess
import sys
import time
from pathlib import Path

from audio_fixtures import music, piece, write
from conftest import ROOT
from PySide6.QtCore import QElapsedTimer, QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.widgets.library_model import COLUMNS
from musicrec_engine.engine import Engine


def drop(target, paths):
    """What a file manager's drag does: enter, move, drop, on `target` (any widget in the window)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(target.width() / 2, target.height() / 2)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(pos.toPoint(), *args)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted(), "the window refused the drag"
    event = QDropEvent(pos, *args)
    QApplication.sendEvent(target, event)
    accepted = event.isAccepted()
    return accepted, mime


def make_tracks(folder, n, seconds=4.0, ext="wav"):
    folder.mkdir(parents=True, exist_ok=True)
    return [write(folder / f"track {i:02d}.{ext}", music(seconds, key=i % 12, mode=i % 2, bpm=90 + 5 * i, seed=i))
            for i in range(n)]


def cell(w, row, name):
    return w.model.index(row, COLUMNS.index(name)).data()


def test_dropping_files_and_a_folder_adds_analysed_rows_and_lists_bad_files(window, qtbot, tmp_path):
    files = make_tracks(tmp_path / "loose", 2, ext="flac")
    folder = tmp_path / "album"
    make_tracks(folder, 2, ext="ogg")
    (folder / "notes.mp3").write_text("this is not audio")

    with qtbot.waitSignal(window.analysis_finished, timeout=180000):
        accepted, _mime = drop(window.library.currentWidget(), [*files, folder])
        assert accepted
    assert window.model.rowCount() == 4
    assert window.library.currentIndex() == 1  # the empty-state page gave way to the table
    for row in range(4):
        track = window.model.tracks[row]
        assert track["attributes"]["tempo"]["value"] > 0
        assert 0.0 <= track["attributes"]["energy"]["value"] <= 1.0
        assert cell(window, row, "BPM") and cell(window, row, "Energy")
    # The bad file is a problem entry with its reason, not a dialog; the others were still done.
    assert window.problems.count() == 1
    assert "notes.mp3" in window.problems.item(0).text()
    assert window.problems_dock.isVisible()
    # The same rows are in the database; the folder's scan recorded the bad file as a failure.
    stored = {Path(t["path"]).name: t["status"] for t in window.engine.tracks()}
    assert sorted(n for n, status in stored.items() if status == "ok") == sorted(
        [f.name for f in files] + ["track 00.ogg", "track 01.ogg"])
    assert stored.get("notes.mp3") in (None, "error")


def test_a_single_dropped_file_is_selected_and_shows_its_attribute_bars(window, qtbot, tmp_path):
    path = write(tmp_path / "solo song.wav", music(5.0, key=9, mode=0, bpm=100, seed=3))
    with qtbot.waitSignal(window.analysis_finished, timeout=180000):
        drop(window.library.currentWidget(), [path])
    assert window.library.detail.title.text() == "solo song"
    energy = window.library.detail.bars["energy"]
    assert energy.value is not None and 0 <= energy.value <= 1
    assert window.library.detail.fact_labels["tempo"].text().endswith("BPM")
    tip = window.library.detail.fact_labels["tempo"].toolTip()
    assert "measured" in tip or "learned" in tip or "estimated" in tip
    assert "confidence" in window.library.detail.bars["energy"].toolTip()
    # a value of the model trained on generated audio says so, not only a confidence
    assert "generated audio only" in window.library.detail.bars["liveness"].toolTip()


def test_an_unsure_key_names_the_reading_it_could_also_be(window, qtbot, tmp_path):
    """A loop of IV IV I I in E flat never sounds the note that tells E flat major from A flat
    major; the key's tooltip says how unsure it is and names the other reading."""
    path = write(tmp_path / "loop.wav", piece(key=3, mode=1, bpm=120.0, degrees=(3, 3, 0, 0), bright=0.15))
    with qtbot.waitSignal(window.analysis_finished, timeout=180000):
        drop(window.library.currentWidget(), [path])
    label = window.library.detail.fact_labels["key"]
    shown, tip = label.text(), label.toolTip()
    assert shown in ("D# major", "G# major"), shown
    other = "G# major" if shown == "D# major" else "D# major"
    assert f"Could also be {other}" in tip, tip


def test_an_unsure_tempo_names_the_other_level_in_its_tooltip(window, qtbot, tmp_path):
    """A slow piece with no drums: nothing tells its 60 BPM beat from the eighth notes of its tune,
    so the tempo is a guess, and its tooltip names the other level, one of the two being 60."""
    path = write(tmp_path / "slow air.wav", piece(key=2, mode=1, bpm=60.0, drums=False, seconds=10.0))
    with qtbot.waitSignal(window.analysis_finished, timeout=180000):
        drop(window.library.currentWidget(), [path])
    label = window.library.detail.fact_labels["tempo"]
    shown, tip = label.text(), label.toolTip()
    assert "Could also be" in tip, tip
    assert shown == "60 BPM" or "Could also be 60 BPM" in tip, (shown, tip)
    assert "confidence" in tip


def longest_gap(qtbot, during, until_signal=None, seconds=None):
    """The longest gap between ticks of a 10 ms GUI timer while `during()` runs."""
    gaps = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: gaps.append(clock.restart()))
    clock.start()
    timer.start()
    try:
        if until_signal is not None:
            with qtbot.waitSignal(until_signal, timeout=300000):
                during()
        else:
            during()
            qtbot.wait(int(seconds * 1000))
    finally:
        timer.stop()
    return max(gaps[1:]), len(gaps)


IDLE_REFERENCE = r"""
import sys
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer
app = QCoreApplication([])
clock, worst = QElapsedTimer(), [0]
def tick():
    worst[0] = max(worst[0], clock.restart())
    print(worst[0], flush=True)
clock.start()
t = QTimer(); t.setInterval(10); t.timeout.connect(tick); t.start()
app.exec()
"""


def test_the_event_loop_never_stalls_while_20_files_are_analysed(window, qtbot, tmp_path):
    files = make_tracks(tmp_path / "twenty", 20, seconds=3.0)
    qtbot.wait(1000)
    # The machine is shared: a second, idle process runs the same 10 ms timer at the same time, and
    # what it suffers from other programs is the baseline; the analysis may add at most 100 ms.
    ref = subprocess.Popen([sys.executable, "-c", IDLE_REFERENCE], stdout=subprocess.PIPE, text=True,
                           env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        qtbot.wait(500)
        worst, ticks = longest_gap(qtbot, lambda: drop(window, files), until_signal=window.analysis_finished)
    finally:
        ref.terminate()
        out = ref.communicate(timeout=30)[0].split()
    idle = int(out[-1]) if out else 0
    assert window.model.rowCount() == 20
    assert ticks > 100 and len(out) > 100, "one of the timers hardly ran"
    assert worst < 100 + idle, f"the GUI thread stalled for {worst} ms (idle process at the same time: {idle} ms)"


CLOSE_SCRIPT = r"""
import sys, time
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer
from app.window import MainWindow
from musicrec_engine.engine import Engine

app = QApplication([])
engine = Engine(sys.argv[1])
w = MainWindow(engine)
w.show()
state = {"progress": 0}
w.progress.bar.valueChanged.connect(lambda v: state.__setitem__("progress", v))
def close_when_busy():
    if w.analysis.busy and w.progress.isVisible():
        t0 = time.monotonic()
        w.close()
        print(f"closed in {time.monotonic() - t0:.2f} s, analysed {w.model.rowCount()}", flush=True)
        app.quit()
    else:
        QTimer.singleShot(20, close_when_busy)
w.add_paths([sys.argv[2]])
QTimer.singleShot(50, close_when_busy)
app.exec()
engine.close()
print("exited cleanly", flush=True)
"""


def test_closing_during_analysis_exits_cleanly(tmp_path, home):
    # Enough files that the close lands mid-batch even on a loaded machine, where the window's
    # timer can fire seconds after the analysis process has started working through them.
    make_tracks(tmp_path / "many", 36, seconds=6.0)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", CLOSE_SCRIPT, str(home), str(tmp_path / "many")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    assert "exited cleanly" in r.stdout, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    closed = float(r.stdout.split("closed in ")[1].split(" s")[0])
    assert closed < 15, f"closing waited {closed} s for the background job"
    assert time.monotonic() - t0 < 100
    # Whatever was finished is in the database; nothing half-written stops a re-open.
    engine = Engine(home)
    assert len(engine.library.tracks()) < 36
    engine.close()
