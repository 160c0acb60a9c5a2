"""The app's settings: stored with QSettings in an INI file in MusicRec's config folder (so a test's
or a user's `--home` keeps everything together), edited in one dialog.

The MusicBrainz host, rate and contact address reach the engine the documented way, through the
MUSICREC_MB_HOST, MUSICREC_MB_RATE and MUSICREC_CONTACT environment variables of this process.
"""

from __future__ import annotations

import os
import re

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from musicrec_engine.attributes import UNIT_ATTRIBUTES

WEIGHTED = UNIT_ATTRIBUTES + ["loudness", "tempo", "key", "mode"]
DEFAULTS = {
    "contact": "",
    "mb_host": "",
    "mb_rate": 1.0,
    "liked_threshold": 0.5,  # seed 004's LIKED_SONG_THRESHOLD
    "album_share": 0.5,  # ALBUM_RECOMMENDATION_THRESHOLD
    "album_min_tracks": 5,  # ALBUM_TRACK_LENGTH_THRESHOLD
    "workers": max(1, (os.cpu_count() or 2) - 1),
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def user_settings() -> QSettings:
    """Settings that must exist before the data folder is known (the data folder itself)."""
    return QSettings("MusicRec", "MusicRec")


class AppSettings:
    def __init__(self, config_dir):
        self.q = QSettings(str(config_dir / "app.ini"), QSettings.Format.IniFormat)

    def get(self, key: str):
        default = DEFAULTS.get(key)
        value = self.q.value(key, default)
        if isinstance(default, bool):
            return value in (True, "true", "1")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return value

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)
        self.q.sync()

    def weights(self) -> dict[str, float]:
        return {n: float(self.q.value(f"weights/{n}", 1.0)) for n in WEIGHTED}

    def set_weights(self, weights: dict[str, float]) -> None:
        for n, w in weights.items():
            self.q.setValue(f"weights/{n}", float(w))
        self.q.sync()

    def thresholds(self) -> dict:
        return {"liked_threshold": self.get("liked_threshold"), "album_share": self.get("album_share"),
                "min_tracks": self.get("album_min_tracks")}

    def apply_to_environment(self) -> None:
        """Hand the MusicBrainz settings to the engine (explicit environment variables win)."""
        for key, env in (("contact", "MUSICREC_CONTACT"), ("mb_host", "MUSICREC_MB_HOST")):
            value = str(self.get(key) or "").strip()
            if value:
                os.environ[env] = value
        host = os.environ.get("MUSICREC_MB_HOST", "")
        rate = float(self.get("mb_rate"))
        if not host or "musicbrainz.org" in host:
            rate = min(rate, 1.0)  # MusicBrainz's own rule for its public servers
        os.environ["MUSICREC_MB_RATE"] = f"{rate:g}"


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, data_folder: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        lay = QVBoxLayout(self)
        lay.setSpacing(12)

        mb = QGroupBox("MusicBrainz")
        f = QFormLayout(mb)
        self.contact = QLineEdit(settings.get("contact"))
        self.contact.setPlaceholderText("you@example.org")
        self.contact.setToolTip("Sent in the User-Agent of every MusicBrainz request, as MusicBrainz asks.")
        self.host = QLineEdit(settings.get("mb_host"))
        self.host.setPlaceholderText("musicbrainz.org (default) or host:port of your mirror")
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.05, 50.0)
        self.rate.setSingleStep(0.5)
        self.rate.setSuffix(" requests/s")
        self.rate.setValue(settings.get("mb_rate"))
        self.rate.setToolTip("musicbrainz.org allows at most 1 request per second; a mirror may allow more.")
        f.addRow("Contact address", self.contact)
        f.addRow("Server", self.host)
        f.addRow("Rate limit", self.rate)
        lay.addWidget(mb)

        alb = QGroupBox("Album recommendations")
        f = QFormLayout(alb)
        self.liked = QDoubleSpinBox()
        self.liked.setRange(0.0, 1.0)
        self.liked.setSingleStep(0.05)
        self.liked.setValue(settings.get("liked_threshold"))
        self.share = QDoubleSpinBox()
        self.share.setRange(0.0, 1.0)
        self.share.setSingleStep(0.05)
        self.share.setValue(settings.get("album_share"))
        self.min_tracks = QSpinBox()
        self.min_tracks.setRange(1, 100)
        self.min_tracks.setValue(settings.get("album_min_tracks"))
        f.addRow("A track counts as liked above", self.liked)
        f.addRow("Recommend when this share is liked", self.share)
        f.addRow("Only albums with at least (tracks)", self.min_tracks)
        lay.addWidget(alb)

        sim = QGroupBox("Similarity weights")
        g = QFormLayout(sim)
        self.weights: dict[str, QDoubleSpinBox] = {}
        current = settings.weights()
        row = QHBoxLayout()
        cols = [QFormLayout(), QFormLayout()]
        for i, n in enumerate(WEIGHTED):
            box = QDoubleSpinBox()
            box.setRange(0.0, 5.0)
            box.setSingleStep(0.25)
            box.setValue(current[n])
            self.weights[n] = box
            cols[i % 2].addRow(n.capitalize(), box)
        for c in cols:
            holder = QWidget()
            holder.setLayout(c)
            row.addWidget(holder)
        g.addRow(row)
        lay.addWidget(sim)

        gen = QGroupBox("Analysis and data")
        f = QFormLayout(gen)
        self.workers = QSpinBox()
        self.workers.setRange(1, max(1, os.cpu_count() or 1) * 2)
        self.workers.setValue(settings.get("workers"))
        self.data = QLineEdit(str(user_settings().value("data_folder", "") or ""))
        self.data.setPlaceholderText(data_folder)
        self.data.setToolTip("Where the library, models and caches live. Takes effect at the next start.")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_data)
        drow = QHBoxLayout()
        drow.addWidget(self.data, 1)
        drow.addWidget(browse)
        f.addRow("Analysis workers", self.workers)
        f.addRow("Data folder", drow)
        lay.addWidget(gen)

        self.error = QLabel("")
        self.error.setObjectName("errorText")
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _choose_data(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data.text() or self.data.placeholderText())
        if folder:
            self.data.setText(folder)

    def accept(self) -> None:
        contact = self.contact.text().strip()
        if contact and not EMAIL.match(contact):
            self.error.setText("The contact address should look like name@example.org.")
            return
        s = self.settings
        s.set("contact", contact)
        s.set("mb_host", self.host.text().strip())
        s.set("mb_rate", self.rate.value())
        s.set("liked_threshold", self.liked.value())
        s.set("album_share", self.share.value())
        s.set("album_min_tracks", self.min_tracks.value())
        s.set("workers", self.workers.value())
        s.set_weights({n: b.value() for n, b in self.weights.items()})
        us = user_settings()
        us.setValue("data_folder", self.data.text().strip())
        us.sync()
        s.apply_to_environment()
        super().accept()
