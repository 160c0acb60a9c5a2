"""The Taste page: counts, the model's status, and why it likes what it likes."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QTextBrowser, QWidget

from app.widgets.styled import column, label, muted, row


def tempo_words(band: int, bands) -> str:
    """Tempo band n in BPM, from the engine's band edges: "tempo 80–100 BPM"."""
    if not bands or not 0 <= band < len(bands):
        return "tempo in one range"
    lo, hi = bands[band]
    if lo is None:
        return f"tempo under {hi:g} BPM"
    if hi is None:
        return f"tempo {lo:g} BPM or more"
    return f"tempo {lo:g}–{hi:g} BPM"


def plain_words(name, bands=None) -> str:
    """The taste space's column names as a reader says them: "key=C" is "key of C", "mode=minor"
    is "minor mode", "tempo_bin=1" is "tempo 80–100 BPM" (band edges from Engine.tempo_bands()),
    the group "tempo_bin" is "tempo range", "year>=1990" is "released in 1990 or later"."""
    text = re.sub(r"tempo_bin=(\d+)", lambda m: tempo_words(int(m.group(1)), bands), str(name))
    text = text.replace("tempo_bin", "tempo range").replace("key=", "key of ")
    text = re.sub(r"\byear>=(\d+)", r"released in \1 or later", text)
    text = re.sub(r"\b(\w+)_missing\b", r"\1 unknown", text)
    return re.sub(r"\bmode=(\w+)", r"\1 mode", text)


def explanation_html(expl, bands=None) -> str:
    """The taste model's explanation (Explanation.to_dict() or text) as readable HTML; `bands`:
    Engine.tempo_bands(), to name tempo bands in BPM."""
    if not expl:
        return ("<p style='color:#8b93a7'>No explanation yet. Like and dislike some tracks: the model trains "
                "itself and then says here what it learned.</p>")
    if isinstance(expl, str):
        return "<p>" + html.escape(expl).replace("\n", "<br>") + "</p>"
    parts = []
    if expl.get("description"):
        parts.append(f"<p>{html.escape(str(expl['description']))}</p>")
    for key, title, colour in (("towards_like", "Pushes towards like", "#f2a5ae"),
                               ("towards_dislike", "Pushes towards dislike", "#a9b1c2")):
        items = expl.get(key) or []
        if items:
            lis = "".join(f"<li>{html.escape(plain_words(i, bands))}</li>" for i in items[:8])
            parts.append(f"<h3 style='color:{colour}'>{title}</h3><ul>{lis}</ul>")
    groups = expl.get("grouped_importance") or []
    if groups:
        rows = "".join(
            f"<tr><td>{html.escape(plain_words(g.get('group'), bands))}</td>"
            f"<td><span style='color:#7aa2f7'>{'█' * max(1, round(float(g.get('share', 0)) * 30))}</span> "
            f"{float(g.get('share', 0)):.0%}</td>"
            f"<td>{'towards like' if float(g.get('direction', 0)) > 0 else 'towards dislike'}</td></tr>"
            for g in groups[:8])
        parts.append("<h3>Which attributes matter most</h3><table cellspacing='0' cellpadding='3'>"
                     f"{rows}</table>")
    top = expl.get("top_features") or []
    if top:
        rows = "".join(f"<tr><td>{html.escape(plain_words(t.get('feature'), bands))}</td>"
                       f"<td>{html.escape(plain_words(t.get('group'), bands))}</td>"
                       f"<td align='right'>{float(t.get('importance', 0)):.3f}</td>"
                       f"<td>{'+' if float(t.get('direction', 0)) > 0 else '−'}</td></tr>" for t in top[:10])
        parts.append("<h3>Top features</h3><table cellspacing='0' cellpadding='3'><tr><th align='left'>Feature</th>"
                     "<th align='left'>Group</th><th align='right'>Importance</th><th>Way</th></tr>"
                     f"{rows}</table>")
    if not parts and expl.get("summary"):
        parts.append("<p>" + html.escape(str(expl["summary"])).replace("\n", "<br>") + "</p>")
    return "".join(parts) or "<p>The model did not report an explanation.</p>"


class TastePage(QWidget):
    retrain = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = column(self, (24, 20, 24, 20), 10)
        lay.addWidget(label("Your taste", "sectionTitle"))
        self.counts = QLabel("")
        self.status = muted(wrap=True)
        lay.addWidget(self.counts)
        lay.addWidget(self.status)
        buttons = row()
        self.train = QPushButton("Retrain now")
        self.train.clicked.connect(self.retrain.emit)
        buttons.addWidget(self.train)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        lay.addSpacing(8)
        lay.addWidget(label("Why — what the model learned", "sectionTitle"))
        self.why = QTextBrowser()
        self.why.setObjectName("whyView")
        self.why.setOpenExternalLinks(False)
        self.tempo_bands = None  # Engine.tempo_bands(), once attached
        self.why.setHtml(explanation_html(None))
        lay.addWidget(self.why, 1)

    def set_counts(self, likes: int, dislikes: int) -> None:
        self.counts.setText(f"<b>{likes}</b> liked · <b>{dislikes}</b> disliked")
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        # Nothing to learn from before the first rating: say so rather than fail on a click.
        self.train.setEnabled(likes + dislikes > 0)
        self.train.setToolTip("" if likes + dislikes else "Like or dislike some tracks first")

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_explanation(self, expl) -> None:
        self.why.setHtml(explanation_html(expl, self.tempo_bands))

    def attach(self, jobs) -> None:
        """Follow a TasteController: its status line, explanation and failures; Retrain asks it."""
        self.tempo_bands = jobs.engine.tempo_bands()
        jobs.status_changed.connect(self.set_status)
        jobs.explanation.connect(self.set_explanation)
        jobs.failed.connect(lambda m: self.set_status(self.status.text() + "\n" + m))
        self.retrain.connect(jobs.retrain)
