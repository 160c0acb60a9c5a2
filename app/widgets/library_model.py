"""The library table: a flat model over Library.tracks() dicts, and a fast text filter.

Every cell's display text and sort key are computed once, in the loading worker, so data() is a
list look-up and the window takes a whole library in one reset: the view stays smooth at 50,000
rows. The model sorts itself: one Python sort of the precomputed keys and one layout change. A
QSortFilterProxyModel sorting a Python model calls data() from C++ twice per comparison, some
300,000 calls for 10,000 rows, and the window stood still for half a second to a second on a click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer
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


def _like_cell(pred) -> tuple[str, float | None]:
    return (f"{pred * 100:.0f}%", float(pred)) if pred is not None else ("", None)


def _rating_cell(rating) -> tuple[str, float]:
    # Unrated is the middle of a three-step scale, not a missing value: liked, unrated, disliked.
    return {1: "♥ liked", 0: "✕ disliked"}.get(rating, ""), {1: 2.0, 0: 0.0}.get(rating, 1.0)


def _row(track: dict) -> tuple[list, list, str]:
    dur = track.get("duration")
    tempo = attr_value(track, "tempo")
    key = attr_value(track, "key")
    mode = attr_value(track, "mode")
    units = [attr_value(track, n) for n in ("energy", "valence", "danceability")]
    like, like_key = _like_cell(track.get("predicted_like"))
    rating, rating_key = _rating_cell(track.get("rating"))
    key_txt = KEY_NAMES[int(key)] if key is not None and 0 <= key < 12 else ("–" if key is not None else "")
    mode_txt = "" if mode is None or key_txt in ("", "–") else ("major" if mode >= 0.5 else "minor")
    if mode_txt:
        key_txt = f"{key_txt} {mode_txt[:3]}"  # "G maj": the key column reads on its own
    texts = [
        track_title(track), track.get("artist") or "", track.get("album") or "", fmt_duration(dur),
        f"{tempo:.0f}" if tempo is not None else "", key_txt, mode_txt,
        *[f"{u:.2f}" if u is not None else "" for u in units],
        like, rating, ", ".join(t["tag"] for t in (track.get("tags") or [])[:TAGS_SHOWN]),
    ]
    # Sort keys of one type per column, None where the cell is empty (those rows sort last).
    keys = [
        texts[0].casefold(), texts[1].casefold() or None, texts[2].casefold() or None,
        float(dur) if dur is not None else None, tempo, key, mode, *units, like_key, rating_key,
        texts[12].casefold() or None,
    ]
    hay = " ".join((texts[0], texts[1], texts[2], texts[6], str(track.get("album_artist") or ""),
                    str(track.get("genre") or ""), str(track.get("year") or ""),
                    readable(str(track.get("path") or "")), *tag_words(track))).casefold()
    return texts, keys, hay


def tag_words(track: dict) -> list[str]:
    """The filter words of a track's tags, one per tag ("tag:hard_rock"), matched whole by LibraryFilter."""
    return ["tag:" + str(t["tag"]).replace(" ", "_") for t in track.get("tags") or []]


def _ident(track: dict):
    return track.get("id") if track.get("id") is not None else track.get("path")


@dataclass
class LibraryRows:
    """The table's rows made ready off the GUI thread: texts, sort keys, filter text, row by track."""

    tracks: list[dict] = field(default_factory=list)
    text: list[list] = field(default_factory=list)
    keys: list[list] = field(default_factory=list)
    haystack: list[str] = field(default_factory=list)
    row_of: dict = field(default_factory=dict)

    @classmethod
    def build(cls, tracks: list[dict]) -> LibraryRows:
        rows = [_row(t) for t in tracks]
        return cls(list(tracks), [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                   {_ident(t): i for i, t in enumerate(tracks)})


def sorted_rows(keys: list, descending: bool) -> list[int]:
    """Row numbers in the order of `keys` (None last in either direction); equal keys keep their order."""
    present = [i for i, k in enumerate(keys) if k is not None]
    present.sort(key=keys.__getitem__, reverse=descending)  # Python's sort stays stable when reversed
    return present + [i for i, k in enumerate(keys) if k is None]


def free_in_steps(*lists: list, chunk: int = 512) -> None:
    """Empty these lists a chunk per turn of the event loop. Freeing a replaced 10,000-track table
    (some 600,000 objects) in one go stopped the window for 40-75 ms; a chunk takes a few, and the
    window paints and answers in between. (In another thread the GIL would change hands for every
    cell the window paints meanwhile.) The caller must hold the only references to the lists."""
    def step():
        for xs in lists:
            if xs:
                del xs[-chunk:]
                QTimer.singleShot(0, step)
                return

    QTimer.singleShot(0, step)


class LibraryModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.tracks: list[dict] = []
        self._text: list[list] = []
        self._keys: list[list] = []
        self.haystack: list[str] = []
        self._row_of: dict = {}
        self._sort = (-1, Qt.SortOrder.AscendingOrder)

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

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the rows by a column's keys, keeping selections and current rows on their tracks.
        Rows that arrive later (analysis) are added at the end; a new load comes in sorted."""
        self._sort = (column, order)
        if column < 0 or not self.tracks:
            return
        self.layoutAboutToBeChanged.emit()
        order_ = sorted_rows([k[column] for k in self._keys], order == Qt.SortOrder.DescendingOrder)
        self.tracks, self._text, self._keys, self.haystack = (
            [xs[i] for i in order_] for xs in (self.tracks, self._text, self._keys, self.haystack))
        moved_to = [0] * len(order_)
        for new, old in enumerate(order_):
            moved_to[old] = new
        self._row_of = {ident: moved_to[r] for ident, r in self._row_of.items()}
        held = self.persistentIndexList()
        self.changePersistentIndexList(held, [self.index(moved_to[i.row()], i.column()) for i in held])
        self.layoutChanged.emit()

    # updates --------------------------------------------------------------------------------
    def set_tracks(self, tracks: list[dict] | LibraryRows) -> None:
        """Show these tracks (a LibraryRows made in a worker, or the track dicts), in the current sort."""
        rows = tracks if isinstance(tracks, LibraryRows) else LibraryRows.build(tracks)
        old = self.tracks, self._text, self._keys, self.haystack
        self.beginResetModel()
        self.tracks, self._text, self._keys, self.haystack = rows.tracks, rows.text, rows.keys, rows.haystack
        self._row_of = rows.row_of
        self.endResetModel()
        free_in_steps(*old)
        if self._sort[0] >= 0:
            self.sort(*self._sort)

    def upsert(self, track: dict) -> int:
        """Add a track, or refresh it in place when it is already there; returns its row."""
        ident = _ident(track)
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
        """Update predicted_like or rating for tracks by id. Only that cell changes, so a whole
        library's new predictions (after a retrain) cost a dict copy and two assignments a row.
        The rows stay where they are, even when the table is sorted by that column."""
        col = COLUMNS.index("Like %" if field == "predicted_like" else "Rating")
        cell = _like_cell if field == "predicted_like" else _rating_cell
        changed = []
        for tid, value in values.items():
            row = self._row_of.get(tid)
            if row is None:
                continue
            self.tracks[row] = {**self.tracks[row], field: value}
            self._text[row][col], self._keys[row][col] = cell(value)
            changed.append(row)
        if changed:
            self.dataChanged.emit(self.index(min(changed), col), self.index(max(changed), col))

    def row_of(self, ident) -> int | None:
        return self._row_of.get(ident)

    def counts(self) -> tuple[int, int]:
        likes = sum(1 for t in self.tracks if t.get("rating") == 1)
        dislikes = sum(1 for t in self.tracks if t.get("rating") == 0)
        return likes, dislikes


class LibraryFilter(QSortFilterProxyModel):
    """Case-insensitive substring filter over title, artist, album, key, mode, genre, year and
    path; every word must match (so "bach minor" finds Bach's pieces in minor keys)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._words: list[str] = []
        self._tags: list[str] = []
        self.setDynamicSortFilter(False)  # an edited row stays in view until the filter text changes

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        """A header click: the source model reorders itself and this proxy keeps its order, so no
        comparison calls back into Python (see the module's note)."""
        self.sourceModel().sort(column, order)

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
