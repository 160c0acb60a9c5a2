"""The main window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow

from musicrec_engine import APP_NAME


class MainWindow(QMainWindow):
    def __init__(self, engine):
        super().__init__()
        self.engine = engine
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 760)
        self.empty_hint = QLabel("Drop audio files or folders here to analyse them")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(self.empty_hint)
