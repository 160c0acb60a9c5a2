"""The Playlists page: make a playlist (like the selection, taste radio, a path between two tracks,
a filter), see why each track is there (hover), reorder by drag or Move up/down, remove tracks or
add the library's selection, save it, export it, open it in the system's player, or play it here.

It shows what it is given and emits what the user asks for; the jobs live in
app/controllers/playlists.py. The playlist being edited is `self.current`: {"name" (None until
saved), "id", "rules", "tracks", "discover"}.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QWidget,
)

from app.widgets.library_model import fmt_duration
from app.widgets.styled import column, fit_rows, label, muted, row
from app.widgets.transport import Transport

KINDS = [("More like the selected tracks", "seeds"), ("Taste radio: what you are likely to like", "taste"),
         ("A path between two selected tracks", "path"), ("Tracks matching a filter", "filter")]
ID_ROLE = Qt.ItemDataRole.UserRole
DISCOVER_ROWS = 4  # catalog rows "to discover" in view; the list scrolls for the rest


def fmt_total(seconds) -> str:
    """A playlist's length: "42 min", "1 h 40 min"."""
    m = int(round((seconds or 0) / 60))
    return f"{m // 60} h {m % 60} min" if m >= 60 else f"{m} min"


class PlaylistsPage(QWidget):
    make_requested = Signal(str, dict)  # kind, {seeds|start,end|expression, options...}
    open_requested = Signal(object)  # a saved playlist's id
    save_requested = Signal(str, object, bool)  # name, playlist dict, replace
    edit_requested = Signal(object, object)  # saved playlist id, track ids in order
    delete_requested = Signal(object)  # id
    export_requested = Signal(object)  # the playlist dict (the window asks where)
    open_in_player_requested = Signal(object)
    add_selection_requested = Signal()  # the window answers with add_tracks(library selection)
    play_requested = Signal(object, int)  # tracks, row
    toggle_requested = Signal()
    stop_requested = Signal()
    next_requested = Signal()
    seek_requested = Signal(float)
    volume_changed = Signal(float)
    demo_requested = Signal()  # an empty library: the demo library is one click away here too

    def __init__(self, parent=None):
        super().__init__(parent)
        self.current: dict | None = None
        self.seeds: list[dict] = []  # the library selection, for "like the selected" and "path"
        lay = row(self, (16, 12, 16, 10))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("playlistsSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(self._build_saved())
        split.addWidget(self._build_editor())
        split.setSizes([250, 1000])
        split.setStretchFactor(1, 1)
        lay.addWidget(split)
        self._update_buttons()

    # --- construction --------------------------------------------------------------------------
    def _build_saved(self) -> QWidget:
        box = QWidget()
        v = column(box, (0, 0, 8, 0))
        self.saved = QListWidget()
        self.saved.setObjectName("savedPlaylists")
        self.saved.itemActivated.connect(lambda it: self.open_requested.emit(it.data(ID_ROLE)))
        self.saved.itemClicked.connect(lambda it: self.open_requested.emit(it.data(ID_ROLE)))
        self.delete = QPushButton("Delete")
        self.delete.setToolTip("Delete the selected saved playlist (your music files are not touched)")
        self.delete.clicked.connect(self._delete)
        self.saved_empty = muted("None yet. Make one, or<br>right-click tracks in<br>the Library.")
        v.addWidget(label("Saved playlists", "sectionTitle"))
        v.addWidget(self.saved_empty)  # under the title, where the eye looks first
        v.addWidget(self.saved, 1)
        v.addWidget(self.delete)
        return box

    def _build_editor(self) -> QWidget:
        box = QWidget()
        v = column(box, (8, 0, 0, 0), 8)
        form = QFrame()
        form.setObjectName("searchForm")
        f = column(form, (12, 8, 12, 8))
        row1 = row()
        self.kind = QComboBox()
        self.kind.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.kind.setMinimumContentsLength(20)
        for name, key in KINDS:
            self.kind.addItem(name, key)
        self.kind.currentIndexChanged.connect(lambda _i: self._update_buttons())
        self.expression = QLineEdit()
        self.expression.setPlaceholderText("e.g. tag:jazz energy<0.4 year>=1990 -artist:\"Kenny G\"")
        self.expression.setToolTip("tag:, artist:, album:, genre:, key:Am, major/minor, liked/unrated, "
                                   "energy<0.4, tempo>=100, year>=1990, like>0.7; a leading - negates")
        self.expression.returnPressed.connect(self._make)
        self.make = QPushButton("Make playlist")
        self.make.setObjectName("primaryButton")
        self.make.clicked.connect(self._make)
        row1.addWidget(self.kind)
        row1.addWidget(self.expression, 1)
        row1.addWidget(self.make)
        row2 = row()
        self.size_box = QSpinBox()
        self.size_box.setRange(2, 500)
        self.size_box.setValue(30)
        self.size_box.setSuffix(" tracks")
        self.diversity = QDoubleSpinBox()
        self.diversity.setRange(0.0, 1.0)
        self.diversity.setSingleStep(0.1)
        self.diversity.setValue(0.2)
        self.diversity.setToolTip("0: the closest matches only; 1: as varied as possible")
        self.artist_gap = QSpinBox()
        self.artist_gap.setRange(-1, 20)
        self.artist_gap.setValue(-1)
        self.artist_gap.setSpecialValueText("auto")
        self.artist_gap.setToolTip("No artist twice within this many tracks (auto: 2 where the library allows)")
        self.smooth = QCheckBox("Smooth tempo and key")
        self.smooth.setChecked(True)
        self.harmonic = QCheckBox("Harmonic mixing")
        self.harmonic.setToolTip("Prefer Camelot-wheel neighbours from track to track, as a DJ would")
        self.unrated = QCheckBox("Unrated only")
        for w in (QLabel("Size"), self.size_box, QLabel("Diversity"), self.diversity, QLabel("Artist gap"),
                  self.artist_gap):
            row2.addWidget(w)
        row2.addStretch(1)
        row3 = row()
        for w in (self.smooth, self.harmonic, self.unrated):
            row3.addWidget(w)
        row3.addStretch(1)
        self.seed_label = muted()
        f.addLayout(row1)
        f.addLayout(row2)
        f.addLayout(row3)
        f.addWidget(self.seed_label)
        v.addWidget(form)

        head = row()
        self.name = QLineEdit()
        self.name.setObjectName("playlistName")
        self.name.setPlaceholderText("Name it to save it")
        self.name.returnPressed.connect(self._save)
        self.save = QPushButton("Save")
        self.save.clicked.connect(self._save)
        self.summary = muted()
        head.addWidget(self.name, 1)
        head.addWidget(self.save)
        head.addWidget(self.summary)
        v.addLayout(head)
        self.head = head

        self.message = muted("Select tracks in the Library and make a playlist from them, or choose another kind.",
                             wrap=True)
        v.addWidget(self.message)
        self.demo = QPushButton("Try the demo library")
        self.demo.setToolTip("Generates 8 short synthetic tracks in your data folder and analyses them")
        self.demo.clicked.connect(self.demo_requested.emit)
        self.demo.hide()
        v.addWidget(self.demo, 0, Qt.AlignmentFlag.AlignLeft)

        self.tracks = QListWidget()
        self.tracks.setObjectName("playlistTracks")
        self.tracks.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tracks.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tracks.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.tracks.model().rowsMoved.connect(lambda *_a: self._order_changed())
        self.tracks.itemSelectionChanged.connect(self._update_buttons)
        self.tracks.itemDoubleClicked.connect(lambda it: self.play_requested.emit(self._tracks_in_order(),
                                                                                  self.tracks.row(it)))
        v.addWidget(self.tracks, 3)
        self.why = label("", "whyLabel", wrap=True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.why)

        edit = row()
        self.up = QPushButton("Move up")
        self.up.setShortcut("Ctrl+Up")
        self.up.clicked.connect(lambda: self._move(-1))
        self.down = QPushButton("Move down")
        self.down.setShortcut("Ctrl+Down")
        self.down.clicked.connect(lambda: self._move(1))
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._remove)
        self.add_sel = QPushButton("Add selected")
        self.add_sel.setToolTip("Add the tracks selected in the Library to this playlist")
        self.add_sel.clicked.connect(self.add_selection_requested.emit)
        self.export = QPushButton("Export…")
        self.export.setToolTip("Write an .m3u8 or .xspf file other players read")
        self.export.clicked.connect(lambda: self.current and self.export_requested.emit(self._playlist()))
        self.open_player = QPushButton("Open in player")
        self.open_player.setToolTip("Open the playlist in your system's default music player")
        self.open_player.clicked.connect(lambda: self.current and self.open_in_player_requested.emit(self._playlist()))
        for b in (self.up, self.down, self.remove, self.add_sel):
            edit.addWidget(b)
        edit.addStretch(1)
        v.addLayout(edit)
        self.head.addWidget(self.export)
        self.head.addWidget(self.open_player)

        self.transport = Transport()
        self.transport.play_pressed.connect(self._play_clicked)
        for mine, theirs in ((self.stop_requested, self.transport.stop_requested),
                             (self.next_requested, self.transport.next_requested),
                             (self.seek_requested, self.transport.seek_requested),
                             (self.volume_changed, self.transport.volume_changed)):
            theirs.connect(mine.emit)
        self.playing_row = -1
        self.is_playing = False
        v.addWidget(self.transport)

        self.discover_label = muted()
        self.discover = QListWidget()
        self.discover.setObjectName("discoverList")
        self.discover.hide()
        v.addWidget(self.discover_label)
        v.addWidget(self.discover, 1)
        return box

    # --- what the window tells it --------------------------------------------------------------
    def set_selection(self, tracks: list[dict]) -> None:
        """The library's selected tracks: seeds for "more like" and the two ends of a path."""
        self.seeds = [t for t in tracks if t and t.get("id") is not None]
        names = ", ".join(f"“{t.get('title') or 'untitled'}”" for t in self.seeds[:3])
        more = f" and {len(self.seeds) - 3} more" if len(self.seeds) > 3 else ""
        self.seed_label.setText(f"Selected in the Library: {names}{more}" if self.seeds else
                                "No tracks selected in the Library.")
        self._update_buttons()

    def set_library_size(self, n: int) -> None:
        """With no tracks yet, say how to get some (and offer the demo library) instead of the form's hint."""
        self.demo.setVisible(n == 0)
        if n == 0:
            self.message.setText("Your library is empty: add music on the Library page, or try the demo library — "
                                 "then make a playlist from any track.")
        elif self.current is None and self.message.text().startswith("Your library is empty"):
            self.message.setText("Select tracks in the Library and make a playlist from them, or choose another kind.")

    def set_saved(self, playlists: list[dict]) -> None:
        current_id = self.current.get("id") if self.current else None
        self.saved.blockSignals(True)
        self.saved.clear()
        for p in playlists:
            it = QListWidgetItem(f"{p['name']}\n{p['count']} tracks · {fmt_total(p['seconds'])}")
            it.setData(ID_ROLE, p["id"])
            it.setToolTip(f"made by: {p['rules'].get('mode', 'hand')}")
            self.saved.addItem(it)
            if p["id"] == current_id:
                it.setSelected(True)
        self.saved.blockSignals(False)
        self.saved_empty.setVisible(not playlists)
        self._update_buttons()

    def show_playlist(self, p: dict, saved: bool) -> None:
        """A made (saved=False) or saved playlist becomes the one being edited."""
        self.current = {"id": p.get("id") if saved else None, "name": p.get("name") if saved else None,
                        "rules": p.get("rules") or {}, "tracks": list(p.get("tracks") or []),
                        "discover": list(p.get("discover") or [])}
        self.name.setText(self.current["name"] or "")
        self._fill_tracks()
        self.discover.clear()
        for d in self.current["discover"]:
            it = QListWidgetItem(f"{d.get('name') or d.get('title') or '?'}   [{d.get('catalog')}]")
            it.setToolTip("\n".join(d.get("why") or []))
            it.setFlags(Qt.ItemFlag.ItemIsEnabled)  # listed to look for; it cannot be played or added
            self.discover.addItem(it)
        fit_rows(self.discover, DISCOVER_ROWS)
        self.discover.setVisible(bool(self.current["discover"]))
        self.discover_label.setText(
            "To discover — tracks in your imported catalogs that are not on this computer (hover for why):"
            if self.current["discover"] else
            "To discover: import a catalog CSV (File menu) to also see tracks like these that you do not have.")
        notes = p.get("notes") or []
        where = "Saved." if saved else "Not saved yet: name it and press Save."
        sentences = (n[:1].upper() + n[1:].rstrip(".") + "." for n in notes if n)  # the engine's notes are clauses
        self.message.setText(" ".join([where, *sentences]))

    def add_tracks(self, tracks: list[dict]) -> None:
        if self.current is None:
            self.current = {"id": None, "name": None, "rules": {"mode": "by hand"}, "tracks": [], "discover": []}
        have = {t["id"] for t in self.current["tracks"]}
        new = [dict(t, why=["added by you"]) for t in tracks if t.get("id") is not None and t["id"] not in have]
        if not new:
            self.message.setText("Select tracks in the Library that are not in this playlist yet, then add them.")
            return
        self.current["tracks"] += new
        self._fill_tracks()
        self._changed()

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def set_busy(self, busy: bool) -> None:
        self.make.setEnabled(not busy)
        self.make.setText("Making…" if busy else "Make playlist")

    def set_preview_device(self, available: bool, why: str) -> None:
        self.transport.set_device(available, why)

    def now_playing(self, row: int, seconds: float) -> None:
        self.playing_row, self.is_playing = row, True
        self.transport.started(seconds)
        for i in range(self.tracks.count()):
            f = self.tracks.item(i).font()
            f.setBold(i == row)
            self.tracks.item(i).setFont(f)
        t = self.current["tracks"][row] if self.current and row < len(self.current["tracks"]) else {}
        self.message.setText(f"Playing {t.get('artist') or '?'} – {t.get('title') or '?'}")

    def set_position(self, seconds: float) -> None:
        self.transport.set_position(seconds)

    def playback_stopped(self) -> None:
        self.playing_row, self.is_playing = -1, False
        self.transport.stopped()

    # --- the list ------------------------------------------------------------------------------
    def _fill_tracks(self) -> None:
        self.tracks.blockSignals(True)
        self.tracks.clear()
        for n, t in enumerate(self.current["tracks"], 1):
            it = QListWidgetItem(f"{n:>2}.  {t.get('artist') or '?'} – {t.get('title') or '?'}"
                                 f"   ({fmt_duration(t.get('duration'))})")
            it.setData(ID_ROLE, t["id"])
            it.setToolTip("\n".join(t.get("why") or []) or "no reason recorded")
            if t.get("exists") is False:
                it.setText(it.text() + "   — file missing")
            self.tracks.addItem(it)
        self.tracks.blockSignals(False)
        total = sum(t.get("duration") or 0 for t in self.current["tracks"])
        self.summary.setText(f"{len(self.current['tracks'])} tracks · {fmt_total(total)}")
        self._update_buttons()

    def _tracks_in_order(self) -> list[dict]:
        by_id = {t["id"]: t for t in self.current["tracks"]} if self.current else {}
        return [by_id[self.tracks.item(i).data(ID_ROLE)] for i in range(self.tracks.count())]

    def _order_changed(self) -> None:
        """After a drag (or a move): the model's order is the playlist's order."""
        self.current["tracks"] = self._tracks_in_order()
        self._fill_tracks()
        self._changed()

    def _move(self, step: int) -> None:
        rows = sorted({self.tracks.row(i) for i in self.tracks.selectedItems()})
        if not rows or self.current is None:
            return
        tracks = self.current["tracks"]
        if (step < 0 and rows[0] == 0) or (step > 0 and rows[-1] == len(tracks) - 1):
            return
        for r in (rows if step < 0 else reversed(rows)):
            tracks[r], tracks[r + step] = tracks[r + step], tracks[r]
        self._fill_tracks()
        for r in rows:
            self.tracks.item(r + step).setSelected(True)
        self._changed()

    def _remove(self) -> None:
        gone = {i.data(ID_ROLE) for i in self.tracks.selectedItems()}
        if gone and self.current is not None:
            self.current["tracks"] = [t for t in self.current["tracks"] if t["id"] not in gone]
            self._fill_tracks()
            self._changed()

    def _changed(self) -> None:
        """A saved playlist is kept as edited at once; a new one waits for Save."""
        if self.current.get("id") is not None:
            self.edit_requested.emit(self.current["id"], [t["id"] for t in self.current["tracks"]])

    # --- actions -------------------------------------------------------------------------------
    def options(self) -> dict:
        gap = self.artist_gap.value()
        return {"size": self.size_box.value(), "diversity": round(self.diversity.value(), 2),
                "artist_gap": None if gap < 0 else gap, "smooth": self.smooth.isChecked(),
                "harmonic": self.harmonic.isChecked(), "exclude_rated": self.unrated.isChecked()}

    def _make(self) -> None:
        kind = self.kind.currentData()
        args = self.options()
        if kind == "seeds":
            if not self.seeds:
                self.message.setText("Select one or more tracks in the Library first.")
                return
            args["seeds"] = [t["id"] for t in self.seeds]
        elif kind == "path":
            if len(self.seeds) != 2:
                self.message.setText("Select exactly two tracks in the Library: where the path starts and ends.")
                return
            args["start"], args["end"] = self.seeds[0]["id"], self.seeds[1]["id"]
        elif kind == "filter":
            if not self.expression.text().strip():
                self.message.setText("Type a filter first, e.g. tag:jazz energy<0.4")
                return
            args["expression"] = self.expression.text().strip()
        self.make_requested.emit(kind, args)

    def _playlist(self) -> dict:
        return {**self.current, "tracks": self._tracks_in_order(),
                "name": self.name.text().strip() or self.current.get("name") or "MusicRec playlist"}

    def _save(self) -> None:
        name = self.name.text().strip()
        if self.current is None or not self.current["tracks"]:
            self.message.setText("Make a playlist first, then name it and save it.")
            return
        if not name:
            self.message.setText("Give the playlist a name to save it.")
            self.name.setFocus()
            return
        # saving under the name it already has replaces it; another name makes a new playlist
        replace = self.current.get("name") is not None and name.casefold() == self.current["name"].casefold()
        self.save_requested.emit(name, self._playlist(), replace)

    def _delete(self) -> None:
        items = self.saved.selectedItems()
        if items:
            pid = items[0].data(ID_ROLE)
            if self.current and self.current.get("id") == pid:
                self.current["id"] = self.current["name"] = None
            self.delete_requested.emit(pid)

    def _play_clicked(self) -> None:
        if self.is_playing or self.playing_row >= 0:
            self.toggle_requested.emit()
            self.is_playing = not self.is_playing
            self.transport.show_playing(self.is_playing)
            return
        if self.current and self.current["tracks"]:
            sel = self.tracks.selectedItems()
            self.play_requested.emit(self._tracks_in_order(), self.tracks.row(sel[0]) if sel else 0)

    def _show_why(self) -> None:
        sel = self.tracks.selectedItems()
        if not sel or self.current is None:
            self.why.setText("")
            return
        t = next((t for t in self.current["tracks"] if t["id"] == sel[0].data(ID_ROLE)), None)
        self.why.setText(f"Why “{t.get('title') or 'untitled'}”: " + "; ".join(t.get("why") or ["—"]) if t else "")

    def _update_buttons(self) -> None:
        self._show_why()
        kind = self.kind.currentData()
        self.expression.setVisible(kind == "filter")
        has = bool(self.current and self.current["tracks"])
        sel = bool(self.tracks.selectedItems())
        for b, on in ((self.save, has), (self.export, has), (self.open_player, has), (self.up, sel),
                      (self.down, sel), (self.remove, sel), (self.delete, bool(self.saved.selectedItems()))):
            b.setEnabled(on)
