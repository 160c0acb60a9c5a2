"""Drag and drop of files and folders onto a window: a hint covers the window while files are
dragged over it, and the dropped local paths are emitted."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget


class DropOverlay(QLabel):
    dropped = Signal(list)  # local paths

    def __init__(self, window: QWidget, cover: QWidget):
        """Watches `window`'s drag events and, while a drag is over it, covers `cover`."""
        super().__init__("Drop audio files or folders to analyse them", cover)
        self.setObjectName("dropOverlay")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hide()
        self.cover = cover
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.DragEnter:
            if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
                event.acceptProposedAction()
                self.setGeometry(self.cover.rect().adjusted(24, 24, -24, -24))
                self.raise_()
                self.show()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.DragMove:
            if event.mimeData().hasUrls():
                event.acceptProposedAction()
            return True
        if kind == QEvent.Type.DragLeave:
            self.hide()
            return True
        if kind == QEvent.Type.Drop:
            self.hide()
            paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
            if paths:
                event.acceptProposedAction()
                self.dropped.emit(paths)
            else:
                event.ignore()
            return True
        return False
