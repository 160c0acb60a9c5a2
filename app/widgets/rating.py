"""The rating buttons (like, dislike, clear) with the counts and the taste model's one-line status."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

LIKE, DISLIKE, CLEAR = 1, 0, None


class RatingPanel(QFrame):
    rate = Signal(object)  # LIKE, DISLIKE or CLEAR

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ratingPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 10)
        lay.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.like = QPushButton("♥  Like")
        self.like.setObjectName("likeButton")
        self.like.setToolTip("Like the selected tracks (L)")
        self.dislike = QPushButton("✕  Dislike")
        self.dislike.setObjectName("dislikeButton")
        self.dislike.setToolTip("Dislike the selected tracks (D)")
        self.clear = QPushButton("Clear")
        self.clear.setToolTip("Remove your rating from the selected tracks (0)")
        for b, v in ((self.like, LIKE), (self.dislike, DISLIKE), (self.clear, CLEAR)):
            b.clicked.connect(lambda _=False, v=v: self.rate.emit(v))
            row.addWidget(b)
        lay.addLayout(row)
        self.counts = QLabel("")
        self.counts.setObjectName("mutedText")
        self.model = QLabel("")
        self.model.setObjectName("mutedText")
        self.model.setWordWrap(True)
        lay.addWidget(self.counts)
        lay.addWidget(self.model)
        self.set_enabled(False)

    def set_enabled(self, enabled: bool) -> None:
        for b in (self.like, self.dislike, self.clear):
            b.setEnabled(enabled)

    def set_counts(self, likes: int, dislikes: int) -> None:
        self.counts.setText(f"{likes} liked · {dislikes} disliked")

    def set_status(self, text: str) -> None:
        self.model.setText(text)
