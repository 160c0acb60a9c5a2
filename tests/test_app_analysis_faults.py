"""The app's analysis path under the conditions that broke it: a folder of thousands of files (the
child's progress output must not fill a pipe nobody reads), a file name that is not UTF-8, Cancel
with worker processes running, and settings changed while a job waits for a worker thread."""

import os
import threading
import time

from audio_fixtures import SR, music, write
from test_app_albums import write_spotify_catalog


def processes_with_home(home) -> list[int]:
    """Processes (other than this one) started for this test's data folder: the analysis child,
    its fork server and its workers all carry MUSICREC_HOME=home in their environment."""
    needle = f"MUSICREC_HOME={home}".encode()
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if needle in env:
            found.append(int(pid))
    return found


def test_a_folder_of_thousands_of_files_is_analysed_to_the_end(window, qtbot, tmp_path):
    # Long folder names make the child's progress lines long: 3,000 files write about 80 KB of
    # progress, more than a pipe holds. Empty files are quick per-file errors.
    deep = tmp_path.joinpath("music", *["a folder with a long name " * 7] * 3)
    deep.mkdir(parents=True)
    n = 3000
    for i in range(n):
        (deep / f"empty file {i:05d} with a long name so that each progress line is long.wav").touch()
    with qtbot.waitSignal(window.analysis_finished, timeout=150000):
        window.add_paths([str(tmp_path / "music")])
    assert window.problems.count() == n
    assert window.model.rowCount() == 0
    assert f"{n} could not be analysed" in window.statusBar().currentMessage()


def test_a_file_name_that_is_not_utf8_does_not_stop_the_batch(window, qtbot, tmp_path):
    folder = tmp_path / "mixed"
    for i in range(3):
        write(folder / f"good {i}.wav", music(3.0, key=i, bpm=100 + 10 * i, seed=i))
    latin1 = os.path.join(os.fsencode(folder), b"caf\xe9.wav")  # "café.wav" written by a Latin-1 system
    os.rename(write(folder / "tmp.wav", music(3.0, key=5, seed=9)), latin1)
    with qtbot.waitSignal(window.analysis_finished, timeout=180000):
        window.add_paths([str(folder)])
    titles = {window.model.tracks[r].get("title") or "" for r in range(window.model.rowCount())}
    shown = [window.model.index(r, 0).data() for r in range(window.model.rowCount())]
    shown += [window.problems.item(r).text() for r in range(window.problems.count())]
    assert {"good 0", "good 1", "good 2"} <= {t for t in titles | set(shown)}, shown
    cafe = [s for s in shown if s.startswith("caf")]
    assert cafe, f"the Latin-1 file is neither a row nor a problem: {shown}"
    cafe[0].encode("utf-8")  # readable text, no lone surrogates that Qt would mangle
    assert not any(s.startswith("Analysis") for s in shown), shown  # the job itself did not fail


def long_recording(path, minutes: float):
    """A cheap stand-in for a long live recording: a pulsing tone over noise."""
    import numpy as np

    t = np.arange(int(SR * 60 * minutes)) / SR
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t)) / 2
    y += 0.05 * np.random.default_rng(0).standard_normal(len(t))
    return write(path, y.astype(np.float32))


def test_cancel_leaves_no_analysis_process_behind(window, qtbot, tmp_path, home, monkeypatch):
    # The analysis reads only three short stretches of a long track; read whole, the concerts keep
    # the workers busy past the moment Cancel is pressed instead of finishing before it.
    monkeypatch.setenv("MUSICREC_ANALYSIS_PLAN", "whole")
    # Two long recordings keep both worker processes busy for far longer than Cancel may take; a
    # few short songs make the batch big enough for the analysis to use worker processes at all.
    folder = tmp_path / "music"  # the long ones sort first, so both workers start on one
    for i in range(2):
        long_recording(folder / f"concert {i}.wav", 10)
    for i in range(4):
        write(folder / f"song {i}.wav", music(3.0, key=i, seed=i))
    window.settings.set("workers", 2)
    window.add_paths([str(folder)])
    qtbot.waitUntil(lambda: len(processes_with_home(home)) >= 4, timeout=60000)  # child, fork server, workers
    qtbot.wait(2000)
    with qtbot.waitSignal(window.analysis_finished, timeout=60000):
        window.progress.cancel.click()
    deadline = time.monotonic() + 5
    while processes_with_home(home) and time.monotonic() < deadline:
        qtbot.wait(200)
    left = processes_with_home(home)
    assert not left, f"processes still running after Cancel: {left}"
    assert "cancelled" in window.statusBar().currentMessage()


def test_album_thresholds_are_those_of_when_the_user_asked(window, qtbot, tmp_path):
    """Settings are read in the GUI thread when the user asks, never later in a worker thread."""
    path = tmp_path / "catalog.csv"
    write_spotify_catalog(path, [("Loud Nights", "Bob Example", 2010, 7, 0.9)])
    window.engine.import_catalog(str(path), name="test catalog")
    for t in window.engine.library.catalog_tracks():
        window.engine.library.set_catalog_rating(t["id"], 1)
    window.settings.set("min_tracks", 5)

    gate = threading.Event()
    for i in range(3):  # every worker thread busy, so the albums job waits in the queue
        window.workers.run(f"busy {i}", lambda j: gate.wait(30))
    with qtbot.waitSignal(window.albums_shown, timeout=60000):
        window.albums.refresh.click()
        window.settings.set("min_tracks", 50)  # changed after the click, as the Settings dialog would
        gate.set()
    cards = window.albums.cards
    assert [c.album["title"] for c in cards] == ["Loud Nights"] and cards[0].recommended
