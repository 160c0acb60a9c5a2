"""An album card: cover (or a generated placeholder), title, artist, score, reasons and a link."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout

COVER = 88
SOURCE_NAMES = {"library": "in your library", "catalog": "from an imported catalog",
                "musicbrainz": "from MusicBrainz"}


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
        artist = QLabel(str(field(album, "artist", "artist_name", "album_artist", default="Unknown artist")))
        artist.setTextFormat(Qt.TextFormat.PlainText)  # a name is text, never markup: "D'Agostino", "<3"
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
        meta = album.get("metadata") if album.get("basis") == "metadata" else None
        if meta:  # judged by artist, label and tags: no track of it was heard
            stats.append(f"by metadata ({', '.join(meta.get('kinds') or []) or 'nothing to go on'})")
        elif share is not None:
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
            r.setTextFormat(Qt.TextFormat.PlainText)
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
