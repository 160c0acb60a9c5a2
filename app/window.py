"""The main window: menus, the Library / Playlists / Albums / Taste pages, the progress strip and the Problems
panel, and the wiring between the pages and the controllers that run the jobs. No job state lives
here: the controllers own it and report by signals, in the GUI thread."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from app import playback
from app.about import AboutDialog
from app.controllers.albums import AlbumsController
from app.controllers.analysis import AnalysisQueue
from app.controllers.library import LibraryController
from app.controllers.playlists import PlaylistsController
from app.controllers.taste import TasteController
from app.pages.albums import AlbumsPage
from app.pages.library import LibraryPage
from app.pages.playlists import PlaylistsPage
from app.pages.taste import TastePage
from app.playlists_wiring import connect_playlists
from app.settings import AppSettings, SettingsDialog, ask_contact, restore_window_state, save_window_state
from app.widgets.drop_overlay import DropOverlay
from app.widgets.library_model import LibraryRows
from app.widgets.problems import ProblemsPanel
from app.widgets.progress_strip import JobProgress
from app.widgets.rating import CLEAR, DISLIKE, LIKE
from app.workers import Workers
from musicrec_engine.engine import APP_NAME, Engine

log = logging.getLogger(__name__)
AUDIO_FILTER = f"Audio files ({' '.join('*' + e for e in Engine.AUDIO_EXTENSIONS)});;All files (*)"


class MainWindow(QMainWindow):
    library_loaded = Signal()
    analysis_finished = Signal()
    taste_updated = Signal()
    albums_shown = Signal()

    def __init__(self, engine, persist_state: bool = True):
        super().__init__()
        self.engine = engine
        self.persist_state = persist_state  # off for --screenshot: pictures must not depend on last use
        self.settings = AppSettings(engine)
        engine.set_similarity_weights(self.settings.weights())
        self.workers = Workers(self)
        self.closing = self.loaded_once = False
        self.progress_cancel = lambda: None  # what Cancel in the progress strip stops
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.jobs = LibraryController(engine, self.workers, self, rows=LibraryRows.build)
        self.analysis = AnalysisQueue(engine, self.workers, lambda: self.settings.get("workers"), self)
        self.taste_jobs = TasteController(engine, self.workers, self)
        self.album_jobs = AlbumsController(engine, self.workers, self)
        self.playlist_jobs = PlaylistsController(engine, self.workers, self)
        self._build_actions()
        self._build_ui()
        self._connect()
        if persist_state:
            restore_window_state(self, self.settings.q, self.library)
        QTimer.singleShot(0, self.jobs.load)

    @property
    def model(self):
        return self.library.model

    # --- construction ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        file.addAction("Add &files…", self.add_files_dialog, QKeySequence.StandardKey.Open)
        file.addAction("Add f&older…", self.add_folder_dialog, QKeySequence("Ctrl+Shift+O"))
        file.addAction("&Import catalog CSV…", self.import_catalog_dialog)
        file.addAction("Load the &demo library", self.load_demo)
        file.addSeparator()
        file.addAction("&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        file.addSeparator()
        file.addAction("&Quit", self.close, QKeySequence.StandardKey.Quit)
        rate = mb.addMenu("&Rate")
        self.act_like = rate.addAction("&Like", lambda: self.rate_selected(LIKE), QKeySequence("L"))
        self.act_dislike = rate.addAction("&Dislike", lambda: self.rate_selected(DISLIKE), QKeySequence("D"))
        self.act_clear = rate.addAction("&Clear rating", lambda: self.rate_selected(CLEAR), QKeySequence("0"))
        rate.addSeparator()
        rate.addAction("&Retrain the taste model now", lambda: self.taste_jobs.retrain())
        view = mb.addMenu("&View")
        view.addAction("&Find", lambda: (self.tabs.setCurrentWidget(self.library), self.library.focus_filter()),
                       QKeySequence.StandardKey.Find)
        view.addAction("&Problems", lambda: self.problems_dock.show())
        mb.addMenu("&Help").addAction(f"&About {APP_NAME}", self.show_about)

    def _build_ui(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.library = LibraryPage(demo_marker=str(Path(self.engine.demo_folder).resolve()))
        self.playlists = PlaylistsPage()
        device = playback.output_device()  # asking PortAudio takes a moment: once
        self.library.set_preview_device(*device)
        self.playlists.set_preview_device(*device)
        self.albums = AlbumsPage()
        self.taste = TastePage()
        for page, name in ((self.library, "Library"), (self.playlists, "Playlists"), (self.albums, "Albums"),
                           (self.taste, "Taste")):
            self.tabs.addTab(page, name)
        self.progress = JobProgress("Analysing")  # analysis and catalog imports take turns in it
        self.progress.cancel_requested.connect(lambda: self.progress_cancel())
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.progress)
        self.setCentralWidget(central)
        self.drop_overlay = DropOverlay(self, central)
        self.drop_overlay.dropped.connect(self.add_paths)
        self.problems = ProblemsPanel()
        self.problems_dock = QDockWidget("Problems", self)
        self.problems_dock.setObjectName("problemsDock")
        self.problems_dock.setWidget(self.problems)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.problems_dock.hide()
        self.statusBar().showMessage("Ready")

    def _connect(self) -> None:
        lib, jobs, taste, albums = self.library, self.jobs, self.taste_jobs, self.album_jobs
        lib.add_folder_requested.connect(self.add_folder_dialog)
        lib.add_files_requested.connect(self.add_files_dialog)
        lib.demo_requested.connect(self.load_demo)
        lib.rate_requested.connect(self.rate_selected)
        lib.preview_requested.connect(self.toggle_preview)
        lib.counts_changed.connect(self.taste.set_counts)
        lib.counts_changed.connect(taste.set_counts)
        jobs.loaded.connect(self._loaded)
        jobs.load_failed.connect(lambda m: (self.add_problem("Library", m), self._loaded([])))
        jobs.rated.connect(self._rated)
        jobs.problem.connect(self.add_problem)
        lib.attach(jobs)
        jobs.preview_failed.connect(lambda m: self.statusBar().showMessage(f"Preview failed: {m}", 8000))
        jobs.import_progress.connect(self.progress.update_progress)
        jobs.imported.connect(lambda s: (self.statusBar().showMessage(s, 15000), self.refresh_albums()))
        jobs.import_ended.connect(self.progress.finish)
        self.analysis.started.connect(lambda msg: self._progress_start("Analysing", msg, self.analysis.cancel))
        self.analysis.progress.connect(self.progress.update_progress)
        self.analysis.arrived.connect(self._analysed)
        self.analysis.failed.connect(lambda m: self.add_problem("Analysis", m))
        self.analysis.finished.connect(self._analysis_done)
        taste.status_changed.connect(lib.rating.set_status)
        taste.predictions.connect(lambda p: lib.set_field(p, "predicted_like"))
        taste.updated.connect(self.taste_updated)
        self.taste.attach(taste)
        self.albums.refresh_requested.connect(self.refresh_albums)
        self.albums.search_requested.connect(self.search_albums)
        self.albums.attach(albums)
        albums.shown.connect(self._albums_shown)
        self.tabs.currentChanged.connect(self._tab_changed)
        connect_playlists(self)

    # --- library ---------------------------------------------------------------------------
    def _loaded(self, rows: LibraryRows | list) -> None:
        self.library.set_tracks(rows)
        first = not self.loaded_once
        self.loaded_once = True
        self.library_loaded.emit()
        watched = [f for f in self.settings.watched_folders() if Path(f).is_dir()]
        if first and watched:  # new, changed, moved and gone files in the watched folders
            self.analysis.scan(watched)

    def toggle_preview(self) -> None:
        if not self.library.play_button.property("deviceAvailable"):
            self.statusBar().showMessage(self.library.play_button.toolTip(), 6000)
            return
        track = self.library.current_track()
        self.jobs.toggle_preview(str(track["path"]) if track else None)

    def rate_selected(self, value) -> None:
        ids = [t["id"] for t in self.library.selected_tracks() if t and t.get("id") is not None]
        if not ids:
            self.statusBar().showMessage("Select one or more tracks in the library to rate them", 5000)
            return
        self.jobs.rate(ids, value)

    def _rated(self, ids: list, value) -> None:
        self.library.set_field({i: value for i in ids}, "rating")
        word = {LIKE: "Liked", DISLIKE: "Disliked", CLEAR: "Cleared the rating of"}[value]
        self.statusBar().showMessage(f"{word} {len(ids)} track(s)", 5000)
        self.taste_jobs.rated()

    # --- adding music ----------------------------------------------------------------------
    def add_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add audio files", str(Path.home()), AUDIO_FILTER)
        if files:
            self.add_paths(files)

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a music folder", str(Path.home()))
        if folder:
            self.add_paths([folder])

    def add_paths(self, paths: list[str]) -> None:
        self.tabs.setCurrentWidget(self.library)
        if not self.analysis.add([str(p) for p in paths]):
            self.statusBar().showMessage(f"Queued {len(paths)} more item(s) for analysis")

    def load_demo(self) -> None:
        if not self.analysis.add_demo():
            self.statusBar().showMessage("The demo library will be made when the current analysis ends")

    def _progress_start(self, verb: str, message: str, cancel) -> None:
        self.progress.verb = verb
        self.progress_cancel = cancel
        self.progress.start(0, message)

    def _analysed(self, items: list) -> None:
        self.library.add_tracks([i["track"] for i in items if i["status"] == "ok" and i.get("track")],
                                select_path=self.analysis.select_path)
        for i in items:
            if not (i["status"] == "ok" and i.get("track")):
                self.add_problem(i["path"], i.get("error") or "could not be analysed.")

    def _analysis_done(self, summary) -> None:
        self.progress.finish()
        msg = f"Analysed {summary.ok} file(s)"
        if summary.failed:
            msg += f"; {summary.failed} could not be analysed (see Problems)"
        if summary.moved or summary.missing:  # rows changed place or went away: show the library as it is
            msg += f"; {summary.moved} moved, {summary.missing} gone"
            self.jobs.load()
        self.statusBar().showMessage(msg + (" — cancelled" if summary.cancelled else ""), 10000)
        if summary.ok and sum(self.model.counts()):
            # New tracks get a predicted like only when there is a model, i.e. ratings; without
            # them the look-up would load torch into this process for nothing.
            self.taste_jobs.refresh_predictions()
        self.analysis_finished.emit()

    def import_catalog_dialog(self) -> None:
        csv, _ = QFileDialog.getOpenFileName(self, "Import a catalog CSV", str(Path.home()),
                                             "CSV files (*.csv);;All files (*)")
        if not csv:
            return
        if self.analysis.busy or self.jobs.import_job is not None:  # both report in the progress strip
            self.statusBar().showMessage("Import the catalog when the current job has finished", 8000)
            return
        self._progress_start("Importing", f"Importing {Path(csv).name}…", self.jobs.cancel_import)
        self.jobs.import_catalog(csv)

    # --- problems ------------------------------------------------------------------------------
    def add_problem(self, where: str, reason: str) -> None:
        self.problems.add(where, reason)
        self.problems_dock.show()

    # --- albums ---------------------------------------------------------------------------------
    def _tab_changed(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is self.taste:  # every visit: a model trained meanwhile (`musicrec taste train`) shows too
            self.taste_jobs.refresh_status()
        if page is self.playlists:
            self.playlists.set_selection(self.library.selected_tracks())
            self.playlist_jobs.refresh_list()
        if page is self.albums and not self.albums.cards and not self.album_jobs.refreshing:
            self.refresh_albums(self.album_jobs.source)

    def refresh_albums(self, source: str | None = None) -> None:
        self.album_jobs.refresh(source or self.album_jobs.source, self.settings.thresholds())

    def search_albums(self, query: dict) -> None:
        if self.album_jobs.search_job is None and self.ensure_contact():
            self.album_jobs.search(query, self.settings.thresholds())

    def _albums_shown(self, albums: list, note: str, errors: list) -> None:
        self.albums.set_albums(albums, note, errors=errors)
        self.albums_shown.emit()

    def ensure_contact(self) -> bool:
        return ask_contact(self, self.settings, self.albums.show_message)

    # --- dialogs and window state -----------------------------------------------------------------
    def open_settings(self) -> None:
        if SettingsDialog(self.settings, str(self.engine.paths.data), self).exec():
            self.engine.set_similarity_weights(self.settings.weights())

    def show_about(self) -> None:
        AboutDialog(str(self.engine.paths.data), self).exec()

    def closeEvent(self, event) -> None:
        self.closing = self.analysis.closing = True
        self.taste_jobs.stop()
        self.playlist_jobs.stop()
        self.playlist_jobs.prepare_timer.stop()
        self.library.similar_timer.stop()
        if self.persist_state:
            save_window_state(self, self.settings.q, self.library)
        playback.stop()
        self.statusBar().showMessage("Finishing background work…")
        if not self.workers.shutdown(15000):
            log.warning("background jobs were still running at exit")
        gc.unfreeze()  # what the loads and playlist preparations froze (workers.collector_paused) is collectable again
        super().closeEvent(event)
