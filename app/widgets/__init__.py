"""Reusable widgets: the progress strip, attribute bars and the detail panel, album cards, the
rating buttons, the problems list and the library table with its model."""
