"""Preview playback through sounddevice (PortAudio). Machines without an output device (servers,
CI, some VMs) get a disabled control with the reason, never an error dialog."""

from __future__ import annotations

PREVIEW_SECONDS = 30.0


def output_device() -> tuple[bool, str]:
    """(available, reason): whether a preview can play, and why not when it cannot."""
    try:
        import sounddevice as sd
    except OSError:  # sounddevice imports fine but PortAudio's library is missing
        return False, "Preview needs the PortAudio library (libportaudio2), which is not installed."
    except ImportError:
        return False, "Preview needs the sounddevice package, which is not installed."
    try:
        devices = sd.query_devices()
        if not any(d.get("max_output_channels", 0) > 0 for d in devices):
            return False, "No audio output device was found, so previews cannot play."
        sd.query_devices(kind="output")
    except Exception as exc:  # PortAudio reports missing defaults in many ways
        return False, f"No usable audio output device: {exc}"
    return True, "Play a 30-second preview of the selected track (Space)"


def play(engine, path: str, cancel) -> None:
    """Decode up to PREVIEW_SECONDS of `path` (read-only) and play it; runs in a worker thread."""
    import sounddevice as sd

    y, sr = engine.decode_preview(path, PREVIEW_SECONDS)
    sd.play(y, sr)
    while sd.get_stream().active:
        if cancel.wait(0.1):
            sd.stop()
            break


def stop() -> None:
    try:
        import sounddevice as sd

        sd.stop()
    except Exception:  # nothing was playing, or there is no device: stopping is a no-op either way
        pass


class Player:
    """Whole-track playback for playlists: play, pause, stop, seek, volume, and the next track when
    one ends. Qt-free, so it can be tested in a plain process on ALSA's null device.

    Audio is decoded in full (through the engine's decoder, files only read) and fed to a PortAudio
    output stream from its callback; position is the sample the callback reaches next. `on_end` is
    called from PortAudio's thread when a track plays to its end (not on stop); the app turns it
    into a queued signal."""

    def __init__(self, decode, on_end=None):
        """`decode(path)` gives (mono float32 samples, sample rate): the engine's decoder."""
        import threading

        self._decode = decode
        self.on_end = on_end
        self._lock = threading.Lock()
        self._stream = None
        self._y = None
        self.sr = 0
        self._pos = 0
        self._volume = 1.0
        self.path: str | None = None
        self.state = "stopped"  # stopped | playing | paused

    # what is loaded
    def load(self, path: str) -> float:
        """Decode `path` and make it the current track (stopped at 0). Returns its length in seconds."""
        y, sr = self._decode(path)
        self.stop()
        with self._lock:
            import numpy as np

            self._y, self.sr, self._pos, self.path = np.ascontiguousarray(y, dtype="float32"), int(sr), 0, str(path)
        return self.duration

    @property
    def duration(self) -> float:
        return 0.0 if self._y is None or not self.sr else len(self._y) / self.sr

    @property
    def position(self) -> float:
        with self._lock:
            return self._pos / self.sr if self.sr else 0.0

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, v: float) -> None:
        self._volume = min(1.0, max(0.0, float(v)))

    # transport
    def play(self) -> None:
        """Start (or resume) the loaded track."""
        import sounddevice as sd

        if self._y is None or self.state == "playing":
            return
        if self.state == "stopped" and self._stream is not None:  # ended: a finished stream cannot restart
            self._stream.close()
            self._stream = None
        with self._lock:
            if self._pos >= len(self._y):
                self._pos = 0
        if self._stream is None:
            self._stream = sd.OutputStream(samplerate=self.sr, channels=1, dtype="float32",
                                           callback=self._fill, finished_callback=self._finished)
        self.state = "playing"
        self._stream.start()

    def pause(self) -> None:
        if self.state == "playing" and self._stream is not None:
            self.state = "paused"
            self._stream.stop()

    def toggle(self) -> None:
        self.pause() if self.state == "playing" else self.play()

    def stop(self) -> None:
        """Stop and rewind; no on_end."""
        stream, self._stream = self._stream, None
        self.state = "stopped"
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # the device went away meanwhile: stopped either way
                pass
        with self._lock:
            self._pos = 0

    def seek(self, seconds: float) -> None:
        with self._lock:
            if self._y is not None:
                self._pos = int(min(max(0.0, seconds), self.duration) * self.sr)

    # PortAudio's thread
    def _fill(self, out, frames, _time, _status) -> None:
        import sounddevice as sd

        with self._lock:
            chunk = self._y[self._pos:self._pos + frames]
            self._pos += len(chunk)
            n = len(chunk)
        out[:n, 0] = chunk * self._volume
        out[n:] = 0
        if n < frames:
            raise sd.CallbackStop

    def _finished(self) -> None:
        # called after CallbackStop (the end), and also after stop()/pause(): only the end counts
        if self.state == "playing" and self._y is not None and self._pos >= len(self._y):
            self.state = "stopped"
            if self.on_end is not None:
                self.on_end(self.path)
