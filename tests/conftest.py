import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh data folder; MUSICREC_HOME points at it so nothing touches the real user dirs."""
    h = tmp_path / "home"
    monkeypatch.setenv("MUSICREC_HOME", str(h))
    return h


@pytest.fixture
def eng(home):
    """The facade on the fresh data folder, closed after the test."""
    from musicrec_engine.engine import Engine

    e = Engine(home)
    yield e
    e.close()


def run_cli(*argv, home=None):
    """Run `musicrec` as a real subprocess; returns CompletedProcess with text output."""
    import subprocess

    env = dict(os.environ)
    if home is not None:
        env["MUSICREC_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "musicrec_engine", *argv], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)


# Messages the offscreen test platform prints about itself, not about the app.
_QT_PLATFORM_NOISE = ("This plugin does not support propagateSizeHints", "This plugin does not support raise",
                      "This plugin does not support grabbing the keyboard")


@pytest.fixture(autouse=True)
def qt_warnings_fail(request):
    """In GUI tests (test_app_*.py), any Qt warning, critical or fatal message fails the test."""
    if not request.module.__name__.split(".")[-1].startswith("test_app_"):
        yield
        return
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    seen = []

    def handler(kind, context, message):
        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg and \
                not any(n in message for n in _QT_PLATFORM_NOISE):
            seen.append(f"{kind.name}: {message}")
        if previous is not None:
            previous(kind, context, message)

    previous = qInstallMessageHandler(handler)
    yield
    qInstallMessageHandler(previous)
    assert not seen, "Qt printed warnings:\n" + "\n".join(seen)


@pytest.fixture
def open_window(qtbot, home):
    """Opens the real main window on the fresh data folder: `open_window(fill, **options)` calls
    `fill(engine)` first (a library to start with), shows the window and waits for its first
    library load. Windows and engines are closed after the test."""
    from app.window import MainWindow
    from musicrec_engine.engine import Engine

    opened = []

    def open_(fill=None, **options):
        engine = Engine(home)
        if fill is not None:
            fill(engine)
        w = MainWindow(engine, **options)
        opened.append((w, engine))
        qtbot.addWidget(w)
        w.show()
        # The load job may not have started when the window first shows, so "not busy" alone can
        # be true before the library has arrived: wait for the first load to have landed too.
        qtbot.waitUntil(lambda: w.loaded_once and not w.workers.busy("load library"), timeout=10000)
        return w

    yield open_
    for w, engine in opened:
        w.close()
        engine.close()


@pytest.fixture
def window(open_window):
    """The real main window on a fresh data folder, shown, with its first library load finished."""
    return open_window()
