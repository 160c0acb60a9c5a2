"""Application start-up: QApplication, the engine facade, the main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.window import MainWindow
from musicrec_engine import APP_NAME, __version__, logs
from musicrec_engine.engine import Engine


def run(args) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    engine = Engine(args.home)
    logs.setup(engine.paths.logs)
    window = MainWindow(engine)
    window.show()
    if args.screenshot:
        def shoot():
            window.grab().save(args.screenshot)
            window.close()

        QTimer.singleShot(500, shoot)
    code = app.exec()
    engine.close()
    return code
