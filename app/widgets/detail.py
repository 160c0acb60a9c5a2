"""The detail panel: what the selected track sounds like, each value with where it came from."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.display import readable
from app.widgets.library_model import attr_value, fmt_duration, track_title
from app.widgets.tag_chips import TagChips
from musicrec_engine.engine import Engine

KEY_NAMES, UNIT_ATTRIBUTES = Engine.KEY_NAMES, Engine.UNIT_ATTRIBUTES

PROVENANCE_TEXT = {
    "measured": "measured by signal processing",
    "learned": "predicted by a trained model",
    "estimated": "estimated by a descriptor formula",
}
PROVENANCE_COLOUR = {"measured": "#6fb3a8", "learned": "#8a9ff0", "estimated": "#c9a86a"}


def attr_tip(track: dict, name: str, shown: str) -> str:
    a = (track.get("attributes") or {}).get(name)
    if a is None:
        return f"{name}: not available for this track"
    prov = a.get("provenance") if isinstance(a, dict) else getattr(a, "provenance", "")
    conf = a.get("confidence") if isinstance(a, dict) else getattr(a, "confidence", None)
    source = a.get("source") if isinstance(a, dict) else getattr(a, "source", None)
    basis = a.get("basis") if isinstance(a, dict) else getattr(a, "basis", None)
    conf_txt = f", confidence {float(conf):.0%}" if conf is not None else ""
    how = PROVENANCE_TEXT.get(prov, prov or "unknown origin")
    if source:  # e.g. the tag-grounded attributes: which model, and what the confidence rests on
        how = f"{how} ({source})"
    return f"{name}: {shown} — {how}{conf_txt}" + (f"\n{basis}" if basis else "")


def provenance_of(track: dict, name: str) -> str:
    a = (track.get("attributes") or {}).get(name)
    if a is None:
        return ""
    return (a.get("provenance") if isinstance(a, dict) else getattr(a, "provenance", "")) or ""


class AttributeBar(QWidget):
    """One 0..1 attribute: a rounded bar coloured by provenance, the value on the right."""

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.value: float | None = None
        self.provenance = ""
        self.setMinimumHeight(14)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self):
        return QSize(160, 14)

    def set_value(self, value: float | None, provenance: str) -> None:
        self.value, self.provenance = value, provenance
        self.update()

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 2.5, -0.5, -2.5)
        track = QPainterPath()
        track.addRoundedRect(r, r.height() / 2, r.height() / 2)
        p.fillPath(track, QColor(self.palette().color(self.backgroundRole())).lighter(135))
        if self.value is not None:
            w = max(r.height(), r.width() * min(1.0, max(0.0, self.value)))
            fill = QPainterPath()
            fill.addRoundedRect(QRectF(r.x(), r.y(), w, r.height()), r.height() / 2, r.height() / 2)
            p.fillPath(fill, QColor(PROVENANCE_COLOUR.get(self.provenance, "#8a9ff0")))
        p.end()


class DetailPanel(QFrame):
    tag_clicked = Signal(str)  # a tag chip was clicked: show the tracks with that tag

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("detailPanel")
        self.track: dict | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(6)
        self.title = QLabel("No track selected")
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.subtitle = QLabel("Select a track to see what it sounds like.")
        self.subtitle.setObjectName("detailSubtitle")
        self.subtitle.setWordWrap(True)
        lay.addWidget(self.title)
        lay.addWidget(self.subtitle)
        self.tags = TagChips()
        self.tags.setToolTip("What the listening model hears in this track (MusiCNN), most probable first")
        self.tags.tag_clicked.connect(self.tag_clicked.emit)
        lay.addWidget(self.tags)

        facts = QGridLayout()
        facts.setHorizontalSpacing(8)  # four facts in the panel's width, "128 BPM" not cut
        facts.setVerticalSpacing(2)
        self.fact_labels: dict[str, QLabel] = {}
        for i, name in enumerate(("tempo", "key", "loudness", "duration")):
            cap = QLabel(name.capitalize())
            cap.setObjectName("factCaption")
            val = QLabel("–")
            val.setObjectName("factValue")
            facts.addWidget(cap, 0, i)
            facts.addWidget(val, 1, i)
            self.fact_labels[name] = val
        lay.addSpacing(6)
        lay.addLayout(facts)
        lay.addSpacing(8)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(5)
        self.bars: dict[str, AttributeBar] = {}
        self.bar_values: dict[str, QLabel] = {}
        self.bar_names: dict[str, QLabel] = {}
        for i, name in enumerate(UNIT_ATTRIBUTES):
            lab = QLabel(name.capitalize())
            lab.setObjectName("barName")
            bar = AttributeBar(name)
            val = QLabel("")
            val.setObjectName("barValue")
            val.setMinimumWidth(34)
            val.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(lab, i, 0)
            grid.addWidget(bar, i, 1)
            grid.addWidget(val, i, 2)
            self.bars[name], self.bar_values[name], self.bar_names[name] = bar, val, lab
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        self.legend = QLabel(
            " ".join(f'<span style="color:{c}">●</span>&nbsp;{p}' for p, c in PROVENANCE_COLOUR.items()))
        self.legend.setObjectName("legend")
        self.legend.setToolTip("Bar colour says where each value came from; hover a value for its confidence.")
        lay.addWidget(self.legend)
        self.show_track(None)

    def show_track(self, track: dict | None) -> None:
        self.track = track
        if track is None:
            self.title.setText("No track selected")
            self.subtitle.setText("Select a track to see what it sounds like.")
            for name in UNIT_ATTRIBUTES:
                self.bars[name].set_value(None, "")
                self.bar_values[name].setText("")
            for lab in self.fact_labels.values():
                lab.setText("–")
                lab.setToolTip("")
            self.tags.set_tags([])
            return
        self.title.setText(track_title(track))
        bits = [track.get("artist"), track.get("album"), track.get("year")]
        path = readable(str(track.get("path") or ""))
        self.subtitle.setText(" · ".join(str(b) for b in bits if b) or path)
        self.subtitle.setToolTip(path)
        self.tags.set_tags(track.get("tags"))
        for name in UNIT_ATTRIBUTES:
            v = attr_value(track, name)
            shown = f"{v:.2f}" if v is not None else "n/a"
            tip = attr_tip(track, name, shown)
            self.bars[name].set_value(v, provenance_of(track, name))
            self.bar_values[name].setText(shown if v is not None else "–")
            for w in (self.bars[name], self.bar_values[name], self.bar_names[name]):
                w.setToolTip(tip)
        tempo = attr_value(track, "tempo")
        key, mode = attr_value(track, "key"), attr_value(track, "mode")
        loud = attr_value(track, "loudness")
        if key is None:
            key_txt = "–"
        elif key < 0:
            key_txt = "no clear key"
        else:
            key_txt = f"{KEY_NAMES[int(key)]} {'major' if (mode or 0) >= 0.5 else 'minor'}"
        shown = {
            "tempo": f"{tempo:.0f} BPM" if tempo is not None else "–",
            "key": key_txt,
            "loudness": f"{loud:.1f} dB" if loud is not None else "–",
            "duration": fmt_duration(track.get("duration")) or "–",
        }
        for name, text in shown.items():
            self.fact_labels[name].setText(text)
            if name == "key":
                tip = attr_tip(track, "key", text) + "\n" + attr_tip(track, "mode", text.split(" ")[-1])
            elif name == "duration":
                tip = path
            else:
                tip = attr_tip(track, name, text)
            self.fact_labels[name].setToolTip(tip)
