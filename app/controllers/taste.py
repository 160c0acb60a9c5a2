"""The taste model's jobs: ratings come in bursts, so retraining waits until the user pauses
(a debounce), runs once at a time, and then refreshes predictions and the explanation."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from app.controllers.taste_status import status_text
from app.workers import Workers

log = logging.getLogger(__name__)
RETRAIN_DELAY_MS = 1500


class TasteController(QObject):
    status_changed = Signal(str)  # one line for the rating panel and the Taste page
    predictions = Signal(object)  # {track id: p(like)}
    explanation = Signal(object)
    updated = Signal()  # a training finished and its predictions are shown
    failed = Signal(str)

    def __init__(self, engine, workers: Workers, parent=None):
        super().__init__(parent)
        self.engine, self.workers = engine, workers
        self.state = "idle"  # idle | stale | training | failed
        self.info: dict = {}
        # The model's status loads torch; that waits until the Taste page is opened or a track is
        # rated, so start-up (and a first analysis) never share the interpreter with that import.
        self.status_loaded = False
        self.again = False
        self.closing = False
        self.likes = self.dislikes = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(RETRAIN_DELAY_MS)
        self.timer.timeout.connect(self.retrain)

    def set_counts(self, likes: int, dislikes: int) -> None:
        self.likes, self.dislikes = likes, dislikes
        self.show_status()

    def rated(self) -> None:
        """The user changed a rating: the model is out of date; retrain once they pause."""
        if self.state != "training":
            self.state = "stale"
        self.show_status()
        self.timer.start()

    def retrain(self) -> None:
        self.timer.stop()
        if self.workers.busy("train"):
            self.again = True
            return
        self.again = False
        self.state = "training"
        self.show_status()

        def done(info):
            self.info = info or {}
            self.status_loaded = True  # the training reported the model's status
            self.state = "idle"
            self.show_status()
            self.refresh_predictions(after_training=True)
            self.refresh_explanation()

        def failed(msg):
            self.state = "failed"
            self.show_status()
            self.failed.emit(msg)

        def train(job):
            self.engine.train_taste(progress=job.progress, cancel=job.cancel)
            return self.engine.taste_status()

        self.workers.run("train", train, finished=done, failed=failed,
                         done=lambda: self.retrain() if self.again and not self.closing else None)

    def refresh_predictions(self, after_training: bool = False) -> None:
        def done(probs):
            self.predictions.emit(probs)
            if after_training:
                self.updated.emit()

        self.workers.run("predict", lambda j: self.engine.predict_like(), finished=done,
                         failed=lambda m: log.info("no predictions: %s", m))

    def refresh_status(self) -> None:
        self.status_loaded = True

        def done(info):
            self.info = info or {}
            self.show_status()

        self.workers.run("taste status", lambda j: self.engine.taste_status(), finished=done,
                         failed=lambda m: log.info("no taste status: %s", m))
        self.refresh_explanation()

    def refresh_explanation(self) -> None:
        self.workers.run("explain", lambda j: self.engine.explain_taste().to_dict(), finished=self.explanation.emit,
                         failed=lambda m: None)

    def show_status(self) -> None:
        text = status_text(self.info, self.likes, self.dislikes, self.state)
        if not self.status_loaded and self.likes + self.dislikes and self.state == "idle":
            text = "Model: predictions from your earlier ratings — the Taste tab has the details."
        self.status_changed.emit(text)

    def stop(self) -> None:
        self.closing = True
        self.timer.stop()
