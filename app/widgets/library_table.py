"""The library table view: column widths, hidden columns, a header menu to show or hide them, and
the fast cell painter."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from app.widgets.library_model import COLUMNS, CellDelegate

COLUMN_WIDTHS = [200, 130, 120, 56, 52, 74, 64, 70, 74, 64, 70, 84, 170]
# A header title's padding (8 px left, 16 px right for the sort arrow) and a little air.
TITLE_ROOM = 28
# Shown again from the header's menu. The key column already says "maj"/"min"; the tags show as
# chips beside the table, and with their column too the titles were cut to a few letters.
HIDDEN_COLUMNS = {"Mode", "Tags"}


class LibraryTable(QTableView):
    def __init__(self, model, proxy, parent=None):
        super().__init__(parent)
        self.setObjectName("libraryTable")
        self.setModel(proxy)
        self.cells = CellDelegate(self, model, proxy)
        self.cells.set_colours("#1f2229", "#23272f", "#34466e", "#e3e7ef", "#ffffff")  # as in style.qss
        self.setItemDelegate(self.cells)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(28)
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setHighlightSections(False)
        bold = QFont(hh.font())
        bold.setBold(True)  # as style.qss draws the titles
        title_width = QFontMetrics(bold).horizontalAdvance
        for i, w in enumerate(COLUMN_WIDTHS):
            # never narrower than its title and the sort arrow beside it (style.qss pads the right)
            self.setColumnWidth(i, max(w, title_width(COLUMNS[i]) + TITLE_ROOM))
            self.setColumnHidden(i, COLUMNS[i] in HIDDEN_COLUMNS)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._header_menu)
        hh.setStretchLastSection(False)

    def _header_menu(self, pos) -> None:
        menu = QMenu(self)
        for i, name in enumerate(COLUMNS[1:], 1):
            act = menu.addAction(name)
            act.setCheckable(True)
            act.setChecked(not self.isColumnHidden(i))
            act.toggled.connect(lambda on, i=i: self.setColumnHidden(i, not on))
        menu.exec(self.horizontalHeader().mapToGlobal(pos))
