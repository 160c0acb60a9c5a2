"""What every page builds the same way: labels in the roles the style sheet names
(resources/style.qss styles #sectionTitle, #panelTitle, #mutedText...) and box layouts with their
margins and spacing given in the same call."""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QListWidget, QVBoxLayout, QWidget


def label(text: str = "", role: str | None = None, wrap: bool = False) -> QLabel:
    """A label; `role` is its object name in the style sheet ("sectionTitle", "mutedText"...)."""
    lab = QLabel(text)
    if role:
        lab.setObjectName(role)
    lab.setWordWrap(wrap)
    return lab


def muted(text: str = "", wrap: bool = False) -> QLabel:
    """Secondary text: counts, hints, status lines."""
    return label(text, "mutedText", wrap)


def column(parent: QWidget | None = None, margins: tuple[int, int, int, int] | None = None,
           spacing: int | None = None) -> QVBoxLayout:
    """A vertical layout (on `parent` when given); margins and spacing stay Qt's where not given."""
    return _spaced(QVBoxLayout(parent) if parent is not None else QVBoxLayout(), margins, spacing)


def row(parent: QWidget | None = None, margins: tuple[int, int, int, int] | None = None,
        spacing: int | None = None) -> QHBoxLayout:
    """A horizontal layout, as `column`."""
    return _spaced(QHBoxLayout(parent) if parent is not None else QHBoxLayout(), margins, spacing)


def _spaced(lay: QBoxLayout, margins, spacing) -> QBoxLayout:
    if margins is not None:
        lay.setContentsMargins(*margins)
    if spacing is not None:
        lay.setSpacing(spacing)
    return lay


def fit_rows(lst: QListWidget, rows: int) -> None:
    """Make a list as tall as `rows` whole rows (fewer when it has fewer): a row cut in half at
    the bottom, with a scroll bar of its own inside a panel that scrolls, looked broken."""
    n = min(rows, lst.count())
    if n:
        chrome = lst.height() - lst.viewport().height()  # frame and style sheet padding around the rows
        lst.setFixedHeight(sum(lst.sizeHintForRow(i) for i in range(n)) + chrome)
