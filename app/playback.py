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


def play(path: str, cancel) -> None:
    """Decode up to PREVIEW_SECONDS of `path` (read-only) and play it; runs in a worker thread."""
    import sounddevice as sd

    from musicrec_engine.audio import decode as audio

    y, sr = _decode(audio, path)
    sd.play(y, sr)
    while sd.get_stream().active:
        if cancel.wait(0.1):
            sd.stop()
            break


def _decode(audio, path):
    """The first PREVIEW_SECONDS of `path`, mono, with its sample rate (the engine's decoder)."""
    out = audio.decode(path, max_seconds=PREVIEW_SECONDS)
    return out.y[: int(PREVIEW_SECONDS * out.sr)], out.sr


def stop() -> None:
    try:
        import sounddevice as sd

        sd.stop()
    except Exception:  # nothing was playing, or there is no device: stopping is a no-op either way
        pass
