"""Where MusicRec keeps its data.

Default: platformdirs' per-user folders. `--home DIR` or MUSICREC_HOME puts everything under one
folder instead (tests always do, so they never touch a real user's library).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from musicrec_engine import APP_NAME

ENV_HOME = "MUSICREC_HOME"
# What ships with the program: the style sheet, icons and the default model files. In a PyInstaller
# bundle it sits beside the package folder too, so one expression serves both.
RESOURCES = Path(__file__).resolve().parents[1] / "resources"
SHIPPED_MODELS = RESOURCES / "models"


@dataclass(frozen=True)
class Paths:
    data: Path
    cache: Path
    config: Path
    logs: Path

    @property
    def library_db(self) -> Path:
        return self.data / "library.sqlite3"

    @property
    def models(self) -> Path:
        return self.data / "models"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    def ensure(self) -> Paths:
        for p in (self.data, self.cache, self.config, self.logs, self.models):
            p.mkdir(parents=True, exist_ok=True)
        return self


def resolve(home: str | os.PathLike | None = None) -> Paths:
    """The folders to use: explicit `home`, else $MUSICREC_HOME, else the user's platform dirs."""
    home = home or os.environ.get(ENV_HOME)
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(root, root / "cache", root / "config", root / "logs")
    return Paths(
        Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
