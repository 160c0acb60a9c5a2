"""The Problems panel: one row per file (or job) that went wrong, with its reason; the rest of a
batch goes on, so problems are listed here rather than shown as dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QWidget

from app.display import readable
from app.widgets.styled import column, row


def display_name(where: str) -> str:
    """A file's name (its folder is in the tooltip); other sources ("Library", "Rating") as they are."""
    where = readable(where)
    return Path(where).name if ("/" in where or "\\" in where) else where


class ProblemsPanel(QWidget):
    cleared = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = column(self, (8, 4, 8, 8))
        self.summary = QLabel("")
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        top = row()
        top.addWidget(self.summary, 1)
        top.addWidget(clear)
        lay.addLayout(top)
        self.list = QListWidget()
        self.list.setObjectName("problemsList")
        self.list.setAlternatingRowColors(True)
        lay.addWidget(self.list)

    def add(self, where: str, reason: str) -> None:
        item = QListWidgetItem(f"{display_name(where)} — {reason}")
        item.setToolTip(readable(where))
        self.list.addItem(item)
        n = self.list.count()
        self.summary.setText(f"{n} problem(s). Each file's reason is listed; the other files were still analysed.")

    def count(self) -> int:
        return self.list.count()

    def item(self, row: int) -> QListWidgetItem:
        return self.list.item(row)

    def clear(self) -> None:
        self.list.clear()
        self.summary.setText("")
        self.cleared.emit()
