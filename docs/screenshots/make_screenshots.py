"""Make the README's screenshots of the real window (run under Xvfb for a real X window):

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/make_screenshots.py

It uses a throw-away data folder: the demo library, a few likes and dislikes, a retrained taste
model, and (when ../shared/data is there) the Spotify sample catalog for the Albums tab. The demo
albums get a picture embedded in their (generated, throw-away) files, as a user's tagged albums
have, so the Albums tab shows covers read from the files.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
# ../shared/data beside the repository (a git worktree sits one level deeper)
SPOTIFY_SAMPLE = next((d / "shared" / "data" / "spotify-sample" / "tracks_features_sample_1k.csv"
                       for d in (ROOT.parent, ROOT.parent.parent) if (d / "shared" / "data").is_dir()), Path("-"))
sys.path.insert(0, str(ROOT))


def wait(app, signal=None, ms=60000, until=None):
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    if signal is not None:
        signal.connect(loop.quit)
    QTimer.singleShot(ms, loop.quit)
    if until is not None:
        poll = QTimer()
        poll.timeout.connect(lambda: until() and loop.quit())
        poll.start(100)
    loop.exec()


def shoot(app, window, name):
    wait(app, ms=700)
    window.grab().save(str(OUT / name))
    print("wrote", OUT / name)


def embed_covers(engine) -> None:
    """A drawn 600 px cover embedded in each demo album's FLAC files (mutagen, as a tagger would)."""
    from mutagen.flac import FLAC, Picture
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QRadialGradient

    albums: dict[str, list[str]] = {}
    for t in engine.library.tracks():
        albums.setdefault(t["album"], []).append(t["path"])
    for n, paths in enumerate(albums[a] for a in sorted(albums)):
        hue = (40 + 110 * n) % 360
        img = QImage(600, 600, QImage.Format.Format_RGB32)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        g = QLinearGradient(0, 0, 600, 600)
        g.setColorAt(0, QColor.fromHsv(hue, 150, 200))
        g.setColorAt(1, QColor.fromHsv((hue + 60) % 360, 200, 70))
        p.fillRect(img.rect(), g)
        sun = QRadialGradient(QPointF(400, 230), 170)
        sun.setColorAt(0, QColor(255, 240, 210, 230))
        sun.setColorAt(1, QColor(255, 240, 210, 0))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(sun)
        p.drawEllipse(QPointF(400, 230), 170, 170)
        p.setBrush(QColor(0, 0, 0, 70))
        p.drawRect(0, 430, 600, 170)
        p.end()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        img.save(buf, "JPG", 90)
        for path in paths:
            f = FLAC(path)
            pic = Picture()
            pic.type, pic.mime, pic.width, pic.height, pic.data = 3, "image/jpeg", 600, 600, bytes(data)
            f.clear_pictures()
            f.add_picture(pic)
            f.save()


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from app.main import apply_theme
    from app.window import MainWindow
    from musicrec_engine.engine import Engine

    app = QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="musicrec-shots-") as tmp:
        empty = Engine(Path(tmp) / "empty")
        w = MainWindow(empty, persist_state=False)
        w.resize(1360, 840)
        w.show()
        wait(app, w.library_loaded, 10000)
        shoot(app, w, "empty.png")
        w.close()
        empty.close()

        engine = Engine(Path(tmp) / "home")
        w = MainWindow(engine, persist_state=False)
        w.settings.set("min_tracks", 3)  # the demo's albums are short; a user can set this in Settings
        w.resize(1360, 840)
        w.show()
        wait(app, w.library_loaded, 10000)
        w.load_demo()
        wait(app, w.analysis_finished, 300000)
        w.library.select_titles({"Open Road", "Pulse", "Neon Rain"})
        w.rate_selected(1)
        wait(app, ms=500)
        w.library.select_titles({"Slow Tide", "Morning Light"})
        w.rate_selected(0)
        wait(app, w.taste_updated, 180000)
        if SPOTIFY_SAMPLE.is_file():
            engine.import_catalog(str(SPOTIFY_SAMPLE), name="Spotify sample")
            engine.predict_catalog()
        w.library.select_titles({"Last Train"})
        wait(app, ms=1500)
        shoot(app, w, "library.png")
        embed_covers(engine)
        w.tabs.setCurrentWidget(w.albums)
        wait(app, w.albums_shown, 60000)
        w.albums.source.setCurrentIndex(w.albums.source.findData("library"))  # the demo albums, with their covers
        wait(app, w.albums_shown, 60000)
        wait(app, ms=1500)  # covers are read from the files in a worker
        shoot(app, w, "albums.png")
        w.tabs.setCurrentWidget(w.taste)
        shoot(app, w, "taste.png")
        from app.playlists_wiring import playlist_from

        w.library.select_titles({"Open Road", "Pulse"})
        playlist_from(w, w.library.selected_tracks())  # what "Make playlist from this" does
        wait(app, w.playlist_jobs.made, 60000)
        w.playlists.tracks.item(1).setSelected(True)  # its reason shows under the list
        shoot(app, w, "playlists.png")
        w.close()
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
