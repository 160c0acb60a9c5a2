"""MusicRec's engine: audio analysis, library, taste model and recommendations. No Qt here."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("musicrec")
except PackageNotFoundError:  # running from a source tree or a bundle without metadata
    __version__ = "0.1.0"

APP_NAME = "MusicRec"
