"""The main window: library table, detail and rating side panel, Albums and Taste tabs, the
analysis queue and the Problems panel. Every engine call runs in the worker pool (app.workers);
results come back here by signals, in the GUI thread."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import playback, services
from app.about import AboutDialog
from app.albums_view import AlbumsTab
from app.detail import DetailPanel
from app.library_model import COLUMNS, ID_ROLE, TRACK_ROLE, CellDelegate, LibraryFilter, LibraryModel
from app.progress_bar import JobProgress
from app.settings import EMAIL, AppSettings, SettingsDialog
from app.taste_view import CLEAR, DISLIKE, LIKE, RatingPanel, TasteTab, status_text
from app.workers import Workers, children_at_low_priority
from musicrec_engine import APP_NAME
from musicrec_engine.library.demo import DEMO_FOLDER

log = logging.getLogger(__name__)
RETRAIN_DELAY_MS = 1500  # ratings usually come in bursts; retrain once the user pauses
AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.oga *.opus *.mp3 *.m4a *.mp4 *.aac *.aif *.aiff);;All files (*)"
HEADER_KEY = "window/header-v3"  # bump when the columns change, so an old layout is not applied
COLUMN_WIDTHS = [200, 130, 120, 56, 52, 74, 64, 70, 74, 64, 70, 84]
HIDDEN_COLUMNS = {"Mode"}  # the key column already says "maj"/"min"; the header menu shows it again


class MainWindow(QMainWindow):
    cover_ready = Signal(str, str)  # release id, image path ("" when there is none); any thread
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
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.setAcceptDrops(True)

        self.analysis_job = None
        self.pending_paths: list[str] = []
        self.select_after_analysis: str | None = None
        self.taste_state = "idle"
        self.taste_info: dict = {}
        # The taste model's status loads torch; that waits until the Taste tab is opened or a track
        # is rated, so start-up (and a first analysis) never share the interpreter with that import.
        self.taste_status_loaded = False
        self.retrain_again = False
        self.closing = False
        self.search_job = None
        self.album_source = "all"

        self.retrain_timer = QTimer(self)
        self.retrain_timer.setSingleShot(True)
        self.retrain_timer.setInterval(RETRAIN_DELAY_MS)
        self.retrain_timer.timeout.connect(self.retrain)
        self.similar_timer = QTimer(self)
        self.similar_timer.setSingleShot(True)
        self.similar_timer.setInterval(150)
        self.similar_timer.timeout.connect(self._load_similar)
        self.arrived: list[dict] = []
        self.arrival_timer = QTimer(self)
        self.arrival_timer.setSingleShot(True)
        self.arrival_timer.setInterval(500)
        self.arrival_timer.timeout.connect(self._show_arrived)

        self._build_actions()
        self._build_ui()
        if persist_state:
            self._restore_state()
        QTimer.singleShot(0, self.reload_library)

    # --- construction ----------------------------------------------------------------------
    def _build_actions(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        self.act_add_files = file.addAction("Add &files…", self.add_files_dialog, QKeySequence.StandardKey.Open)
        self.act_add_folder = file.addAction("Add f&older…", self.add_folder_dialog, QKeySequence("Ctrl+Shift+O"))
        self.act_import = file.addAction("&Import catalog CSV…", self.import_catalog_dialog)
        self.act_demo = file.addAction("Load the &demo library", self.load_demo)
        file.addSeparator()
        file.addAction("&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        file.addSeparator()
        file.addAction("&Quit", self.close, QKeySequence.StandardKey.Quit)
        rate = mb.addMenu("&Rate")
        self.act_like = rate.addAction("&Like", lambda: self.rate_selected(LIKE), QKeySequence("L"))
        self.act_dislike = rate.addAction("&Dislike", lambda: self.rate_selected(DISLIKE), QKeySequence("D"))
        self.act_clear = rate.addAction("&Clear rating", lambda: self.rate_selected(CLEAR), QKeySequence("0"))
        rate.addSeparator()
        rate.addAction("&Retrain the taste model now", self.retrain)
        view = mb.addMenu("&View")
        self.act_find = view.addAction("&Find", self._focus_filter, QKeySequence.StandardKey.Find)
        self.act_problems = view.addAction("&Problems", lambda: self.problems_dock.show())
        helpm = mb.addMenu("&Help")
        helpm.addAction(f"&About {APP_NAME}", self.show_about)

    def _build_ui(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)

        # Library tab: empty state, or the table with its side panel.
        self.model = LibraryModel(self)
        self.proxy = LibraryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.library_stack = QStackedWidget()
        self.library_stack.addWidget(self._build_empty_state())
        self.library_stack.addWidget(self._build_library_page())
        self.tabs.addTab(self.library_stack, "Library")

        self.albums = AlbumsTab()
        self.albums.refresh_requested.connect(self.refresh_albums)
        self.albums.search_requested.connect(self.search_albums)
        self.albums.cancel_requested.connect(self.cancel_search)
        self.albums.cover_wanted.connect(self._want_cover)
        self.cover_ready.connect(lambda rid, path: path and self.albums.set_cover(rid, path))
        self.tabs.addTab(self.albums, "Albums")
        self.taste = TasteTab()
        self.taste.retrain.connect(self.retrain)
        self.tabs.addTab(self.taste, "Taste")
        self.tabs.currentChanged.connect(self._tab_changed)

        self.analysis_progress = JobProgress("Analysing")
        self.analysis_progress.cancel_requested.connect(self.cancel_analysis)

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.analysis_progress)
        self.setCentralWidget(central)

        self.drop_overlay = QLabel("Drop audio files or folders to analyse them", central)
        self.drop_overlay.setObjectName("dropOverlay")
        self.drop_overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_overlay.hide()

        self.problems = QListWidget()
        self.problems.setObjectName("problemsList")
        self.problems.setAlternatingRowColors(True)
        pw = QWidget()
        pl = QVBoxLayout(pw)
        pl.setContentsMargins(8, 4, 8, 8)
        self.problems_summary = QLabel("")
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear_problems)
        row = QHBoxLayout()
        row.addWidget(self.problems_summary, 1)
        row.addWidget(clear)
        pl.addLayout(row)
        pl.addWidget(self.problems)
        self.problems_dock = QDockWidget("Problems", self)
        self.problems_dock.setObjectName("problemsDock")
        self.problems_dock.setWidget(pw)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.problems_dock.hide()
        self.statusBar().showMessage("Ready")

    def _build_empty_state(self) -> QWidget:
        page = QWidget()
        page.setObjectName("emptyState")
        outer = QVBoxLayout(page)
        outer.addStretch(2)
        box = QVBoxLayout()
        box.setSpacing(12)
        title = QLabel("Your library is empty")
        title.setObjectName("emptyTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Explicit line breaks rather than word wrap: wrapped labels in centred layouts get clipped.
        text = QLabel(
            "Drag audio files or whole folders onto this window, or use the buttons below.<br>"
            "MusicRec listens to each file on this computer — nothing is uploaded — and shows<br>"
            "its tempo, key, energy, mood and more. Then like or dislike a few tracks:<br>"
            "it learns your taste, scores the rest and suggests albums.")
        text.setObjectName("emptyText")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(title)
        box.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        b1 = QPushButton("Add folder…")
        b1.setObjectName("primaryButton")
        b1.clicked.connect(self.add_folder_dialog)
        b2 = QPushButton("Add files…")
        b2.clicked.connect(self.add_files_dialog)
        self.demo_button = QPushButton("Try the demo library")
        self.demo_button.setToolTip("Generates 8 short synthetic tracks in your data folder and analyses them")
        self.demo_button.clicked.connect(self.load_demo)
        for b in (b1, b2, self.demo_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        box.addSpacing(8)
        box.addLayout(buttons)
        box.addSpacing(4)
        note = QLabel("The demo library is clearly marked: its artist is “MusicRec Demo”,<br>"
                      "and its generated files live in MusicRec's data folder, never among your music.")
        note.setObjectName("mutedText")
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(note, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addLayout(box)
        outer.addStretch(3)
        return page

    def _build_library_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(12, 10, 12, 0)
        lay.setSpacing(8)

        top = QHBoxLayout()
        top.setSpacing(8)
        self.filter = QLineEdit()
        self.filter.setObjectName("filterField")
        self.filter.setPlaceholderText("Filter by title, artist, album, key, genre, year…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.count_label = QLabel("")
        self.count_label.setObjectName("mutedText")
        self.play_button = QPushButton("▶  Preview")
        self.play_button.setObjectName("playButton")
        can_play, why = playback.output_device()
        self.play_button.setEnabled(False)
        self.play_button.setProperty("deviceAvailable", can_play)
        self.play_button.setToolTip(why)
        self.play_button.clicked.connect(self.toggle_preview)
        self.preview_job = None
        add = QPushButton("Add…")
        add.setToolTip("Add files (Ctrl+O) or a folder (Ctrl+Shift+O)")
        add.clicked.connect(self.add_files_dialog)
        top.addWidget(self.filter, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.play_button)
        top.addWidget(add)
        lay.addLayout(top)

        self.demo_banner = QLabel("Demo library: these tracks were generated by MusicRec to show how it works. "
                                  "Add your own music any time.")
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.hide()
        lay.addWidget(self.demo_banner)

        self.table = QTableView()
        self.table.setObjectName("libraryTable")
        self.table.setModel(self.proxy)
        self.cells = CellDelegate(self.table, self.model, self.proxy)
        self.cells.set_colours("#1f2229", "#23272f", "#34466e", "#e3e7ef", "#ffffff")  # as in style.qss
        self.table.setItemDelegate(self.cells)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.table.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(28)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setHighlightSections(False)
        for i, w in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(i, w)
            self.table.setColumnHidden(i, COLUMNS[i] in HIDDEN_COLUMNS)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._header_menu)
        hh.setStretchLastSection(False)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.toggle_preview())

        side = QWidget()
        side.setObjectName("sidePanel")
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.setSpacing(10)
        self.detail = DetailPanel()
        self.rating = RatingPanel()
        self.rating.rate.connect(self.rate_selected)
        sim_box = QFrame()
        sim_box.setObjectName("similarPanel")
        sb = QVBoxLayout(sim_box)
        sb.setContentsMargins(16, 10, 16, 12)
        sim_title = QLabel("Sounds similar")
        sim_title.setObjectName("panelTitle")
        self.similar = QListWidget()
        self.similar.setObjectName("similarList")
        self.similar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.similar.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.similar.itemActivated.connect(self._similar_activated)
        self.similar_note = QLabel("Select a track to find others that sound like it.")
        self.similar_note.setObjectName("mutedText")
        self.similar_note.setWordWrap(True)
        sb.addWidget(sim_title)
        sb.addWidget(self.similar_note)
        sb.addWidget(self.similar, 1)
        sl.addWidget(self.detail)
        sl.addWidget(self.rating)
        sl.addWidget(sim_box, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("librarySplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([940, 350])
        self.splitter.setChildrenCollapsible(False)
        side.setMinimumWidth(330)
        lay.addWidget(self.splitter, 1)
        return page

    def _header_menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        for i, name in enumerate(COLUMNS[1:], 1):
            act = menu.addAction(name)
            act.setCheckable(True)
            act.setChecked(not self.table.isColumnHidden(i))
            act.toggled.connect(lambda on, i=i: self.table.setColumnHidden(i, not on))
        menu.exec(self.table.horizontalHeader().mapToGlobal(pos))

    # --- window state ----------------------------------------------------------------------
    def _restore_state(self) -> None:
        q = self.settings.q
        if q.value("window/geometry"):
            self.restoreGeometry(q.value("window/geometry"))
        if q.value("window/state"):
            self.restoreState(q.value("window/state"))
        if q.value("window/splitter"):
            self.splitter.restoreState(q.value("window/splitter"))
        if q.value(HEADER_KEY):
            self.table.horizontalHeader().restoreState(q.value(HEADER_KEY))
        self.tabs.setCurrentIndex(int(q.value("window/tab", 0)))

    def _save_state(self) -> None:
        q = self.settings.q
        q.setValue("window/geometry", self.saveGeometry())
        q.setValue("window/state", self.saveState())
        q.setValue("window/splitter", self.splitter.saveState())
        q.setValue(HEADER_KEY, self.table.horizontalHeader().saveState())
        q.setValue("window/tab", self.tabs.currentIndex())
        q.sync()

    def closeEvent(self, event) -> None:
        self.closing = True
        self.retrain_timer.stop()
        self.similar_timer.stop()
        if self.persist_state:
            self._save_state()
        playback.stop()
        self.statusBar().showMessage("Finishing background work…")
        if not self.workers.shutdown(15000):
            log.warning("background jobs were still running at exit")
        super().closeEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.drop_overlay.setGeometry(self.centralWidget().rect().adjusted(24, 24, -24, -24))

    # --- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.drop_overlay.setGeometry(self.centralWidget().rect().adjusted(24, 24, -24, -24))
            self.drop_overlay.raise_()
            self.drop_overlay.show()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.drop_overlay.hide()

    def dropEvent(self, event) -> None:
        self.drop_overlay.hide()
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)

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
        """Queue files/folders for analysis; a single dropped file gets selected when it is done."""
        self.select_after_analysis = (str(Path(paths[0]).resolve()) if len(paths) == 1 and Path(paths[0]).is_file()
                                      else None)
        self.pending_paths.extend(paths)
        self.tabs.setCurrentIndex(0)
        if self.analysis_job is None:
            self._start_analysis()
        else:
            self.statusBar().showMessage(f"Queued {len(paths)} more item(s) for analysis")

    def load_demo(self) -> None:
        if self.analysis_job is not None:
            self.statusBar().showMessage("The demo library will be made when the current analysis ends")
        self.pending_paths.append(_DEMO)
        if self.analysis_job is None:
            self._start_analysis()

    def _start_analysis(self) -> None:
        paths, self.pending_paths = self.pending_paths, []
        demo = _DEMO in paths
        paths = [p for p in paths if p is not _DEMO]
        workers = self.settings.get("workers")

        def work(job):
            with children_at_low_priority():
                if demo:
                    services.make_demo(self.engine, job, jobs=workers)
                if paths and not job.cancel.is_set():
                    services.analyze(self.engine, paths, job, jobs=workers)

        self.analysis_progress.start(0, "Generating the demo library…" if demo else "Looking for audio files…")
        self.analysis_ok = self.analysis_failed = 0
        self.analysis_job = self.workers.run("analysis", work, item=self._analysed, failed=self._analysis_error,
                                             progress=self.analysis_progress.update_progress)
        self.analysis_job.signals.done.connect(self._analysis_done)

    def _analysed(self, item: dict) -> None:
        """Finished files are shown in batches, at most twice a second: each repaint of the table
        costs the GUI thread CPU time, which a machine busy with analysis hands out slowly."""
        self.arrived.append(item)
        if not self.arrival_timer.isActive():
            self.arrival_timer.start()

    def _show_arrived(self) -> None:
        items, self.arrived = self.arrived, []
        select = None
        for item in items:
            if item["status"] == "ok" and item.get("track"):
                self.analysis_ok += 1
                row = self.model.upsert(item["track"])
                if self.select_after_analysis and str(Path(item["path"]).resolve()) == self.select_after_analysis:
                    select = row
                    self.select_after_analysis = None
            else:
                self.analysis_failed += 1
                self.add_problem(item["path"], item.get("error") or "could not be analysed.")
        if items:
            self._library_changed()
        if select is not None:  # after the table page is shown: selection there is what the panels follow
            self._select_source_row(select)

    def _analysis_error(self, message: str) -> None:
        self.add_problem("Analysis", message)

    def _analysis_done(self) -> None:
        if self.closing:
            return
        self.arrival_timer.stop()
        self._show_arrived()
        cancelled = self.analysis_job.cancel.is_set()
        self.analysis_job = None
        self.analysis_progress.finish()
        msg = f"Analysed {self.analysis_ok} file(s)"
        if self.analysis_failed:
            msg += f"; {self.analysis_failed} could not be analysed (see Problems)"
        if cancelled:
            msg += " — cancelled"
        self.statusBar().showMessage(msg, 10000)
        if self.pending_paths and not cancelled:
            self._start_analysis()
        else:
            self.pending_paths = []
            if self.analysis_ok and sum(self.model.counts()):
                # New tracks get a predicted like only when there is a model, i.e. ratings; without
                # them the look-up would load torch into this process for nothing.
                self.refresh_predictions()
            self.analysis_finished.emit()

    def cancel_analysis(self) -> None:
        if self.analysis_job is not None:
            self.pending_paths = []
            self.analysis_job.cancel.set()

    def import_catalog_dialog(self) -> None:
        csv, _ = QFileDialog.getOpenFileName(self, "Import a catalog CSV", str(Path.home()), "CSV files (*.csv);;All files (*)")
        if not csv:
            return
        if self.analysis_job is not None or self.workers.busy("import"):
            self.statusBar().showMessage("Import the catalog when the current job has finished", 8000)
            return  # both jobs report in the same progress strip
        progress = self.analysis_progress
        progress.verb = "Importing"
        progress.start(0, f"Importing {Path(csv).name}…")

        def done(report):
            progress.verb = "Analysing"
            progress.finish()
            summary = report.summary() if hasattr(report, "summary") else f"Imported {Path(csv).name}"
            self.statusBar().showMessage(summary, 15000)
            for m in getattr(report, "messages", []) or []:
                self.add_problem(csv, m)
            self.refresh_albums(self.album_source)

        def failed(msg):
            progress.verb = "Analysing"
            progress.finish()
            self.add_problem(csv, msg)

        job = self.workers.run("import", lambda j: services.import_catalog(self.engine, j, csv),
                               finished=done, failed=failed, progress=progress.update_progress)
        progress.cancel_requested.connect(job.cancel.set)

    # --- problems ------------------------------------------------------------------------------
    def add_problem(self, where: str, reason: str) -> None:
        name = Path(where).name if ("/" in where or "\\" in where) else where
        item = QListWidgetItem(f"{name} — {reason}")
        item.setToolTip(where)
        self.problems.addItem(item)
        n = self.problems.count()
        self.problems_summary.setText(f"{n} problem(s). Each file's reason is listed; the other files were still analysed.")
        self.problems_dock.show()

    def clear_problems(self) -> None:
        self.problems.clear()
        self.problems_dock.hide()

    # --- library -------------------------------------------------------------------------------
    def reload_library(self) -> None:
        def loaded(tracks):
            self.model.set_tracks(tracks)
            self._library_changed()
            self.library_loaded.emit()

        def failed(msg):
            self._library_changed()
            self.add_problem("Library", msg)
            self.library_loaded.emit()

        self.workers.run("load library", lambda j: services.load_tracks(self.engine), finished=loaded, failed=failed)

    def _library_changed(self) -> None:
        n = self.model.rowCount()
        self.library_stack.setCurrentIndex(1 if n else 0)
        shown = self.proxy.rowCount()
        self.count_label.setText(f"{n:,} tracks" if shown == n else f"{shown:,} of {n:,} tracks")
        demo = any(DEMO_FOLDER in str(t.get("path") or "") for t in self.model.tracks[-50:]) if n else False
        self.demo_banner.setVisible(demo)
        likes, dislikes = self.model.counts()
        self.rating.set_counts(likes, dislikes)
        self.taste.set_counts(likes, dislikes)
        self._show_taste_status()

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._library_changed()

    def _focus_filter(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.filter.setFocus()
        self.filter.selectAll()

    def _select_source_row(self, row: int) -> None:
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        if idx.isValid():
            self.table.selectionModel().select(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.table.setCurrentIndex(idx)
            self.table.scrollTo(idx)

    def selected_tracks(self) -> list[dict]:
        rows = self.table.selectionModel().selectedRows() if self.library_stack.currentIndex() == 1 else []
        return [r.data(TRACK_ROLE) for r in rows]

    def current_track(self) -> dict | None:
        idx = self.table.currentIndex()
        if not idx.isValid() or not self.table.selectionModel().isRowSelected(idx.row(), QModelIndex()):
            sel = self.selected_tracks()
            return sel[0] if sel else None
        return idx.data(TRACK_ROLE)

    def _selection_changed(self, *_args) -> None:
        track = self.current_track()
        self.detail.show_track(track)
        self.rating.set_enabled(bool(self.selected_tracks()))
        self.play_button.setEnabled(bool(track) and bool(self.play_button.property("deviceAvailable")))
        self.similar.clear()
        if track is not None:
            self.similar_note.setText("Looking for similar tracks…")
            self.similar_timer.start()
        else:
            self.similar_note.setText("Select a track to find others that sound like it.")

    # --- similar -----------------------------------------------------------------------------
    def _load_similar(self) -> None:
        track = self.current_track()
        if track is None:
            return
        ident = track.get("id")

        def done(results):
            current = self.current_track()
            if current is None or current.get("id") != ident:
                return  # the user moved on; a newer request is under way
            self.similar.clear()
            for r in results:
                title = r.get("title") or Path(str(r.get("path") or r.get("id") or "")).stem
                who = r.get("artist") or ""
                score = r.get("score")
                item = QListWidgetItem(f"{title}" + (f" — {who}" if who else ""))
                because = r.get("because") or []
                why = ", ".join(_because(b) for b in because) if isinstance(because, list) else str(because)
                src = r.get("source") or ""
                where = r.get("catalog") or ("your library" if src == "library" else src)
                sc = f", similarity {float(score):+.2f}" if score is not None else ""
                item.setToolTip(f"{where} · {r.get('space', '')} space{sc}" + (f"\nclose in {why}" if why else ""))
                # -1, not None: PySide 6.12 drops a reference to None each time Python reads an empty
                # item value back, and enough of those crash the interpreter.
                item.setData(ID_ROLE, int(r["id"]) if src in ("", "library") and r.get("id") is not None else -1)
                self.similar.addItem(item)
            self.similar_note.setText("" if results else "Nothing similar yet — add more music or import a catalog.")
            self.similar_note.setVisible(not results)

        def failed(msg):
            self.similar_note.setText(msg)
            self.similar_note.show()

        self.workers.run("similar", lambda j: services.similar(self.engine, track, top=10), finished=done, failed=failed)

    def _similar_activated(self, item: QListWidgetItem) -> None:
        tid = item.data(ID_ROLE)
        row = self.model.row_of(tid) if tid is not None and tid >= 0 else None
        if row is not None:
            self.filter.clear()
            self._select_source_row(row)

    # --- preview -------------------------------------------------------------------------------
    def toggle_preview(self) -> None:
        if not self.play_button.property("deviceAvailable"):
            self.statusBar().showMessage(self.play_button.toolTip(), 6000)
            return
        if self.preview_job is not None:
            self.preview_job.cancel.set()
            return
        track = self.current_track()
        if not track:
            return
        self.play_button.setText("■  Stop")
        self.preview_job = self.workers.run("preview", lambda j: playback.play(str(track["path"]), j.cancel),
                                            failed=lambda m: self.statusBar().showMessage(f"Preview failed: {m}", 8000))
        self.preview_job.signals.done.connect(self._preview_done)

    def _preview_done(self) -> None:
        self.preview_job = None
        if not self.closing:
            self.play_button.setText("▶  Preview")

    # --- rating and taste ----------------------------------------------------------------------
    def rate_selected(self, value) -> None:
        tracks = [t for t in self.selected_tracks() if t and t.get("id") is not None]
        if not tracks:
            self.statusBar().showMessage("Select one or more tracks in the library to rate them", 5000)
            return
        ids = [t["id"] for t in tracks]

        def done(_):
            self.model.set_field({i: value for i in ids}, "rating")
            self._library_changed()
            self.detail.show_track(self.current_track())
            word = {LIKE: "Liked", DISLIKE: "Disliked", CLEAR: "Cleared the rating of"}[value]
            self.statusBar().showMessage(f"{word} {len(ids)} track(s)", 5000)
            self.taste_state = "stale" if self.taste_state != "training" else "training"
            self._show_taste_status()
            self.retrain_timer.start()

        self.workers.run("rate", lambda j: services.rate(self.engine, ids, value), finished=done,
                         failed=lambda m: self.add_problem("Rating", m))

    def retrain(self) -> None:
        self.retrain_timer.stop()
        if self.workers.busy("train"):
            self.retrain_again = True
            return
        self.retrain_again = False
        self.taste_state = "training"
        self._show_taste_status()

        def done(info):
            self.taste_info = info or {}
            self.taste_status_loaded = True  # the training reported the model's status
            self.taste_state = "idle"
            self._show_taste_status()
            self.refresh_predictions(after_training=True)
            self.refresh_explanation()

        def failed(msg):
            self.taste_state = "failed"
            self._show_taste_status()
            self.taste.set_status(self.taste.status.text() + "\n" + msg)

        job = self.workers.run("train", lambda j: services.train(self.engine, j), finished=done, failed=failed)
        job.signals.done.connect(lambda: self.retrain() if self.retrain_again and not self.closing else None)

    def refresh_predictions(self, after_training: bool = False) -> None:
        def done(probs):
            self.model.set_field(probs, "predicted_like")
            self.detail.show_track(self.current_track())
            if after_training:
                self.taste_updated.emit()

        self.workers.run("predict", lambda j: services.predictions(self.engine), finished=done,
                         failed=lambda m: log.info("no predictions: %s", m))

    def refresh_taste_status(self) -> None:
        self.taste_status_loaded = True

        def done(info):
            self.taste_info = info or {}
            self._show_taste_status()

        self.workers.run("taste status", lambda j: services.status(self.engine), finished=done,
                         failed=lambda m: log.info("no taste status: %s", m))
        self.refresh_explanation()

    def refresh_explanation(self) -> None:
        self.workers.run("explain", lambda j: services.explain(self.engine), finished=self.taste.set_explanation,
                         failed=lambda m: None)

    def _show_taste_status(self) -> None:
        likes, dislikes = self.model.counts()
        text = status_text(self.taste_info, likes, dislikes, self.taste_state)
        if not self.taste_status_loaded and likes + dislikes and self.taste_state == "idle":
            text = "Model: predictions from your earlier ratings — the Taste tab has the details."
        self.rating.set_status(text)
        self.taste.set_status(text)

    # --- albums ---------------------------------------------------------------------------------
    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.taste and not self.taste_status_loaded:
            self.refresh_taste_status()
        if self.tabs.widget(index) is self.albums and not self.albums.cards and not self.workers.busy("albums"):
            self.refresh_albums(self.album_source)

    def refresh_albums(self, source: str = "all") -> None:
        self.album_source = source or "all"
        self.albums.show_message("Ranking albums…")

        def done(report):
            self.albums.set_albums(report["albums"], errors=report["errors"])
            self.albums_shown.emit()

        def failed(msg):
            self.albums.set_albums([], msg)
            self.albums_shown.emit()

        self.workers.run("albums", lambda j: services.albums(self.engine, self.album_source, self.settings.thresholds()),
                         finished=done, failed=failed)

    def _want_cover(self, release_id: str) -> None:
        """Covers come from the engine's cache, or are fetched there in its own threads; the
        callback only emits a signal, which Qt queues to this (the GUI) thread."""
        covers = getattr(self.engine, "cover_art", None)
        if covers is None:
            return
        try:
            path = covers().get(release_id, on_ready=lambda rid, p: self._emit_cover(rid, p))
        except (ValueError, OSError) as exc:
            log.info("no cover for %s: %s", release_id, exc)
            return
        if path:
            self.albums.set_cover(release_id, str(path))

    def _emit_cover(self, release_id, path) -> None:
        with contextlib.suppress(RuntimeError):  # the window has closed meanwhile
            self.cover_ready.emit(release_id, str(path or ""))

    def ensure_contact(self) -> bool:
        """MusicBrainz asks every client for a contact address; ask once and remember it."""
        if self.settings.contact():
            return True
        text, ok = QInputDialog.getText(
            self, "Contact address for MusicBrainz",
            "MusicBrainz asks every program to identify itself with a contact address.\n"
            "It is sent only to MusicBrainz, in the User-Agent of each request. Your e-mail address:")
        text = text.strip()
        if not ok or not EMAIL.match(text):
            if ok:
                self.albums.show_message("That does not look like an e-mail address; the search did not start.")
            return False
        self.settings.save_musicbrainz(contact=text)
        return True

    def search_albums(self, query: dict) -> None:
        if self.search_job is not None:
            return
        if not self.ensure_contact():
            return
        self.albums.set_busy(True)
        self.albums.progress.start(0, "Searching MusicBrainz…")

        def done(report):
            albums = report["albums"]
            good = sum(1 for a in albums if a.get("recommended", True))
            note = (f"{len(albums)} album(s) found on MusicBrainz; {good} pass your thresholds." if albums else
                    "MusicBrainz returned no albums for this search.")
            if report["cancelled"]:
                note = "Search cancelled. " + note
            self.albums.set_albums(albums, note, errors=report["errors"])
            self.albums_shown.emit()

        def failed(msg):
            self.albums.show_message(msg)

        def finished():
            self.search_job = None
            self.albums.set_busy(False)
            self.albums.progress.finish()

        self.search_job = self.workers.run(
            "album search", lambda j: services.search_albums(self.engine, j, **query, thresholds=self.settings.thresholds()),
            finished=done, failed=failed, progress=self.albums.progress.update_progress)
        self.search_job.signals.done.connect(finished)

    def cancel_search(self) -> None:
        if self.search_job is not None:
            self.search_job.cancel.set()

    # --- dialogs --------------------------------------------------------------------------------
    def open_settings(self) -> None:
        if SettingsDialog(self.settings, str(self.engine.paths.data), self).exec():
            self.engine.set_similarity_weights(self.settings.weights())

    def show_about(self) -> None:
        AboutDialog(str(self.engine.paths.data), self).exec()

    def open_url(self, url: str) -> None:
        QDesktopServices.openUrl(QUrl(url))


def _because(b) -> str:
    if not isinstance(b, dict):
        return str(b)
    name, q, r = b.get("attribute"), b.get("query"), b.get("result")
    if isinstance(q, (int, float)) and isinstance(r, (int, float)):
        return f"{name} ({q:.2f} vs {r:.2f})" if abs(q) < 2 and abs(r) < 2 else f"{name} ({q:.0f} vs {r:.0f})"
    return str(name)


_DEMO = object()  # marks "make the demo library" in the analysis queue
