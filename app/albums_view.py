"""The Albums tab: recommended albums as cards, and a MusicBrainz search form."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.progress_bar import JobProgress

COVER = 88
MAX_CARDS = 100
SOURCE_NAMES = {"library": "in your library", "catalog": "from an imported catalog",
                "musicbrainz": "from MusicBrainz"}
SOURCES = [("All sources", "all"), ("My library", "library"), ("Imported catalogs", "catalog"),
           ("MusicBrainz", "musicbrainz")]


def field(album: dict, *names, default=None):
    for n in names:
        v = album.get(n)
        if v not in (None, ""):
            return v
    return default


def mb_url(album: dict) -> str | None:
    url = field(album, "url", "musicbrainz_url")
    if url:
        return str(url)
    rg = field(album, "release_group_id", "release_group_mbid")
    if rg:
        return f"https://musicbrainz.org/release-group/{rg}"
    rel = field(album, "release_id", "release_mbid")
    return f"https://musicbrainz.org/release/{rel}" if rel else None


def placeholder_cover(title: str, size: int = COVER) -> QPixmap:
    """A calm gradient tile with the album's initials, for albums without cover art."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    hue = (sum(map(ord, title or "?")) * 37) % 360
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    g = QLinearGradient(0, 0, size, size)
    g.setColorAt(0, QColor.fromHsv(hue, 90, 120))
    g.setColorAt(1, QColor.fromHsv((hue + 40) % 360, 110, 70))
    p.setBrush(g)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(0, 0, size, size), 8, 8)
    p.setPen(QColor(255, 255, 255, 210))
    f = QFont()
    f.setPixelSize(size // 3)
    f.setBold(True)
    p.setFont(f)
    initials = "".join(w[0] for w in (title or "?").split()[:2]).upper()
    p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initials)
    p.end()
    return pm


class AlbumCard(QFrame):
    def __init__(self, album: dict, parent=None):
        super().__init__(parent)
        self.setObjectName("albumCard")
        self.album = album
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.setSpacing(14)
        title = str(field(album, "title", "album", "name", default="(untitled album)"))
        self.cover = QLabel()
        self.cover.setFixedSize(COVER, COVER)
        self.cover.setPixmap(placeholder_cover(title))
        lay.addWidget(self.cover, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(3)
        year = field(album, "year", "date")
        head = QLabel(f"<b>{html.escape(title)}</b>" + (f"  <span style='color:#8b93a7'>({html.escape(str(year)[:4])})</span>" if year else ""))
        head.setObjectName("albumTitle")
        artist = QLabel(html.escape(str(field(album, "artist", "artist_name", "album_artist", default="Unknown artist"))))
        artist.setObjectName("albumArtist")
        text.addWidget(head)
        text.addWidget(artist)
        score = field(album, "mean_probability", "score")
        share = field(album, "liked_share", "share_liked")
        n_tracks = field(album, "total", "n_tracks", "tracks")
        n_tracks = len(n_tracks) if isinstance(n_tracks, list) else n_tracks
        source = field(album, "source", default="")
        stats = []
        if score is not None:
            stats.append(f"score {float(score):.2f}")
        if share is not None:
            stats.append(f"{float(share):.0%} of tracks liked")
        if n_tracks:
            stats.append(f"{n_tracks} track{'s' if n_tracks != 1 else ''}")
        if source:
            stats.append(SOURCE_NAMES.get(source, f"from {source}"))
        self.recommended = bool(album.get("recommended", True))
        if not self.recommended:
            self.setProperty("dimmed", True)
            stats.insert(0, "not recommended")
        self.stats = QLabel(" · ".join(stats))
        self.stats.setObjectName("mutedText")
        text.addWidget(self.stats)
        reasons = field(album, "reasons", "reason", default=[])
        if isinstance(reasons, str):
            reasons = [reasons]
        if reasons:
            r = QLabel("; ".join(str(x) for x in reasons[:3]))
            r.setObjectName("albumReasons")
            r.setWordWrap(True)
            text.addWidget(r)
        url = mb_url(album)
        if url:
            link = QLabel(f'<a href="{html.escape(url)}">Open in MusicBrainz ↗</a>')
            link.setOpenExternalLinks(True)
            link.setObjectName("albumLink")
            text.addWidget(link)
        text.addStretch(1)
        lay.addLayout(text, 1)

    def set_cover(self, path: str) -> None:
        pm = QPixmap(path)
        if not pm.isNull():
            self.cover.setPixmap(pm.scaled(COVER, COVER, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                           Qt.TransformationMode.SmoothTransformation))


class AlbumsTab(QWidget):
    refresh_requested = Signal(str)  # source
    search_requested = Signal(dict)  # artist, tag, years
    cancel_requested = Signal()
    cover_wanted = Signal(str)  # release id

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 16, 20, 12)
        lay.setSpacing(10)

        top = QHBoxLayout()
        head = QLabel("Recommended albums")
        head.setObjectName("sectionTitle")
        top.addWidget(head)
        top.addStretch(1)
        self.source = QComboBox()
        for label, key in SOURCES:
            self.source.addItem(label, key)
        self.refresh = QPushButton("Refresh")
        self.refresh.clicked.connect(lambda: self.refresh_requested.emit(self.source.currentData()))
        self.source.currentIndexChanged.connect(lambda _i: self.refresh_requested.emit(self.source.currentData()))
        top.addWidget(QLabel("Show"))
        top.addWidget(self.source)
        top.addWidget(self.refresh)
        lay.addLayout(top)

        form = QFrame()
        form.setObjectName("searchForm")
        f = QHBoxLayout(form)
        f.setContentsMargins(12, 8, 12, 8)
        f.setSpacing(8)
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

        self.message = QLabel("")
        self.message.setObjectName("mutedText")
        self.message.setWordWrap(True)
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
            if rid:
                self.cover_wanted.emit(str(rid))
        if not note:
            good = sum(1 for a in albums if a.get("recommended", True))
            note = (f"{good} of {len(albums)} album(s) pass your thresholds." if albums else
                    "No albums yet. Rate some tracks, import a catalog, or search MusicBrainz.")
        if len(albums) > len(shown):
            note += f" Showing the first {len(shown)}."
        if errors:
            note += "\n" + "; ".join(str(e) for e in errors[:3]) + (" …" if len(errors) > 3 else "")
        self.show_message(note)

    def set_cover(self, release_id: str, path: str) -> None:
        for c in self.cards:
            if str(c.album.get("release_id")) == release_id:
                c.set_cover(path)

    def set_busy(self, busy: bool) -> None:
        self.search.setEnabled(not busy)
