"""The library table: a flat model over Library.tracks() dicts, and a fast text filter.

Every cell's display text and sort key are computed once when a row arrives, so data() is a
list look-up: the view stays smooth at 50,000 rows, and sorting compares native values in C++.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from app.display import readable
from musicrec_engine.engine import Engine

KEY_NAMES = Engine.KEY_NAMES

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
TRACK_ROLE = Qt.ItemDataRole.UserRole + 3

COLUMNS = ["Title", "Artist", "Album", "Time", "BPM", "Key", "Mode", "Energy", "Valence",
           "Dance", "Like %", "Rating", "Tags"]
TAGS_SHOWN = 3  # in the Tags column; the detail panel shows more
COLUMN_TIPS = {"BPM": "Tempo in beats per minute", "Dance": "Danceability (0–1)",
               "Like %": "How likely you are to like the track, predicted by your taste model",
               "Energy": "Energy (0–1)", "Valence": "Valence: musical positiveness (0–1)",
               "Tags": "What the listening model (MusiCNN) hears, most probable first; filter with tag:NAME"}
NUMERIC = {3, 4, 7, 8, 9, 10}
CENTRED = {5, 6, 11}  # key, mode, rating: short words that read best apart from the numbers beside them
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
_ALIGN = [_RIGHT if c in NUMERIC else _CENTER if c in CENTRED else _LEFT for c in range(len(COLUMNS))]


def attr_value(track: dict, name: str):
    a = (track.get("attributes") or {}).get(name)
    if a is None:
        return None
    v = a.get("value") if isinstance(a, dict) else getattr(a, "value", a)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def track_title(track: dict) -> str:
    if track.get("title"):
        return str(track["title"])
    path = readable(str(track.get("path") or ""))
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0] if path else "(untitled)"


def fmt_duration(seconds) -> str:
    if seconds is None:
        return ""
    s = int(round(float(seconds)))
    return f"{s // 60}:{s % 60:02d}"


def _row(track: dict) -> tuple[list, list, str]:
    dur = track.get("duration")
    tempo = attr_value(track, "tempo")
    key = attr_value(track, "key")
    mode = attr_value(track, "mode")
    units = [attr_value(track, n) for n in ("energy", "valence", "danceability")]
    pred = track.get("predicted_like")
    rating = track.get("rating")
    key_txt = KEY_NAMES[int(key)] if key is not None and 0 <= key < 12 else ("–" if key is not None else "")
    mode_txt = "" if mode is None or key_txt in ("", "–") else ("major" if mode >= 0.5 else "minor")
    if mode_txt:
        key_txt = f"{key_txt} {mode_txt[:3]}"  # "G maj": the key column reads on its own
    texts = [
        track_title(track), track.get("artist") or "", track.get("album") or "", fmt_duration(dur),
        f"{tempo:.0f}" if tempo is not None else "", key_txt, mode_txt,
        *[f"{u:.2f}" if u is not None else "" for u in units],
        f"{pred * 100:.0f}%" if pred is not None else "",
        {1: "♥ liked", 0: "✕ disliked"}.get(rating, ""),
        ", ".join(t["tag"] for t in (track.get("tags") or [])[:TAGS_SHOWN]),
    ]
    # Sort keys of one type per column (Qt compares them natively); missing values sort first.
    keys = [
        texts[0].casefold(), texts[1].casefold(), texts[2].casefold(), float(dur) if dur is not None else -1.0,
        tempo if tempo is not None else -1.0, float(key) if key is not None else -2.0,
        mode if mode is not None else -1.0, *[u if u is not None else -1.0 for u in units],
        float(pred) if pred is not None else -1.0, {1: 2.0, 0: 0.0}.get(rating, 1.0), texts[12].casefold(),
    ]
    hay = " ".join((texts[0], texts[1], texts[2], texts[6], str(track.get("album_artist") or ""),
                    str(track.get("genre") or ""), str(track.get("year") or ""),
                    readable(str(track.get("path") or "")), *tag_words(track))).casefold()
    return texts, keys, hay


def tag_words(track: dict) -> list[str]:
    """The filter words of a track's tags, one per tag ("tag:hard_rock"), matched whole by LibraryFilter."""
    return ["tag:" + str(t["tag"]).replace(" ", "_") for t in track.get("tags") or []]


class LibraryModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.tracks: list[dict] = []
        self._text: list[list] = []
        self._keys: list[list] = []
        self.haystack: list[str] = []
        self._row_of: dict = {}

    # Qt interface -------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.tracks)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text[index.row()][index.column()]
        if role == SORT_ROLE:
            return self._keys[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _ALIGN[index.column()]
        if role == ID_ROLE:
            return self.tracks[index.row()].get("id")
        if role == TRACK_ROLE:
            return self.tracks[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return readable(str(self.tracks[index.row()].get("path") or ""))
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _ALIGN[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return COLUMN_TIPS.get(COLUMNS[section])
        return None

    # updates --------------------------------------------------------------------------------
    def set_tracks(self, tracks: list[dict]) -> None:
        self.beginResetModel()
        self.tracks = list(tracks)
        rows = [_row(t) for t in self.tracks]
        self._text = [r[0] for r in rows]
        self._keys = [r[1] for r in rows]
        self.haystack = [r[2] for r in rows]
        self._row_of = {self._ident(t): i for i, t in enumerate(self.tracks)}
        self.endResetModel()

    def upsert(self, track: dict) -> int:
        """Add a track, or refresh it in place when it is already there; returns its row."""
        ident = self._ident(track)
        texts, keys, hay = _row(track)
        row = self._row_of.get(ident)
        if row is None:
            row = len(self.tracks)
            self.beginInsertRows(QModelIndex(), row, row)
            self.tracks.append(track)
            self._text.append(texts)
            self._keys.append(keys)
            self.haystack.append(hay)
            self._row_of[ident] = row
            self.endInsertRows()
        else:
            self.tracks[row], self._text[row], self._keys[row], self.haystack[row] = track, texts, keys, hay
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        return row

    def set_field(self, values: dict, field: str) -> None:
        """Update one field (e.g. predicted_like or rating) for tracks by id."""
        changed = []
        for tid, value in values.items():
            row = self._row_of.get(tid)
            if row is None:
                continue
            t = dict(self.tracks[row])
            t[field] = value
            self.tracks[row] = t
            self._text[row], self._keys[row], self.haystack[row] = _row(t)
            changed.append(row)
        if changed:
            col = COLUMNS.index("Like %" if field == "predicted_like" else "Rating")
            self.dataChanged.emit(self.index(min(changed), col), self.index(max(changed), col))

    def row_of(self, ident) -> int | None:
        return self._row_of.get(ident)

    def counts(self) -> tuple[int, int]:
        likes = sum(1 for t in self.tracks if t.get("rating") == 1)
        dislikes = sum(1 for t in self.tracks if t.get("rating") == 0)
        return likes, dislikes

    @staticmethod
    def _ident(track: dict):
        return track.get("id") if track.get("id") is not None else track.get("path")


class LibraryFilter(QSortFilterProxyModel):
    """Case-insensitive substring filter over title, artist, album, key, mode, genre, year and
    path; every word must match (so "bach minor" finds Bach's pieces in minor keys)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._words: list[str] = []
        self._tags: list[str] = []
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(False)  # re-sorting on every arriving row would make rows jump

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        words = text.casefold().split()
        # "tag:jazz" matches the tag exactly (a word of its own in the haystack), so "tag:electro"
        # does not also bring in "electronic"
        self._tags = [f" {w} " for w in words if w.startswith("tag:") and len(w) > 4]
        self._words = [w for w in words if not (w.startswith("tag:") and len(w) > 4)]
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row, source_parent):
        if not self._words and not self._tags:
            return True
        hay = self.sourceModel().haystack[source_row]
        return all(w in hay for w in self._words) and all(t in f" {hay} " for t in self._tags)


class CellDelegate(QStyledItemDelegate):
    """Paints library cells straight from the model's text table.

    Qt's own delegate asks the model for about seven roles per cell, each a call into Python;
    at a 20-row screen that was ~28 ms per repaint, enough to stall the GUI on a busy machine.
    One Python call per cell that draws the text itself costs a fraction of that."""

    def __init__(self, view, model: LibraryModel, proxy: QSortFilterProxyModel):
        super().__init__(view)
        self.model, self.proxy = model, proxy
        pal = view.palette()
        self.alt = pal.color(QPalette.ColorRole.AlternateBase)
        self.base = pal.color(QPalette.ColorRole.Base)
        self.sel = pal.color(QPalette.ColorRole.Highlight)
        self.text = pal.color(QPalette.ColorRole.Text)
        self.sel_text = pal.color(QPalette.ColorRole.HighlightedText)

    def set_colours(self, base, alt, sel, text, sel_text) -> None:
        self.base, self.alt, self.sel = QColor(base), QColor(alt), QColor(sel)
        self.text, self.sel_text = QColor(text), QColor(sel_text)

    def paint(self, painter, option, index):
        row, col = self.proxy.mapToSource(index).row(), index.column()
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(rect, self.sel if selected else (self.alt if index.row() % 2 else self.base))
        text = self.model._text[row][col]
        if text:
            painter.setPen(self.sel_text if selected else self.text)
            inner = rect.adjusted(8, 0, -8, 0)
            if col < 3 or col == 12:  # title, artist, album and tags: the only texts that can outgrow their column
                text = option.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, inner.width())
            painter.drawText(inner, _ALIGN[col], text)
