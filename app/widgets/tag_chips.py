"""Tag chips: what the listening model (MusiCNN) hears in a track, most probable first, each with
its probability. Clicking a chip asks for the library filtered to that tag."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtWidgets import QLayout, QSizePolicy, QToolButton, QWidget

VOCABULARY_TEXT = {"msd": "Last.fm tag (MusiCNN, MSD model)", "mtt": "MagnaTagATune tag (MusiCNN, MTT model)"}
MAX_CHIPS = 6  # two or three rows: the similar-tracks list below keeps its room


def filter_term(tag: str) -> str:
    """The filter-box word that selects a tag: "tag:jazz", "tag:hard_rock" (one word per tag)."""
    return "tag:" + tag.replace(" ", "_")


class FlowLayout(QLayout):
    """Lays its items out left to right, wrapping to a new line when the width runs out."""

    def __init__(self, parent=None, spacing: int = 6):
        super().__init__(parent)
        self._items = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item):
        self._items.append(item)

    def count(self):
        return len(self._items)

    def itemAt(self, i):
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i):
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self):
        return True

    def heightForWidth(self, width):
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect):
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self):
        return self.minimumSize()

    def minimumSize(self):
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QRect, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


class TagChips(QWidget):
    tag_clicked = Signal(str)  # the tag's name

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("tagChips")
        self.flow = FlowLayout(self)
        self.chips: list[QToolButton] = []
        sp = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)

    def set_tags(self, tags: list[dict] | None) -> None:
        """[{"tag", "prob", "vocabulary"}] as Library.tracks() gives them, most probable first."""
        for chip in self.chips:
            self.flow.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        for t in (tags or [])[:MAX_CHIPS]:
            chip = QToolButton(self)
            chip.setObjectName("tagChip")
            chip.setText(f"{t['tag']}  {float(t['prob']):.0%}")
            chip.setProperty("tag", t["tag"])
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.setToolTip(f"{VOCABULARY_TEXT.get(t.get('vocabulary'), 'tag')} “{t['tag']}”: probability "
                            f"{float(t['prob']):.2f}.\nClick to show every track with this tag ({filter_term(t['tag'])}).")
            chip.clicked.connect(lambda _=False, name=t["tag"]: self.tag_clicked.emit(name))
            self.flow.addWidget(chip)
            self.chips.append(chip)
        self.setVisible(bool(self.chips))
        self.updateGeometry()

    def heightForWidth(self, width):
        return self.flow.heightForWidth(width)
