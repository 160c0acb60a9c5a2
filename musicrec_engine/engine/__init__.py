"""The facade: the one door the desktop app and the CLI use to reach the engine."""

from musicrec_engine.engine.facade import Engine

__all__ = ["Engine"]
