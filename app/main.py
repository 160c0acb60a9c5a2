"""Application start-up: QApplication, theme, the engine facade, the main window.

Start-up stays light: the engine facade imports no heavy libraries; torch and the attribute
models load on the first job that needs them, in a worker thread.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from musicrec_engine.engine import APP_NAME, __version__

SCREENSHOT_TIMEOUT_S = 240


def resources_dir() -> Path:
    """resources/ next to the source tree, or inside a PyInstaller bundle."""
    bundled = getattr(sys, "_MEIPASS", None)
    if bundled and (Path(bundled) / "resources").is_dir():
        return Path(bundled) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")  # the same look on every platform; the style sheet styles on top of it
    qss = resources_dir() / "style.qss"
    if qss.is_file():
        try:
            images = theme_images().as_posix()
        except OSError:  # no writable temp folder: the window still opens, with Fusion's faint arrows
            images = ""
        app.setStyleSheet(qss.read_text(encoding="utf-8").replace("@THEME@", images))
    icon = resources_dir() / "icons" / "musicrec.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


ARROW = {"up": [(0, 6), (5, 0), (10, 6)], "down": [(0, 0), (5, 6), (10, 0)]}
ARROW_COLOURS = {"": "#c9d1e0", "-off": "#5b6272"}  # usable; disabled or at the end of its range


def theme_images() -> Path:
    """The light arrows the style sheet gives spin boxes and combo boxes, drawn as PNGs (a style
    sheet takes images only from files) into a folder of the temp directory, redrawn each start."""
    import tempfile

    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPolygonF

    out = Path(tempfile.gettempdir()) / f"musicrec-theme-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    out.mkdir(exist_ok=True)
    scale = 2  # drawn at twice the size the sheet shows them: sharp on a high-density screen too
    for direction, points in ARROW.items():
        for suffix, colour in ARROW_COLOURS.items():
            img = QImage(10 * scale, 6 * scale, QImage.Format.Format_ARGB32_Premultiplied)
            img.fill(Qt.GlobalColor.transparent)
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(colour))
            p.drawPolygon(QPolygonF([QPointF(x * scale, y * scale) for x, y in points]))
            p.end()
            img.save(str(out / f"{direction}{suffix}.png"))
    return out


def data_home(args) -> str | None:
    """--home, else $MUSICREC_HOME, else the data folder chosen in Settings, else platform dirs."""
    if args.home or os.environ.get("MUSICREC_HOME"):
        return args.home
    from app.settings import user_settings

    chosen = str(user_settings().value("data_folder", "") or "").strip()
    return chosen or None


def run(args) -> int:
    t0 = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    apply_theme(app)

    from app.window import MainWindow
    from musicrec_engine.engine import Engine

    engine = Engine(data_home(args))
    engine.start_logging()
    window = MainWindow(engine, persist_state=not args.screenshot)
    if args.screenshot:
        window.resize(1360, 840)
    window.show()
    window.startup_seconds = time.perf_counter() - t0
    if args.screenshot:
        _schedule_screenshot(window, args)
    else:
        _after_first_load(window, lambda: _open_given(window, args))
    code = app.exec()
    engine.close()
    return code


def _after_first_load(window, fn) -> None:
    """Run fn once, when the library has first been shown (later reloads must not repeat it)."""
    def once():
        window.library_loaded.disconnect(once)
        fn()

    window.library_loaded.connect(once)


def _open_given(window, args) -> None:
    paths = [p for p in getattr(args, "paths", None) or []]
    if paths:
        window.add_paths(paths)
    elif args.demo and window.model.rowCount() == 0:
        window.load_demo()


def _schedule_screenshot(window, args) -> None:
    """Shoot once the window shows what was asked for: the library loaded (and, with --demo,
    the demo library analysed and a track selected), or after a time-out."""
    shot = {"done": False}
    tab = getattr(args, "tab", None)

    def shoot():
        if shot["done"]:
            return
        shot["done"] = True
        names = [window.tabs.tabText(i).lower() for i in range(window.tabs.count())]
        if tab and tab.lower() == "albums":  # ranked in the background: shoot when they show
            window.albums_shown.connect(lambda: QTimer.singleShot(300, save))
            QTimer.singleShot(30000, save)
        else:
            QTimer.singleShot(700 if tab else 300, save)
        if tab and tab.lower() in names:
            window.tabs.setCurrentIndex(names.index(tab.lower()))

    def save():
        if shot.get("saved"):
            return
        shot["saved"] = True
        window.grab().save(args.screenshot)
        window.close()

    def after_library():
        if getattr(args, "paths", None):
            window.analysis_finished.connect(select_then_shoot)
            window.add_paths(args.paths)
        elif args.demo and window.model.rowCount() == 0:
            window.analysis_finished.connect(select_then_shoot)
            window.load_demo()
        elif args.demo:
            select_then_shoot()
        else:
            QTimer.singleShot(300, shoot)

    def select_then_shoot():
        if window.model.rowCount():
            window.library.select_source_row(min(1, window.model.rowCount() - 1))
        QTimer.singleShot(900, shoot)  # let the similar list and predictions arrive

    _after_first_load(window, after_library)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_S * 1000, shoot)
