"""Playback of a playlist through the real sounddevice/PortAudio path, on ALSA's `null` device (a
real output device that discards the sound), in a child process whose HOME holds an .asoundrc
making it the default: PortAudio reads the ALSA configuration when it starts, so the test process
itself (which may have started PortAudio already) cannot switch."""

import json
import subprocess
import sys
import textwrap

import pytest
from audio_fixtures import music, write
from conftest import ROOT

CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from PySide6.QtCore import QCoreApplication, QTimer
    from app import playback
    from musicrec_engine.engine import Engine

    engine = Engine(sys.argv[1] + ".home")
    out = {"device": playback.output_device()}
    ended = []
    p = playback.Player(engine.decode_preview, on_end=ended.append)
    out["duration"] = p.load(sys.argv[1])
    p.play()
    t0 = time.monotonic()
    while not ended and time.monotonic() - t0 < 20:
        time.sleep(0.01)
    out["ended"], out["position_at_end"], out["state_at_end"] = ended, p.position, p.state
    p.seek(0.5)
    out["after_seek"] = p.position
    p.seek(1e9)
    out["seek_past_end"] = p.position
    p.volume = 3.0
    out["volume"] = p.volume

    # pause holds the position: a long signal, so the null device cannot finish it at once
    long = playback.Player(decode=lambda path: (np.zeros(22050 * 600, np.float32), 22050))
    long.load("ten minutes of silence")
    long.play()
    long.pause()
    held = long.position
    time.sleep(0.3)
    out["paused"] = [long.state, held < long.duration, long.position == held]
    long.stop()
    out["stopped"] = [long.state, long.position]

    # the app's controller plays a playlist to its end, one track after another
    from app.controllers.playlists import PlaylistsController
    from app.workers import Workers

    app = QCoreApplication([])
    ctl = PlaylistsController(engine, Workers())
    rows = []
    ctl.now_playing.connect(lambda row, secs: rows.append(row))
    ctl.stopped.connect(app.quit)
    tracks = [{"path": path} for path in sys.argv[1:]]
    QTimer.singleShot(0, lambda: ctl.play_from(tracks, 1))
    QTimer.singleShot(30000, app.quit)
    app.exec()
    out["played_rows"] = rows
    print(json.dumps(out))
""")


def test_a_playlist_plays_on_the_null_device(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    files = [str(write(tmp_path / f"t{i}.wav", music(1.5 + i, seed=i))) for i in range(3)]
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-c", CHILD, *files], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=120)
    if "PortAudio library" in r.stdout + r.stderr:
        pytest.skip("libportaudio2 is not installed (./dev installs it)")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["device"][0] is True, out["device"]
    assert out["duration"] == pytest.approx(1.5, abs=0.05)
    assert out["ended"] == [files[0]] and out["state_at_end"] == "stopped"
    assert out["position_at_end"] == pytest.approx(out["duration"], abs=0.01)
    assert out["after_seek"] == pytest.approx(0.5, abs=0.01)
    assert out["seek_past_end"] == pytest.approx(out["duration"], abs=0.01)
    assert out["volume"] == 1.0
    assert out["paused"] == ["paused", True, True]
    assert out["stopped"] == ["stopped", 0.0]
    assert out["played_rows"] == [1, 2]  # from the chosen track to the end of the playlist, then stop
