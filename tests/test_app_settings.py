"""Settings, window state, the About dialog and the preview control, as a user meets them."""

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QInputDialog

from app.about import AboutDialog
from app.settings import AppSettings, SettingsDialog
from app.window import MainWindow
from musicrec_engine.engine import Engine


@pytest.fixture
def engine(home, monkeypatch):
    for var in ("MUSICREC_MB_HOST", "MUSICREC_MB_RATE", "MUSICREC_CONTACT"):
        monkeypatch.delenv(var, raising=False)
    e = Engine(home)
    yield e
    e.close()


def test_settings_dialog_saves_and_a_new_window_reads_them(qtbot, engine):
    settings = AppSettings(engine)
    dialog = SettingsDialog(settings, str(engine.paths.data))
    qtbot.addWidget(dialog)
    dialog.contact.setText("not an address")
    dialog.accept()
    assert "name@example.org" in dialog.error.text() and dialog.result() == 0  # refused, dialog stays

    dialog.contact.setText("me@example.org")
    dialog.host.setText("127.0.0.1:5000")
    dialog.rate.setValue(4.0)
    dialog.liked.setValue(0.7)
    dialog.min_tracks.setValue(3)
    dialog.meta_p.setValue(0.8)  # albums judged by metadata have their own bar
    dialog.weights["energy"].setValue(2.5)
    dialog.workers.setValue(1)
    dialog.accept()
    assert dialog.result() == 1

    again = AppSettings(Engine(engine.paths.data))  # as the next start of the app sees them
    assert again.musicbrainz() == {"host": "127.0.0.1:5000", "rate": 4.0, "contact": "me@example.org"}
    assert again.thresholds() == {"liked_probability": 0.7, "liked_share": 0.5, "min_tracks": 3,
                                  "metadata_probability": 0.8, "metadata_min_ratings": 3}
    assert again.weights()["energy"] == 2.5 and again.get("workers") == 1
    # The engine (and so the CLI) uses the same MusicBrainz settings.
    assert engine.musicbrainz_settings().contact == "me@example.org"


def test_musicbrainz_rate_above_one_is_refused_for_the_public_server(qtbot, engine):
    dialog = SettingsDialog(AppSettings(engine), str(engine.paths.data))
    qtbot.addWidget(dialog)
    dialog.host.setText("musicbrainz.org")
    dialog.rate.setValue(5.0)
    dialog.accept()
    assert "at most 1 request per second" in dialog.error.text() and dialog.result() == 0


def test_window_state_is_restored(qtbot, engine):
    w = MainWindow(engine)
    qtbot.addWidget(w)
    w.show()
    w.resize(731, 650)  # inside the offscreen test screen
    w.tabs.setCurrentIndex(2)
    w.library.table.setColumnHidden(3, True)
    size = (w.width(), w.height())
    assert size[0] == 731
    w.close()
    w2 = MainWindow(engine)
    qtbot.addWidget(w2)
    assert (w2.width(), w2.height()) == size
    assert w2.tabs.currentIndex() == 2
    assert w2.library.table.isColumnHidden(3)
    w2.close()


def test_contact_address_is_asked_once_and_stored(qtbot, engine, monkeypatch):
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[1])
        return "listener@example.org", True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(answer))  # the user types an address
    w = MainWindow(engine)
    qtbot.addWidget(w)
    assert w.ensure_contact() and w.ensure_contact()
    assert len(asked) == 1 and "MusicBrainz" in asked[0]
    assert engine.musicbrainz_settings().contact == "listener@example.org"
    w.close()


def test_preview_is_disabled_with_the_reason_when_there_is_no_output_device(qtbot, engine):
    import sounddevice

    w = MainWindow(engine)
    qtbot.addWidget(w)
    if any(d.get("max_output_channels", 0) > 0 for d in sounddevice.query_devices()):
        pytest.skip("this machine has an audio output device")
    assert not w.library.play_button.isEnabled()
    assert "No audio output device" in w.library.play_button.toolTip()
    w.close()


def test_about_names_the_version_data_folder_and_licences(qtbot, engine):
    d = AboutDialog(str(engine.paths.data))
    qtbot.addWidget(d)
    text = d.text.toPlainText()
    assert "MusicRec" in text and str(engine.paths.data) in text
    assert "LGPL-3.0" in text and "torch" in text
    QTimer.singleShot(0, d.reject)
    d.exec()  # opens and closes like a real dialog


def test_preview_decodes_at_most_30_seconds_of_the_track(tmp_path):
    from audio_fixtures import music, write

    from app import playback

    path = write(tmp_path / "long.flac", music(40.0, seed=1))
    y, sr = Engine.decode_preview(str(path), playback.PREVIEW_SECONDS)
    assert y.ndim == 1 and len(y) == int(playback.PREVIEW_SECONDS * sr)
