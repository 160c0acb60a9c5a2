"""A job that ends at once (a missing file, nothing to search for) is still heard: the controller
that started it goes back to idle, so its button works again. The pool below lets each job finish
in its worker thread before `start` returns, the order a very fast job can take on a busy machine;
a slot connected after the start would never be called."""

import pytest
from PySide6.QtCore import QThreadPool

from app.controllers.albums import AlbumsController
from app.controllers.analysis import AnalysisQueue
from app.controllers.library import LibraryController
from app.controllers.playlists import PlaylistsController
from app.workers import Workers


class FinishFirst(QThreadPool):
    def start(self, runnable, priority=0):
        super().start(runnable, priority)
        self.waitForDone()


@pytest.fixture
def workers(qapp):
    w = Workers()
    w.pool = FinishFirst(w)
    yield w
    w.shutdown()


def test_a_preview_of_a_missing_file_ends_and_the_play_button_comes_back(qtbot, eng, workers, tmp_path):
    lib = LibraryController(eng, workers)
    states = []
    lib.playing.connect(states.append)
    with qtbot.waitSignal(lib.preview_failed, timeout=10000):
        lib.toggle_preview(str(tmp_path / "gone.wav"))
    qtbot.waitUntil(lambda: states == [True, False], timeout=5000)
    assert lib.preview_job is None  # a second click plays again instead of "stopping" nothing


def test_an_import_of_a_missing_file_ends_and_another_can_start(qtbot, eng, workers, tmp_path):
    lib = LibraryController(eng, workers)
    with qtbot.waitSignal(lib.import_ended, timeout=10000):
        assert lib.import_catalog(str(tmp_path / "gone.csv"))
    assert lib.import_job is None
    with qtbot.waitSignal(lib.import_ended, timeout=10000):
        assert lib.import_catalog(str(tmp_path / "gone.csv"))  # not refused as "already importing"


def test_an_album_search_with_nothing_to_search_for_frees_the_search_button(qtbot, eng, workers):
    albums = AlbumsController(eng, workers)
    busy, said = [], []
    albums.busy.connect(busy.append)
    albums.message.connect(said.append)
    assert albums.search({}, {})
    qtbot.waitUntil(lambda: busy == [True, False], timeout=10000)
    assert "nothing to search for" in said[0] and albums.search_job is None


def test_an_analysis_of_a_missing_file_reports_its_end(qtbot, eng, workers, tmp_path):
    queue = AnalysisQueue(eng, workers, lambda: 1)
    with qtbot.waitSignal(queue.finished, timeout=30000) as done:
        queue.add([str(tmp_path / "gone.wav")])
    assert done.args[0].ok == 0 and not queue.busy


def test_a_playlist_from_an_empty_library_ends_its_busy_state(qtbot, eng, workers):
    jobs = PlaylistsController(eng, workers)
    busy = []
    jobs.busy.connect(busy.append)
    with qtbot.waitSignal(jobs.failed, timeout=10000):
        jobs.make("taste", size=10)
    qtbot.waitUntil(lambda: busy == [True, False], timeout=5000)
