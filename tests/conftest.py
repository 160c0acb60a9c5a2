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


def run_cli(*argv, home=None):
    """Run `musicrec` as a real subprocess; returns CompletedProcess with text output."""
    import subprocess

    env = dict(os.environ)
    if home is not None:
        env["MUSICREC_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "musicrec_engine", *argv], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)
