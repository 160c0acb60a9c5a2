"""Errors a user can read. Anything raised as MusicRecError is shown as one line, no traceback."""


class MusicRecError(Exception):
    """A failure with a sentence a user can act on."""

    exit_code = 1


class UsageError(MusicRecError):
    exit_code = 2


class NotAvailableYet(MusicRecError):
    """A command whose engine part is not built yet: says so instead of pretending."""
