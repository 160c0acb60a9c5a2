"""The dark style's spin boxes and combo boxes show light arrows a user can see."""

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QSpinBox

from app.main import apply_theme


@pytest.fixture
def themed(qapp):
    style = qapp.style().name()
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet("")
    qapp.setStyle(style)


def brightest(widget, x0: int) -> int:
    """The lightest pixel (HSV value) in the widget's right-hand strip from x0, where its arrows are."""
    img = widget.grab().toImage()
    return max(QColor(img.pixel(x, y)).value() for x in range(x0, img.width()) for y in range(img.height()))


def test_spin_box_and_combo_box_arrows_stand_out_from_their_dark_fields(themed, qtbot):
    spin = QSpinBox()
    spin.setRange(0, 10)
    spin.setValue(5)  # both arrows usable
    combo = QComboBox()
    combo.addItems(["More like the selected tracks", "Taste radio"])
    for w in (spin, combo):
        qtbot.addWidget(w)
        w.resize(160, 32)
        w.show()
    qtbot.waitExposed(combo)
    field = QColor("#14161b").value()
    assert brightest(spin, 160 - 20) > field + 120  # light arrows, not dark ones on a dark field
    assert brightest(combo, 160 - 20) > field + 120
