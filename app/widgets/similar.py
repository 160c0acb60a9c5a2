"""The "Sounds similar" panel: the tracks closest to the selected one, and why they are close."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QListWidget, QListWidgetItem

from app.widgets.library_model import ID_ROLE
from app.widgets.styled import column, fit_rows, label, muted

HINT = "Select a track to find others that sound like it."


def because_text(b) -> str:
    if not isinstance(b, dict):
        return str(b)
    name, q, r = b.get("attribute"), b.get("query"), b.get("result")
    if isinstance(q, (int, float)) and isinstance(r, (int, float)):
        return f"{name} ({q:.2f} vs {r:.2f})" if abs(q) < 2 and abs(r) < 2 else f"{name} ({q:.0f} vs {r:.0f})"
    return str(name)


class SimilarPanel(QFrame):
    track_activated = Signal(int)  # a library track's id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("similarPanel")
        lay = column(self, (16, 10, 16, 12))
        self.list = QListWidget()
        self.list.setObjectName("similarList")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.itemActivated.connect(self._activated)
        self.note = muted(HINT, wrap=True)
        lay.addWidget(label("Sounds similar", "panelTitle"))
        lay.addWidget(self.note)
        lay.addWidget(self.list, 1)

    def looking(self, track: dict | None) -> None:
        self.list.clear()
        self.show_note("Looking for similar tracks…" if track is not None else HINT)

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def show_results(self, results: list[dict]) -> None:
        self.list.clear()
        for r in results:
            title = r.get("title") or Path(str(r.get("path") or r.get("id") or "")).stem
            who = r.get("artist") or ""
            score = r.get("score")
            item = QListWidgetItem(f"{title}" + (f" — {who}" if who else ""))
            because = r.get("because") or []
            why = ", ".join(because_text(b) for b in because) if isinstance(because, list) else str(because)
            src = r.get("source") or ""
            where = r.get("catalog") or ("your library" if src == "library" else src)
            sc = f", similarity {float(score):+.2f}" if score is not None else ""
            item.setToolTip(f"{where} · {r.get('space', '')} space{sc}" + (f"\nclose in {why}" if why else ""))
            # -1, not None: PySide 6.12 drops a reference to None each time Python reads an empty
            # item value back, and enough of those crash the interpreter.
            item.setData(ID_ROLE, int(r["id"]) if src in ("", "library") and r.get("id") is not None else -1)
            self.list.addItem(item)
        # every result in whole rows: the side panel scrolls, not a second scroll bar inside it
        fit_rows(self.list, self.list.count())
        self.show_note("" if results else "Nothing similar yet — add more music or import a catalog.")

    def _activated(self, item: QListWidgetItem) -> None:
        tid = item.data(ID_ROLE)
        if tid is not None and tid >= 0:
            self.track_activated.emit(int(tid))
