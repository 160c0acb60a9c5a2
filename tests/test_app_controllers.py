"""The controllers without a window: the analysis queue, the retrain debounce, and incremental
folder scans with the watched-folders setting, on a real engine and real files."""

import os
import shutil

import pytest
from audio_fixtures import music, write

from app.controllers.analysis import AnalysisQueue
from app.controllers.taste import TasteController
from app.workers import Workers
from musicrec_engine.engine import Engine


@pytest.fixture
def engine(home):
    e = Engine(home)
    yield e
    e.close()


@pytest.fixture
def workers(qapp):
    w = Workers()
    yield w
    w.shutdown()


def songs(folder, n, start=0):
    return [write(folder / f"song {i}.wav", music(3.0, key=i % 12, bpm=90 + 7 * i, seed=i))
            for i in range(start, start + n)]


def test_what_is_added_while_a_job_runs_waits_and_one_summary_covers_it_all(qtbot, engine, workers, tmp_path):
    first, second = songs(tmp_path / "a", 2), songs(tmp_path / "b", 1, start=5)
    queue = AnalysisQueue(engine, workers, lambda: 1)
    arrived = []
    queue.arrived.connect(arrived.extend)
    with qtbot.waitSignal(queue.finished, timeout=120000) as done:
        assert queue.add([str(p) for p in first])  # starts at once
        assert not queue.add([str(second[0])])  # waits for the first job
        (tmp_path / "b" / "broken.wav").write_bytes(b"RIFF????WAVE")
        assert not queue.add([str(tmp_path / "b" / "broken.wav")])
    summary = done.args[0]
    assert (summary.ok, summary.failed, summary.cancelled) == (3, 1, False)
    assert sorted(os.path.basename(i["path"]) for i in arrived) == ["broken.wav", "song 0.wav", "song 1.wav",
                                                                      "song 5.wav"]
    assert not queue.busy


def test_a_rescan_follows_moves_and_hides_gone_files_keeping_ratings(qtbot, engine, workers, tmp_path):
    folder = tmp_path / "music"
    paths = songs(folder, 3)
    queue = AnalysisQueue(engine, workers, lambda: 1)
    with qtbot.waitSignal(queue.finished, timeout=120000) as done:
        queue.scan([str(folder)])
    assert done.args[0].ok == 3
    moved = engine.track(str(paths[0].resolve()))
    engine.rate(moved["id"], 1)
    shutil.move(paths[0], folder / "renamed.wav")
    paths[1].unlink()
    arrived = []
    queue.arrived.connect(arrived.extend)
    with qtbot.waitSignal(queue.finished, timeout=120000) as done:
        queue.scan([str(folder)])
    summary = done.args[0]
    assert (summary.moved, summary.missing, summary.ok) == (1, 1, 0)  # nothing needed analysing again
    assert arrived == []
    shown = {os.path.basename(t["path"]): t for t in engine.tracks()}
    assert set(shown) == {"renamed.wav", "song 2.wav"}
    assert shown["renamed.wav"]["rating"] == 1 and shown["renamed.wav"]["id"] == moved["id"]


def test_watched_folders_are_scanned_when_the_window_opens(qtbot, home, tmp_path):
    from app.settings import AppSettings
    from app.window import MainWindow

    folder = tmp_path / "watched"
    songs(folder, 2)
    engine = Engine(home)
    AppSettings(engine).set_watched_folders([str(folder), str(tmp_path / "unplugged drive")])
    w = MainWindow(engine)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.analysis_finished, timeout=120000):
        w.show()
    assert sorted(w.model.index(r, 0).data() for r in range(w.model.rowCount())) == ["song 0", "song 1"]
    w.close()
    engine.close()


def test_ratings_in_a_burst_train_the_taste_model_once(qtbot, engine, workers, tmp_path):
    for p in songs(tmp_path / "m", 4):
        list(engine.analyze([str(p)], jobs=1))
    ids = [t["id"] for t in engine.tracks()]
    taste = TasteController(engine, workers)
    taste.timer.setInterval(300)
    trained = []
    taste.updated.connect(lambda: trained.append(engine.taste_status()["ratings"]))
    for i, value in zip(ids, (1, 1, 0), strict=False):  # three ratings, quicker than the delay
        engine.rate(i, value)
        taste.rated()
        assert taste.state == "stale"
        qtbot.wait(50)
    qtbot.waitUntil(lambda: bool(trained), timeout=120000)
    qtbot.wait(1000)
    assert trained == [3]  # one training, on all three ratings
    assert taste.state == "idle"
