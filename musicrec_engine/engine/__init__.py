"""The facade: the one door the desktop app and the CLI use to reach the engine.

Besides `Engine`, the names a caller needs to handle its answers: the errors a user can read
(MusicRecError, UsageError, and Cancelled for a job the user stopped) and the product's name and version.
"""

from musicrec_engine import APP_NAME, __version__
from musicrec_engine.engine.facade import Engine
from musicrec_engine.errors import MusicRecError, UsageError
from musicrec_engine.jobs import Cancelled, Progress

__all__ = ["APP_NAME", "Cancelled", "Engine", "MusicRecError", "Progress", "UsageError", "__version__"]
