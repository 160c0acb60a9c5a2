"""An editable list of folders (the watched music folders): Add… opens a folder chooser, Remove
drops the selected ones."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget


class FolderList(QWidget):
    def __init__(self, folders: list[str], parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName("folderList")
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setMaximumHeight(96)
        for f in folders:
            self.list.addItem(f)
        buttons = QVBoxLayout()
        add = QPushButton("Add…")
        add.clicked.connect(self._choose)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._remove)
        buttons.addWidget(add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)

    def folders(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def add(self, folder: str) -> None:
        if folder and folder not in self.folders():
            self.list.addItem(folder)

    def _choose(self) -> None:
        self.add(QFileDialog.getExistingDirectory(self, "A music folder to watch"))

    def _remove(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
