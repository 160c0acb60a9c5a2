"""The playlist player's controls: play/pause, stop, next, a seek bar with the time, and volume.
It shows the state it is told and emits what the user presses; the Playlists page decides what a
press on Play means (start the playlist, or pause and resume)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QSlider

from app.widgets.library_model import fmt_duration
from app.widgets.styled import muted, row

PLAY, PAUSE = "▶  Play", "❚❚  Pause"


class Transport(QFrame):
    play_pressed = Signal()
    stop_requested = Signal()
    next_requested = Signal()
    seek_requested = Signal(float)  # seconds
    volume_changed = Signal(float)  # 0..1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("transport")
        h = row(self, (0, 0, 0, 0))
        self.play = QPushButton(PLAY)
        self.play.setObjectName("playButton")
        self.play.clicked.connect(self.play_pressed.emit)
        self.stop = QPushButton("■  Stop")
        self.stop.clicked.connect(self.stop_requested.emit)
        self.next = QPushButton("Next ⏭")
        self.next.clicked.connect(self.next_requested.emit)
        self.seek = QSlider(Qt.Orientation.Horizontal)
        self.seek.setObjectName("seekBar")
        self.seek.setRange(0, 0)
        self.seek.sliderReleased.connect(lambda: self.seek_requested.emit(self.seek.value() / 10.0))
        self.clock = muted("0:00 / 0:00")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setObjectName("volume")
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setFixedWidth(90)
        self.volume.setToolTip("Volume")
        self.volume.valueChanged.connect(lambda v: self.volume_changed.emit(v / 100.0))
        for w in (self.play, self.stop, self.next):
            h.addWidget(w)
        h.addWidget(self.seek, 1)
        h.addWidget(self.clock)
        h.addWidget(QLabel("Vol"))
        h.addWidget(self.volume)

    def set_device(self, available: bool, why: str) -> None:
        """Without an output device every control is off and Play's tooltip says why."""
        for b in (self.play, self.stop, self.next, self.seek, self.volume):
            b.setEnabled(available)
        self.play.setProperty("deviceAvailable", available)
        self.play.setToolTip("Play the selected track, then the rest of the playlist" if available else why)

    def started(self, seconds: float) -> None:
        """A track of `seconds` has started."""
        self.show_playing(True)
        self.seek.setRange(0, int(seconds * 10))
        self.seek.setValue(0)
        self.clock.setText(f"0:00 / {fmt_duration(seconds)}")

    def show_playing(self, playing: bool) -> None:
        self.play.setText(PAUSE if playing else PLAY)

    def set_position(self, seconds: float) -> None:
        if not self.seek.isSliderDown():
            self.seek.setValue(int(seconds * 10))
        self.clock.setText(f"{fmt_duration(seconds)} / {fmt_duration(self.seek.maximum() / 10)}")

    def stopped(self) -> None:
        self.show_playing(False)
        self.seek.setValue(0)
