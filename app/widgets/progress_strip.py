"""A job's progress strip: bar, count, current item, ETA and a Cancel button."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton


def fmt_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "estimating…"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"about {max(seconds, 1)} s left"
    return f"about {seconds // 60} min {seconds % 60:02d} s left"


class JobProgress(QFrame):
    cancel_requested = Signal()

    def __init__(self, verb: str, parent=None):
        super().__init__(parent)
        self.setObjectName("jobProgress")
        self.verb = verb
        self._t0 = 0.0
        self._first_done_at: tuple[float, int] | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.setSpacing(10)
        self.label = QLabel("")
        self.label.setObjectName("jobLabel")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(220)
        self.bar.setFixedHeight(8)
        self.eta = QLabel("")
        self.eta.setObjectName("jobEta")
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("cancelButton")
        self.cancel.clicked.connect(self._on_cancel)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.bar)
        lay.addWidget(self.eta)
        lay.addWidget(self.cancel)
        # Progress can arrive many times a second; showing it at most 5 times a second keeps the
        # GUI thread's painting (and so its CPU need on a busy machine) small.
        self._latest: tuple | None = None
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(200)
        self._throttle.timeout.connect(self._apply_latest)
        self.hide()

    def start(self, total: int = 0, message: str = "") -> None:
        self._throttle.stop()
        self._latest = None
        self._t0 = time.monotonic()
        self._first_done_at = None
        self.bar.setRange(0, max(total, 0))
        self.bar.setValue(0)
        self.label.setText(message or f"{self.verb}…")
        self.eta.setText("")
        self.cancel.setEnabled(True)
        self.cancel.setText("Cancel")
        self.show()

    def update_progress(self, done: int, total: int, message: str = "") -> None:
        self._latest = (done, total, message, time.monotonic())
        if not self._throttle.isActive():
            self._throttle.start()

    def _apply_latest(self) -> None:
        if self._latest is None:
            return
        done, total, message, now = self._latest
        self._latest = None
        self.bar.setRange(0, max(total, 0))
        self.bar.setValue(min(done, total) if total else 0)
        current = Path(message).name if ("/" in message or "\\" in message) else message
        count = f"{done} of {total}" if total else f"{done}"
        self.label.setText(f"{self.verb} {count}" + (f" — {current}" if current else ""))
        # The ETA runs from the first finished item: start-up costs (imports, process pool) would
        # otherwise make it far too pessimistic.
        if done > 0 and self._first_done_at is None:
            self._first_done_at = (now, done)
        eta = None
        if total and self._first_done_at and done > self._first_done_at[1]:
            t1, d1 = self._first_done_at
            rate = (now - t1) / (done - d1)
            eta = rate * (total - done)
        elif total and done and done >= total:
            eta = 0
        self.eta.setText(fmt_eta(eta) if total and done < total else "")

    def finish(self) -> None:
        self._throttle.stop()
        self._latest = None
        self.hide()

    def _on_cancel(self) -> None:
        self.cancel.setEnabled(False)
        self.cancel.setText("Cancelling…")
        self.cancel_requested.emit()
