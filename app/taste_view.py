"""Rating controls and the Taste tab: counts, the model's status, and why it likes what it likes."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

LIKE, DISLIKE, CLEAR = 1, 0, None


def status_text(status: dict, likes: int, dislikes: int, state: str) -> str:
    """One line about the model a user can act on."""
    if state == "training":
        return "Model: training in the background…"
    if state == "failed":
        return "Model: the last training failed; the previous model is still in use."
    if not status and likes + dislikes == 0:
        return "Model: rate a few tracks to teach MusicRec your taste."
    mode = status.get("mode") or status.get("kind")
    acc = status.get("cv_accuracy", status.get("accuracy"))
    bits = []
    if status.get("cold_start") or mode in ("cold-start", "cold_start", "similarity"):
        bits.append("cold start — scoring by similarity to your likes until there are 20 ratings of each kind")
    elif mode:
        bits.append(str(mode))
    if acc is not None:
        bits.append(f"cross-validated accuracy {float(acc):.0%}")
    if state == "stale" or status.get("stale"):
        bits.append("out of date, retraining soon")
    return "Model: " + ("; ".join(bits) if bits else "ready")


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


def explanation_html(expl) -> str:
    """The taste model's explanation as readable HTML (text from the engine, or its dict)."""
    if not expl:
        return "<p>No explanation yet: rate some tracks and the model will say what it learned.</p>"
    if isinstance(expl, str):
        return "<pre>" + html.escape(expl) + "</pre>"
    parts = []
    summary = expl.get("summary") or expl.get("text")
    if summary:
        parts.append("<p>" + html.escape(str(summary)).replace("\n", "<br>") + "</p>")
    for key, title in (("towards_like", "Pushes towards like"), ("towards_dislike", "Pushes towards dislike"),
                       ("top_features", "Most important features"), ("groups", "By attribute group")):
        items = expl.get(key)
        if not items:
            continue
        parts.append(f"<h3>{title}</h3><ul>")
        if isinstance(items, dict):
            items = list(items.items())
        for it in items[:10]:
            if isinstance(it, (list, tuple)) and len(it) == 2:
                parts.append(f"<li>{html.escape(str(it[0]))}: {float(it[1]):+.3f}</li>")
            elif isinstance(it, dict):
                name = it.get("name") or it.get("feature")
                val = it.get("weight", it.get("importance", it.get("value")))
                parts.append(f"<li>{html.escape(str(name))}: {html.escape(str(val))}</li>")
            else:
                parts.append(f"<li>{html.escape(str(it))}</li>")
        parts.append("</ul>")
    rest = {k: v for k, v in expl.items() if k not in {"summary", "text", "towards_like", "towards_dislike",
                                                       "top_features", "groups"}}
    if rest and not parts:
        parts.append("<pre>" + html.escape("\n".join(f"{k}: {v}" for k, v in rest.items())) + "</pre>")
    return "".join(parts)


class TasteTab(QWidget):
    retrain = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.setSpacing(10)
        head = QLabel("Your taste")
        head.setObjectName("sectionTitle")
        lay.addWidget(head)
        self.counts = QLabel("")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("mutedText")
        lay.addWidget(self.counts)
        lay.addWidget(self.status)
        row = QHBoxLayout()
        self.train = QPushButton("Retrain now")
        self.train.clicked.connect(self.retrain.emit)
        row.addWidget(self.train)
        row.addStretch(1)
        lay.addLayout(row)
        why = QLabel("Why — what the model learned")
        why.setObjectName("sectionTitle")
        lay.addSpacing(8)
        lay.addWidget(why)
        self.why = QTextBrowser()
        self.why.setObjectName("whyView")
        self.why.setOpenExternalLinks(False)
        self.why.setHtml(explanation_html(None))
        lay.addWidget(self.why, 1)

    def set_counts(self, likes: int, dislikes: int) -> None:
        self.counts.setText(f"<b>{likes}</b> liked · <b>{dislikes}</b> disliked")
        self.counts.setTextFormat(Qt.TextFormat.RichText)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_explanation(self, expl) -> None:
        self.why.setHtml(explanation_html(expl))
