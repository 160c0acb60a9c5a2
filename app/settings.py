"""The app's settings: stored with QSettings in an INI file in MusicRec's config folder (so a test's
or a user's `--home` keeps everything together), edited in one dialog.

The MusicBrainz host, rate and contact address belong to the engine (Engine.musicbrainz_settings,
shared with the CLI), so the dialog reads and saves them there; the environment variables
MUSICREC_MB_HOST/RATE/CONTACT still win, as documented.
"""

from __future__ import annotations

import os

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

from app.widgets.folder_list import FolderList
from musicrec_engine.engine import Engine

WEIGHTED = [*Engine.UNIT_ATTRIBUTES, "loudness", "tempo", "key", "mode"]
# the album thresholds a user can change (the sound-based ones, and the bar for albums judged by metadata)
THRESHOLDS = ("liked_probability", "liked_share", "min_tracks", "metadata_probability", "metadata_min_ratings")
DEFAULTS = {
    **{k: v for k, v in Engine.album_thresholds().items() if k in THRESHOLDS},
    "workers": max(2, os.cpu_count() or 2),  # >= 2 puts batches in worker processes, off the GUI process
}


def user_settings() -> QSettings:
    """Settings that must exist before the data folder is known (the data folder itself)."""
    return QSettings("MusicRec", "MusicRec")


class AppSettings:
    def __init__(self, engine):
        self.engine = engine
        self.q = QSettings(str(engine.paths.config / "app.ini"), QSettings.Format.IniFormat)

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
        defaults = self.engine.similarity_weight_defaults()
        return {n: float(self.q.value(f"weights/{n}", defaults.get(n, 1.0))) for n in WEIGHTED}

    def set_weights(self, weights: dict[str, float]) -> None:
        for n, w in weights.items():
            self.q.setValue(f"weights/{n}", float(w))
        self.q.sync()

    def watched_folders(self) -> list[str]:
        """Music folders scanned again at every start (new, changed, moved and gone files)."""
        return [f for f in str(self.q.value("watched_folders", "") or "").splitlines() if f.strip()]

    def set_watched_folders(self, folders: list[str]) -> None:
        self.set("watched_folders", "\n".join(folders))

    def thresholds(self) -> dict:
        return {k: self.get(k) for k in THRESHOLDS}

    def musicbrainz(self) -> dict:
        """{host, rate, contact} as the engine will use them (saved < environment)."""
        try:
            s = self.engine.musicbrainz_settings()
            return {"host": s.host, "rate": float(s.rate), "contact": s.contact or ""}
        except Exception:  # an engine without MusicBrainz support, or a damaged settings file
            return {"host": os.environ.get("MUSICREC_MB_HOST", "musicbrainz.org"),
                    "rate": float(os.environ.get("MUSICREC_MB_RATE", 1.0) or 1.0),
                    "contact": os.environ.get("MUSICREC_CONTACT", "")}

    def save_musicbrainz(self, **values) -> None:
        self.engine.save_musicbrainz_settings(**values)

    def contact(self) -> str:
        return self.musicbrainz()["contact"]


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, data_folder: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        lay = QVBoxLayout(self)
        lay.setSpacing(12)

        mb = QGroupBox("MusicBrainz")
        f = QFormLayout(mb)
        mbs = settings.musicbrainz()
        self.contact = QLineEdit(mbs["contact"])
        self.contact.setPlaceholderText("you@example.org")
        self.contact.setToolTip("Sent in the User-Agent of every MusicBrainz request, as MusicBrainz asks.")
        self.host = QLineEdit(mbs["host"])
        self.host.setPlaceholderText("musicbrainz.org (default) or host:port of your mirror")
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.05, 50.0)
        self.rate.setSingleStep(0.5)
        self.rate.setSuffix(" requests/s")
        self.rate.setValue(mbs["rate"])
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
        self.liked.setValue(settings.get("liked_probability"))
        self.share = QDoubleSpinBox()
        self.share.setRange(0.0, 1.0)
        self.share.setSingleStep(0.05)
        self.share.setValue(settings.get("liked_share"))
        self.min_tracks = QSpinBox()
        self.min_tracks.setRange(1, 100)
        self.min_tracks.setValue(settings.get("min_tracks"))
        f.addRow("A track counts as liked above", self.liked)
        f.addRow("Recommend when this share is liked", self.share)
        f.addRow("Only albums with at least (tracks)", self.min_tracks)
        self.meta_p = QDoubleSpinBox()
        self.meta_p.setRange(0.0, 1.0)
        self.meta_p.setSingleStep(0.05)
        self.meta_p.setValue(settings.get("metadata_probability"))
        self.meta_p.setToolTip("Albums none of whose tracks can be judged by sound are judged by their artist, "
                               "label and tags: a weaker guess, so it has its own bar")
        self.meta_n = QSpinBox()
        self.meta_n.setRange(1, 1000)
        self.meta_n.setValue(settings.get("metadata_min_ratings"))
        f.addRow("By metadata: recommend above", self.meta_p)
        f.addRow("By metadata: resting on at least (ratings)", self.meta_n)
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
        self.watched = FolderList(settings.watched_folders())
        self.watched.setToolTip("Scanned at every start: new and changed files are analysed, moved files keep "
                                "their ratings, files that are gone are hidden (their ratings kept).")
        f.addRow("Analysis workers", self.workers)
        f.addRow("Watched folders", self.watched)
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
        if contact and not self.settings.engine.valid_contact(contact):
            self.error.setText("The contact address should look like name@example.org (or a web page).")
            return
        s = self.settings
        host = self.host.text().strip() or "musicbrainz.org"
        rate = self.rate.value()
        if host.endswith("musicbrainz.org") and rate > 1.0:
            self.error.setText("musicbrainz.org allows at most 1 request per second.")
            return
        try:
            s.save_musicbrainz(host=host, rate=rate, contact=contact or None)
        except Exception as exc:
            self.error.setText(f"The MusicBrainz settings could not be saved: {exc}")
            return
        s.set("liked_probability", self.liked.value())
        s.set("liked_share", self.share.value())
        s.set("min_tracks", self.min_tracks.value())
        s.set("metadata_probability", self.meta_p.value())
        s.set("metadata_min_ratings", self.meta_n.value())
        s.set("workers", self.workers.value())
        s.set_watched_folders(self.watched.folders())
        s.set_weights({n: b.value() for n, b in self.weights.items()})
        us = user_settings()
        us.setValue("data_folder", self.data.text().strip())
        us.sync()
        super().accept()


def ask_contact(parent, settings: AppSettings, tell) -> bool:
    """MusicBrainz asks every client for a contact address; ask once and remember it. `tell`
    shows a one-line message when the answer is not an address."""
    if settings.contact():
        return True
    from PySide6.QtWidgets import QInputDialog

    text, ok = QInputDialog.getText(
        parent, "Contact address for MusicBrainz",
        "MusicBrainz asks every program to identify itself with a contact address.\n"
        "It is sent only to MusicBrainz, in the User-Agent of each request. Your e-mail address:")
    text = text.strip()
    if not ok or not settings.engine.valid_contact(text):
        if ok:
            tell("That does not look like an e-mail address; the search did not start.")
        return False
    settings.save_musicbrainz(contact=text)
    return True


HEADER_KEY = "window/header-v4"  # bump when the columns change, so an old layout is not applied


def restore_window_state(window, q: QSettings, library) -> None:
    """Size, docks, the library's splitter and columns, and the open tab, as the user left them."""
    for key, restore in (("window/geometry", window.restoreGeometry), ("window/state", window.restoreState),
                         ("window/splitter", library.splitter.restoreState),
                         (HEADER_KEY, library.table.horizontalHeader().restoreState)):
        if q.value(key):
            restore(q.value(key))
    window.tabs.setCurrentIndex(int(q.value("window/tab", 0)))


def save_window_state(window, q: QSettings, library) -> None:
    q.setValue("window/geometry", window.saveGeometry())
    q.setValue("window/state", window.saveState())
    q.setValue("window/splitter", library.splitter.saveState())
    q.setValue(HEADER_KEY, library.table.horizontalHeader().saveState())
    q.setValue("window/tab", window.tabs.currentIndex())
    q.sync()
