"""The Library page: an empty-state welcome, or the track table with the detail, rating and
"sounds similar" panels beside it. It shows what it is given and emits what the user asks for;
the jobs behind it live in the controllers."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from app.widgets.detail import DetailPanel
from app.widgets.library_model import TRACK_ROLE, LibraryFilter, LibraryModel
from app.widgets.library_table import LibraryTable
from app.widgets.rating import RatingPanel
from app.widgets.similar import SimilarPanel
from app.widgets.styled import column, label, muted, row

SIMILAR_DELAY_MS = 150  # arrow keys move the selection quickly; look up only where the user stops
PLAY, STOP = "▶  Preview", "■  Stop"


class LibraryPage(QStackedWidget):
    add_folder_requested = Signal()
    add_files_requested = Signal()
    demo_requested = Signal()
    rate_requested = Signal(object)  # LIKE, DISLIKE or CLEAR, for the selected tracks
    preview_requested = Signal()
    similar_wanted = Signal(object)  # the track the user settled on
    playlist_wanted = Signal(object)  # "Make playlist from this": the selected tracks
    counts_changed = Signal(int, int)  # likes, dislikes

    def __init__(self, demo_marker: str = "", parent=None):
        super().__init__(parent)
        self.demo_marker = demo_marker  # a path fragment that only the demo library's files contain
        self.model = LibraryModel(self)
        self.proxy = LibraryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.addWidget(self._build_empty_state())
        self.addWidget(self._build_table_page())
        self.similar_timer = QTimer(self)
        self.similar_timer.setSingleShot(True)
        self.similar_timer.setInterval(SIMILAR_DELAY_MS)
        self.similar_timer.timeout.connect(self._want_similar)

    # --- construction ------------------------------------------------------------------------
    def _build_empty_state(self) -> QWidget:
        page = QWidget()
        page.setObjectName("emptyState")
        outer = column(page)
        outer.addStretch(2)
        box = column(spacing=12)
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
        buttons = row()
        buttons.addStretch(1)
        folder = QPushButton("Add folder…")
        folder.setObjectName("primaryButton")
        folder.clicked.connect(self.add_folder_requested.emit)
        files = QPushButton("Add files…")
        files.clicked.connect(self.add_files_requested.emit)
        self.demo_button = QPushButton("Try the demo library")
        self.demo_button.setToolTip("Generates 8 short synthetic tracks in your data folder and analyses them")
        self.demo_button.clicked.connect(self.demo_requested.emit)
        for b in (folder, files, self.demo_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        box.addSpacing(8)
        box.addLayout(buttons)
        box.addSpacing(4)
        note = muted("The demo library is clearly marked: its artist is “MusicRec Demo”,<br>"
                     "and its generated files live in MusicRec's data folder, never among your music.")
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(note, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addLayout(box)
        outer.addStretch(3)
        return page

    def _build_table_page(self) -> QWidget:
        page = QWidget()
        lay = column(page, (12, 10, 12, 0), 8)
        top = row(spacing=8)
        self.filter = QLineEdit()
        self.filter.setObjectName("filterField")
        self.filter.setPlaceholderText("Filter by title, artist, album, key, genre, year, tag:jazz…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.count_label = muted()
        self.play_button = QPushButton(PLAY)
        self.play_button.setObjectName("playButton")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.preview_requested.emit)
        # Beside Preview, not under the side panels: it acts on the selection and is always in view.
        self.playlist_button = QPushButton("Make playlist from this")
        self.playlist_button.setObjectName("playlistFromThis")
        self.playlist_button.setToolTip("A playlist of tracks that sound like the selected ones (Playlists page)")
        self.playlist_button.setEnabled(False)
        self.playlist_button.clicked.connect(self._want_playlist)
        add = QPushButton("Add…")
        add.setToolTip("Add files (Ctrl+O) or a folder (Ctrl+Shift+O)")
        add.clicked.connect(self.add_files_requested.emit)
        top.addWidget(self.filter, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.play_button)
        top.addWidget(self.playlist_button)
        top.addWidget(add)
        lay.addLayout(top)

        self.demo_banner = label("Demo library: these tracks were generated by MusicRec to show how it works. "
                                 "Add your own music any time.", "demoBanner", wrap=True)
        self.demo_banner.hide()
        lay.addWidget(self.demo_banner)

        self.table = LibraryTable(self.model, self.proxy)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.preview_requested.emit())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)

        side = QWidget()
        side.setObjectName("sidePanel")
        side.setMinimumWidth(330)
        sl = column(side, (0, 0, 0, 0), 10)
        self.detail = DetailPanel()
        self.detail.tag_clicked.connect(self.filter_by_tag)
        self.rating = RatingPanel()
        self.rating.rate.connect(self.rate_requested.emit)
        self.similar = SimilarPanel()
        self.similar.track_activated.connect(self.select_track_id)
        sl.addWidget(self.detail)
        self.similar.setMinimumHeight(150)
        sl.addWidget(self.rating)
        sl.addWidget(self.similar, 1)
        # On a short screen the panels scroll rather than squeeze their rows into each other.
        side_scroll = QScrollArea()
        side_scroll.setObjectName("sideScroll")
        side_scroll.setWidget(side)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setMinimumWidth(side.minimumWidth())

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("librarySplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(side_scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([940, 350])
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        return page

    # --- contents ------------------------------------------------------------------------------
    def set_tracks(self, tracks) -> None:
        """The whole library: a LibraryRows made in a worker, or a list of track dicts."""
        self.model.set_tracks(tracks)
        self.refresh()

    def add_tracks(self, tracks: list[dict], select_path: str | None = None) -> None:
        """Rows for newly analysed tracks; `select_path` (a resolved path) is selected when it arrives."""
        select = None
        for t in tracks:
            row = self.model.upsert(t)
            if select_path and str(t.get("path")) == select_path:
                select = row
        if tracks:
            self.refresh()
        if select is not None:  # after the table page is shown: selection there is what the panels follow
            self.select_source_row(select)

    def set_field(self, values: dict, field: str) -> None:
        self.model.set_field(values, field)
        if field == "rating":
            self.refresh()
        self.detail.show_track(self.current_track())

    def refresh(self) -> None:
        n = self.model.rowCount()
        self.setCurrentIndex(1 if n else 0)
        shown = self.proxy.rowCount()
        self.count_label.setText(f"{n:,} tracks" if shown == n else f"{shown:,} of {n:,} tracks")
        marker = self.demo_marker
        demo = bool(n and marker) and any(marker in str(t.get("path") or "") for t in self.model.tracks[-50:])
        self.demo_banner.setVisible(demo)
        likes, dislikes = self.model.counts()
        self.rating.set_counts(likes, dislikes)
        self.counts_changed.emit(likes, dislikes)

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self.refresh()

    def filter_by_tag(self, tag: str) -> None:
        """Show the tracks the listening model gave `tag` (a click on a tag chip)."""
        from app.widgets.tag_chips import filter_term

        self.filter.setText(filter_term(tag))

    def focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    # --- selection -----------------------------------------------------------------------------
    def select_source_row(self, row: int) -> None:
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        if idx.isValid():
            self.table.selectionModel().select(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.table.setCurrentIndex(idx)
            self.table.scrollTo(idx)

    def select_titles(self, titles) -> None:
        """Select the shown tracks with these titles, as ctrl-clicks would (the last one current)."""
        sel = self.table.selectionModel()
        sel.clearSelection()
        for r in range(self.proxy.rowCount()):
            idx = self.proxy.index(r, 0)
            if idx.data() in titles:
                sel.select(idx, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
                sel.setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.NoUpdate)

    def select_track_id(self, track_id: int) -> None:
        row = self.model.row_of(track_id)
        if row is not None:
            self.filter.clear()
            self.select_source_row(row)

    def selected_tracks(self) -> list[dict]:
        rows = self.table.selectionModel().selectedRows() if self.currentIndex() == 1 else []
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
        self.playlist_button.setEnabled(bool(self.selected_tracks()))
        self.play_button.setEnabled(bool(track) and bool(self.play_button.property("deviceAvailable")))
        self.similar.looking(track)
        if track is not None:
            self.similar_timer.start()

    def table_menu(self) -> QMenu:
        """The table's context menu for the current selection (built, not shown: tests use it too)."""
        menu = QMenu(self)
        act = menu.addAction("Make playlist from this", self._want_playlist)
        act.setEnabled(bool(self.selected_tracks()))
        return menu

    def _table_menu(self, pos) -> None:
        self.table_menu().exec(self.table.viewport().mapToGlobal(pos))

    def _want_playlist(self) -> None:
        tracks = [t for t in self.selected_tracks() if t]
        if tracks:
            self.playlist_wanted.emit(tracks)

    def _want_similar(self) -> None:
        track = self.current_track()
        if track is not None:
            self.similar_wanted.emit(track)

    def show_similar(self, track_id, results: list[dict]) -> None:
        current = self.current_track()
        if current is not None and current.get("id") == track_id:  # else the user moved on meanwhile
            self.similar.show_results(results)

    # --- preview -------------------------------------------------------------------------------
    def set_preview_device(self, available: bool, why: str) -> None:
        self.play_button.setProperty("deviceAvailable", available)
        self.play_button.setToolTip(why)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText(STOP if playing else PLAY)

    def attach(self, jobs) -> None:
        """Follow a LibraryController: similar tracks for the selection, and the preview's state."""
        self.similar_wanted.connect(jobs.similar)
        jobs.similar_ready.connect(self.show_similar)
        jobs.similar_failed.connect(self.similar.show_note)
        jobs.playing.connect(self.set_playing)
