"""The Playlists page in the real window: make a playlist from the Library's context menu, see
why each track is there, reorder (drag and Move up), remove, add the Library's selection, save,
keep edits, export through the real file dialog, open it in the system's player, and make a
filtered playlist."""

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QObject, QTimer, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit
from test_playlists import make_library

from app.window import MainWindow
from musicrec_engine.engine import Engine


@pytest.fixture
def win(open_window, qtbot, tmp_path):
    w = open_window(lambda eng: make_library(eng, tmp_path / "music"), persist_state=False)
    qtbot.waitUntil(lambda: w.model.rowCount() == 36, timeout=10000)
    return w


def select(w, titles):
    w.library.select_titles(titles)
    assert {t["title"] for t in w.library.selected_tracks()} == set(titles)


def page_titles(page):
    return [page.tracks.item(i).text().split("–", 1)[1].rsplit("(", 1)[0].strip() for i in range(page.tracks.count())]


def make_from_menu(w, qtbot, titles):
    select(w, titles)
    menu = w.library.table_menu()
    act = next(a for a in menu.actions() if a.text() == "Make playlist from this")
    assert act.isEnabled()
    with qtbot.waitSignal(w.playlist_jobs.made, timeout=30000):
        act.trigger()
    assert w.tabs.currentWidget() is w.playlists


def test_the_first_playlist_is_prepared_in_the_background_once_the_library_loads(win, qtbot):
    """The library's tracks are read and the sound space fitted (and saved for the next start)
    without a click, so "Make playlist" does not wait for them."""
    saved = win.engine.paths.data / "index" / "sound-space.npz"
    qtbot.waitUntil(lambda: saved.exists() and not win.workers.busy("prepare playlists"), timeout=30000)
    assert not win.workers.busy("make playlist")  # nobody asked for a playlist yet
    make_from_menu(win, qtbot, {"Song 3-1"})
    assert win.playlists.tracks.count() == 30


def test_tracks_to_discover_are_listed_by_name_in_whole_rows(win, qtbot, tmp_path):
    from test_catalog import SPOTIFY_HEADER, spotify_row, write_csv

    from musicrec_engine.library.catalogs import import_csv

    import_csv(win.engine.library, write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(40)]),
               name="shop")
    make_from_menu(win, qtbot, {"Song 1-0"})
    found = win.playlists.discover
    assert found.isVisible() and found.count() == 10
    assert all(found.item(i).text().startswith("Artist ") and " – Song " in found.item(i).text()
               and found.item(i).text().endswith("[shop]") for i in range(found.count()))
    # the first rows in view whole, none cut in half at the bottom; the list scrolls for the rest
    view = found.viewport().rect()
    shown = [i for i in range(found.count()) if view.intersects(found.visualItemRect(found.item(i)))]
    assert len(shown) >= 4 and all(view.contains(found.visualItemRect(found.item(i))) for i in shown)


def test_sounds_similar_shows_every_result_in_whole_rows(win, qtbot):
    """The Library's side panel scrolls as one: its "Sounds similar" list has no scroll bar of its own."""
    select(win, {"Song 2-0"})
    found = win.library.similar.list
    qtbot.waitUntil(lambda: found.count() == 10, timeout=30000)
    view = found.viewport().rect()
    assert all(view.contains(found.visualItemRect(found.item(i))) for i in range(found.count()))
    assert found.item(0).text().startswith("Song 2-")  # its own album sounds closest


def test_make_edit_save_and_keep_a_playlist(win, qtbot):
    w, page = win, win.playlists
    make_from_menu(w, qtbot, {"Song 2-0"})
    n = page.tracks.count()
    assert n == 30 and page_titles(page)[0] == "Song 2-0"
    assert page.tracks.item(0).toolTip() == "the seed you chose"
    assert page.tracks.item(1).toolTip().startswith("sounds like “Song 2-0” by Artist 2a (")
    page.tracks.item(1).setSelected(True)
    assert page.why.text().startswith(f"Why “{page_titles(page)[1]}”: sounds like")
    assert "Not saved yet" in page.message.text()

    # Move up, a drag (the list's own model move), Remove
    before = page_titles(page)
    page.tracks.clearSelection()
    page.tracks.item(2).setSelected(True)
    page.up.click()
    assert page_titles(page)[:3] == [before[0], before[2], before[1]]
    page.tracks.model().moveRow(QModelIndex(), 5, QModelIndex(), 0)  # what dropping row 5 on top does
    moved = page_titles(page)
    assert moved[0] == before[5] and page.tracks.item(0).text().startswith(" 1.")
    page.tracks.clearSelection()
    page.tracks.item(3).setSelected(True)
    page.remove.click()
    assert page.tracks.count() == n - 1 and moved[3] not in page_titles(page)
    # add the library's selection (one new track, one already in): only the new one comes in
    outside = next(t["title"] for t in w.engine.library.tracks() if t["title"] not in page_titles(page))
    select(w, {outside, page_titles(page)[0]})
    page.add_sel.click()
    assert page_titles(page)[-1] == outside and page.tracks.count() == n
    assert page.tracks.item(n - 1).toolTip() == "added by you"

    # Save: the library holds the same tracks in the same order, with their reasons
    shown = page_titles(page)
    page.name.setText("Evening")
    with qtbot.waitSignal(w.playlist_jobs.listed, timeout=10000):
        page.save.click()
    saved = w.engine.playlist("Evening")
    assert [t["title"] for t in saved["tracks"]] == shown
    assert [t["why"] for t in saved["tracks"]] == [t["why"] for t in page.current["tracks"]]
    assert saved["tracks"][-1]["why"] == ["added by you"]
    assert sum(t["why"][0].startswith("sounds like") for t in saved["tracks"]) == n - 2  # all but seed and added
    assert page.saved.count() == 1 and page.saved.item(0).text().startswith("Evening\n30 tracks")
    # a saved playlist keeps each edit at once
    page.tracks.clearSelection()
    page.tracks.item(0).setSelected(True)
    page.down.click()
    qtbot.waitUntil(lambda: [t["title"] for t in w.engine.playlist("Evening")["tracks"]][:2] == shown[1::-1],
                    timeout=10000)
    # reopening it from the list shows it as saved
    page.current = None
    with qtbot.waitSignal(w.playlist_jobs.opened, timeout=10000):
        page.saved.itemClicked.emit(page.saved.item(0))
    assert page.name.text() == "Evening" and page_titles(page)[:2] == shown[1::-1]
    assert page.message.text().startswith("Saved.")


def _accept_file_dialog(path: Path, kind: str):
    """Fill the real (Qt) file dialog that Export opens, as a user would, and accept it."""
    def fill():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, QFileDialog):
            QTimer.singleShot(100, fill)
            return
        dlg.selectNameFilter(next(f for f in dlg.nameFilters() if kind in f))
        dlg.setDirectory(str(path.parent))
        dlg.findChild(QLineEdit, "fileNameEdit").setText(path.name)  # typed, as a user would
        dlg.accept()

    QTimer.singleShot(100, fill)


class UrlCatcher(QObject):
    """Stands in for the desktop's default player: Qt hands it the URL it would open."""

    def __init__(self):
        super().__init__()
        self.urls = []

    @Slot("QUrl")
    def open(self, url):
        self.urls.append(url)


def test_export_and_open_in_the_system_player(win, qtbot, tmp_path):
    w, page = win, win.playlists
    make_from_menu(w, qtbot, {"Song 4-0"})
    want = [t["path"] for t in page._playlist()["tracks"]]
    out = tmp_path / "exported.xspf"
    _accept_file_dialog(out, "XSPF")
    with qtbot.waitSignal(w.playlist_jobs.exported, timeout=20000):
        page.export.click()
    assert out.is_file() and "<location>file://" in out.read_text()
    assert f"Exported 30 tracks to {out}" in w.statusBar().currentMessage()
    m3u = tmp_path / "rel.m3u8"
    _accept_file_dialog(m3u, "relative")
    with qtbot.waitSignal(w.playlist_jobs.exported, timeout=20000):
        page.export.click()
    assert m3u.is_file(), (w.statusBar().currentMessage(), list(m3u.parent.iterdir()))
    entries = [ln for ln in m3u.read_text().splitlines() if ln and not ln.startswith("#")]
    assert [str((m3u.parent / e).resolve()) for e in entries] == [str(Path(p).resolve()) for p in want]

    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        with qtbot.waitSignal(w.playlist_jobs.exported, timeout=20000):
            page.open_player.click()
        qtbot.waitUntil(lambda: bool(catcher.urls), timeout=5000)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    handed = Path(catcher.urls[0].toLocalFile())
    assert handed.suffix == ".m3u8" and handed.is_file()
    assert [ln for ln in handed.read_text().splitlines() if not ln.startswith("#")] == want
    assert "Opened the playlist in your player (30 tracks)" in w.statusBar().currentMessage()


def test_filter_and_path_playlists_from_the_page(win, qtbot):
    w, page = win, win.playlists
    w.tabs.setCurrentWidget(page)
    page.kind.setCurrentIndex(page.kind.findData("filter"))
    assert page.expression.isVisible()
    page.expression.setText("tag:soul")
    with qtbot.waitSignal(w.playlist_jobs.made, timeout=30000):
        page.make.click()
    assert set(page_titles(page)) == {f"Song 0-{i}" for i in range(6)}  # only album 0 is tagged soul
    assert page.tracks.item(0).toolTip().startswith("matches tag:soul (jazz, soul)")
    page.expression.setText("energy<<2")
    qtbot.waitUntil(page.make.isEnabled, timeout=5000)  # "Making…" until the last one is done
    with qtbot.waitSignal(w.playlist_jobs.failed, timeout=30000):
        page.make.click()
    assert "cannot read 'energy<<2'" in page.message.text()
    # a path needs exactly two tracks selected in the Library
    page.kind.setCurrentIndex(page.kind.findData("path"))
    select(w, {"Song 0-0"})
    qtbot.waitUntil(page.make.isEnabled, timeout=5000)
    page.make.click()
    assert "exactly two tracks" in page.message.text()
    select(w, {"Song 0-0", "Song 5-0"})
    page.size_box.setValue(6)
    qtbot.waitUntil(page.make.isEnabled, timeout=5000)
    with qtbot.waitSignal(w.playlist_jobs.made, timeout=30000):
        page.make.click()
    assert page.tracks.count() == 6 and {page_titles(page)[0], page_titles(page)[-1]} == {"Song 0-0", "Song 5-0"}


def test_the_taste_page_explains_a_model_trained_outside_the_window(qtbot, home, tmp_path):
    eng = Engine(home)
    ids = make_library(eng, tmp_path / "music")
    for a in (0, 1, 4, 5):
        for i in range(3):
            eng.rate(ids[(a, i)], int(a >= 4))
    eng.train_taste(params={"ensemble": 2})  # as `musicrec taste train` does, before the window opens
    eng.close()
    eng = Engine(home)
    w = MainWindow(eng, persist_state=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.model.rowCount() == 36, timeout=10000)
    w.tabs.setCurrentWidget(w.taste)
    qtbot.waitUntil(lambda: "Pushes towards" in w.taste.why.toHtml(), timeout=60000)
    # twelve ratings: a cold-start model, and the page says so rather than pointing at itself
    qtbot.waitUntil(lambda: w.taste.status.text().startswith("Model: cold start"), timeout=20000)
    assert "Taste tab" not in w.taste.status.text()
    w.close()
    eng.close()


def test_an_empty_library_offers_the_demo_from_the_playlists_page(window, qtbot):
    w, page = window, window.playlists
    w.tabs.setCurrentWidget(page)
    qtbot.waitUntil(page.demo.isVisible, timeout=10000)  # once the (empty) library has loaded
    assert page.message.text().startswith("Your library is empty")
    with qtbot.waitSignal(w.analysis_finished, timeout=300000):
        page.demo.click()
    qtbot.waitUntil(lambda: not page.demo.isVisible(), timeout=10000)
    w.tabs.setCurrentWidget(w.library)
    select(w, {"Open Road"})
    with qtbot.waitSignal(w.playlist_jobs.made, timeout=60000):
        w.library.playlist_button.click()  # "Make playlist from this" beside Preview
    assert page.tracks.count() == 8 and page_titles(page)[0] == "Open Road"  # the whole demo, seed first
