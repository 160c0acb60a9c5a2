"""The About dialog: version, where the data lives, and the licences of the bundled components."""

from __future__ import annotations

import html
from importlib.metadata import PackageNotFoundError, version

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from musicrec_engine.engine import APP_NAME, __version__

# (distribution, licence) for what the bundle ships; versions are read from the installed metadata.
COMPONENTS = [
    ("PySide6-Essentials", "LGPL-3.0 (Qt for Python)"),
    ("torch", "BSD-3-Clause"),
    ("numpy", "BSD-3-Clause"),
    ("scipy", "BSD-3-Clause"),
    ("soundfile", "BSD-3-Clause (libsndfile: LGPL-2.1)"),
    ("soxr", "LGPL-2.1 (libsoxr)"),
    ("av", "BSD-3-Clause (FFmpeg libraries: LGPL-2.1)"),
    ("scikit-learn", "BSD-3-Clause"),
    ("xgboost-cpu", "Apache-2.0"),
    ("scikit-optimize", "BSD-3-Clause"),
    ("onnxruntime", "MIT"),
    ("onnx", "Apache-2.0"),
    ("skl2onnx", "Apache-2.0"),
    ("onnxmltools", "Apache-2.0"),
    ("protobuf", "BSD-3-Clause"),
    ("pandas", "BSD-3-Clause"),
    ("musicbrainzngs", "BSD-2-Clause and ISC"),
    ("mutagen", "GPL-2.0-or-later"),
    ("sounddevice", "MIT (PortAudio: MIT)"),
    ("platformdirs", "MIT"),
    ("joblib", "BSD-3-Clause"),
]


def musicnn_credit() -> str:
    """The listening model's credit and licence, read from the manifest shipped with its weights."""
    from musicrec_engine.engine import Engine

    m = Engine.listening_model_info()
    if not m:
        return "<p>The listening model (MusiCNN) is not installed.</p>"
    text = html.escape(m.get("licence_text", "")).replace("\n\n", "<br><br>")
    return (f"<p><b>Listening model:</b> MusiCNN {html.escape(m.get('version', ''))} (MSD and MTT models) by "
            "Jordi Pons and Xavier Serra, Music Technology Group, Universitat Pompeu Fabra — "
            f"{html.escape(m.get('upstream', ''))}, licence {html.escape(m.get('licence', ''))}. Its weights were "
            f"converted to numpy arrays for MusicRec.</p><p style='font-size:small'>{text}</p>")


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def about_html(data_folder: str) -> str:
    rows = "".join(f"<tr><td>{html.escape(d)}</td><td>{html.escape(_version(d))}</td><td>{html.escape(lic)}</td></tr>"
                   for d, lic in COMPONENTS)
    return (
        f"<h2>{APP_NAME} {html.escape(__version__)}</h2>"
        "<p>A music recommender that runs entirely on your computer: it listens to your files, learns "
        "your taste from likes and dislikes, and suggests tracks and albums. The only network use is "
        "the optional, rate-limited MusicBrainz look-up.</p>"
        f"<p><b>Data folder:</b> {html.escape(data_folder)}</p>"
        "<p>MusicRec itself is MIT-licensed. It is built on these components:</p>"
        "<table cellspacing='0' cellpadding='3'><tr><th align='left'>Component</th><th align='left'>Version</th>"
        f"<th align='left'>Licence</th></tr>{rows}</table>"
        "<p>Album data and cover art come from MusicBrainz (CC0) and the Cover Art Archive.</p>"
        f"{musicnn_credit()}"
    )


class AboutDialog(QDialog):
    def __init__(self, data_folder: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(560, 560)
        lay = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(about_html(data_folder))
        lay.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
