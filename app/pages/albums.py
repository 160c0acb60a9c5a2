"""The Albums page: recommended albums as cards, and a MusicBrainz search form."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.display import count, passes
from app.widgets.album_card import COVER, AlbumCard
from app.widgets.progress_strip import JobProgress
from app.widgets.styled import column, label, muted, row

MAX_CARDS = 100
SOURCES = [("All sources", "all"), ("My library", "library"), ("Imported catalogs", "catalog"),
           ("MusicBrainz", "musicbrainz")]


class AlbumsPage(QWidget):
    refresh_requested = Signal(str)  # source
    search_requested = Signal(dict)  # artist, tag, years
    cancel_requested = Signal()
    cover_wanted = Signal(str)  # release id
    local_cover_wanted = Signal(str, object)  # a library album's key, its track ids

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = column(self, (20, 16, 20, 12), 10)

        top = row()
        top.addWidget(label("Recommended albums", "sectionTitle"))
        top.addStretch(1)
        self.source = QComboBox()
        for name, key in SOURCES:
            self.source.addItem(name, key)
        self.refresh = QPushButton("Refresh")
        self.refresh.clicked.connect(lambda: self.refresh_requested.emit(self.source.currentData()))
        self.source.currentIndexChanged.connect(lambda _i: self.refresh_requested.emit(self.source.currentData()))
        top.addWidget(QLabel("Show"))
        top.addWidget(self.source)
        top.addWidget(self.refresh)
        lay.addLayout(top)

        form = QFrame()
        form.setObjectName("searchForm")
        f = row(form, (12, 8, 12, 8), 8)
        self.artist = QLineEdit()
        self.artist.setPlaceholderText("Artist")
        self.tag = QLineEdit()
        self.tag.setPlaceholderText("Tag or genre")
        self.year_from = QSpinBox()
        self.year_to = QSpinBox()
        for box, v in ((self.year_from, 1900), (self.year_to, 2030)):
            box.setRange(1900, 2030)
            box.setValue(v)
            box.setFixedWidth(76)
        self.search = QPushButton("Search MusicBrainz")
        self.search.setObjectName("primaryButton")
        self.search.setToolTip("Find albums on MusicBrainz, at most one request per second")
        self.search.clicked.connect(self._on_search)
        self.artist.returnPressed.connect(self._on_search)
        self.tag.returnPressed.connect(self._on_search)
        f.addWidget(self.artist, 2)
        f.addWidget(self.tag, 2)
        f.addWidget(QLabel("Years"))
        f.addWidget(self.year_from)
        f.addWidget(QLabel("–"))
        f.addWidget(self.year_to)
        f.addWidget(self.search)
        lay.addWidget(form)
        self.progress = JobProgress("Searching MusicBrainz:")
        self.progress.cancel_requested.connect(self.cancel_requested.emit)
        lay.addWidget(self.progress)

        self.message = muted(wrap=True)
        lay.addWidget(self.message)
        self.list = QListWidget()
        self.list.setObjectName("albumList")
        self.list.setSpacing(4)
        self.list.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay.addWidget(self.list, 1)
        self.cards: list[AlbumCard] = []
        self.show_message("Albums appear here once you have rated some tracks, imported a catalog, or "
                          "searched MusicBrainz.")

    def _on_search(self) -> None:
        years = (self.year_from.value(), self.year_to.value())
        query = {"artist": self.artist.text().strip(), "tag": self.tag.text().strip(),
                 "years": None if years == (1900, 2030) else years}
        if not query["artist"] and not query["tag"]:
            self.show_message("Type an artist or a tag to search MusicBrainz.")
            return
        self.search_requested.emit(query)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_albums(self, albums: list[dict], note: str = "", errors: list | None = None) -> None:
        self.list.clear()
        self.cards = []
        # One widget per card: a few hundred would make the tab slow to fill; the engine ranks
        # recommended albums first, so the first ones are the ones worth showing.
        shown = albums[:MAX_CARDS]
        for a in shown:
            card = AlbumCard(a)
            item = QListWidgetItem()
            # The height the card needs at the list's width (its reasons wrap), not its unwrapped hint.
            width = max(400, self.list.viewport().width() - 24)  # room for the vertical scroll bar
            height = card.heightForWidth(width) if card.hasHeightForWidth() else card.sizeHint().height()
            item.setSizeHint(QSize(width, max(height, COVER + 22)))
            self.list.addItem(item)
            self.list.setItemWidget(item, card)
            self.cards.append(card)
            rid = a.get("release_id")
            if a.get("source") == "library":  # its own picture, from its files: no download
                self.local_cover_wanted.emit(str(a.get("key")), [t.get("ref") for t in a.get("tracks") or []])
            elif rid:
                self.cover_wanted.emit(str(rid))
        if not note:
            good = sum(1 for a in albums if a.get("recommended", True))
            note = (f"{good} of {count(len(albums), 'album')} {passes(good)} your thresholds."
                    if albums else
                    "No albums yet. Rate some tracks, import a catalog, or search MusicBrainz.")
        if len(albums) > len(shown):
            note += f" Showing the first {len(shown)}."
        if errors:
            note += "\n" + "; ".join(str(e) for e in errors[:3]) + (" …" if len(errors) > 3 else "")
        self.show_message(note)

    def set_cover(self, release_id: str, path: str | None) -> None:
        for c in self.cards:
            if path and str(c.album.get("release_id")) == release_id:
                c.set_cover(path)

    def set_local_cover(self, key: str, path: str) -> None:
        for c in self.cards:
            if path and str(c.album.get("key")) == key:
                c.set_cover(path)

    def set_busy(self, busy: bool) -> None:
        self.search.setEnabled(not busy)
        if busy:
            self.progress.start(0, "Searching MusicBrainz…")
        else:
            self.progress.finish()

    def attach(self, jobs) -> None:
        """Follow an AlbumsController: its messages, search progress and covers."""
        self.cancel_requested.connect(jobs.cancel_search)
        self.cover_wanted.connect(lambda rid: self.set_cover(rid, jobs.want_cover(rid)))
        jobs.cover_ready.connect(self.set_cover)
        self.local_cover_wanted.connect(jobs.want_local_cover)
        jobs.local_cover_ready.connect(self.set_local_cover)
        jobs.message.connect(self.show_message)
        jobs.busy.connect(self.set_busy)
        jobs.progress.connect(self.progress.update_progress)
