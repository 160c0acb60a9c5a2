"""Decode any audio file a user has into mono float32 at 22,050 Hz.

soundfile (libsndfile) first: it reads WAV, FLAC, OGG/Vorbis, MP3 and AIFF quickly and
streams block by block. Anything it cannot open (M4A/AAC, ALAC, WMA, ...) goes to PyAV, whose
wheels carry FFmpeg, so no system ffmpeg is ever needed; Opus goes to PyAV first (faster there). Both paths resample with soxr in a
stream, so a long file is never held twice in memory at its native rate.

Analysis window policy (default "full"): the whole track up to `MAX_SECONDS` (10 min). Whole-
track statistics describe the song rather than its intro, and the pipeline is fast enough that
the cost is linear and small; the cap bounds memory for DJ mixes and audiobooks (a 2-hour file is
read only up to the cap). A `plan` (analysis/plan.py) may instead name a few stretches of a long
track: the decoders seek to each and decode only those, and the signal is the stretches joined.
window="30s" reproduces the audio recommender's standardisation: the first 30 s,
zero-padded when shorter, for comparability with models trained that way.

Files are opened read-only and never written.
"""

from __future__ import annotations

import os
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicrec_engine.errors import MusicRecError

SR = 22050
MAX_SECONDS = 600.0
SEED_SECONDS = 30.0
MIN_SECONDS = 1.0
SILENCE_DBFS = -60.0  # peak level below which a file counts as silent
WINDOWS = ("full", "30s")
_BLOCK_SECONDS = 30.0
# Surround and ambisonic files have up to a few dozen channels; a header claiming hundreds is
# damaged or hostile, and each channel costs a decode block of its own (30 s x rate x 4 bytes).
MAX_CHANNELS = 64
_BLOCK_CHANNELS = 8  # blocks of wider files are shortened to hold this many channels' worth
# A decoded length this much shorter than the header promises means a truncated/damaged file.
_TRUNCATION_TOLERANCE = (0.05, 1.0)  # fraction, seconds: both must be exceeded


class AudioError(MusicRecError):
    """A file that cannot be analysed, with the reason as one sentence."""


@dataclass
class Decoded:
    y: np.ndarray  # mono float32 at SR: the analysis window
    sr: int
    duration: float  # the whole file's duration in seconds (may exceed the analysed part)
    decoder: str  # "soundfile" or "pyav"
    channels: int = 1  # of the source; the signal is always the mono mean (L+R)/2
    segments: tuple[tuple[float, float], ...] = ()  # (start, length) s read, joined; () = from the start
    joins: tuple[int, ...] = ()  # the sample in y where each segment after the first begins

    @property
    def analysed_seconds(self) -> float:
        return len(self.y) / float(self.sr)


Plan = Callable[[float | None], list[tuple[float, float]]]


def decode(path: str | os.PathLike, window: str = "full", max_seconds: float = MAX_SECONDS,
           plan: Plan | None = None) -> Decoded:
    """Decode `path` for analysis; raise AudioError with a one-sentence reason when it cannot be.

    plan: called with the duration the header declares (None when it does not say); it returns
    the (start, length) stretches in seconds to read, or [] for the whole file. Only with
    window="full", and only where the format can seek."""
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {WINDOWS}")
    path = Path(path)
    check_readable(path)
    limit = SEED_SECONDS if window == "30s" else max_seconds
    not_audio = _sniff_not_audio(path)
    if not_audio:  # said before any decoder tries: they are slower and print noise for these
        raise AudioError(not_audio)
    plan = plan if window == "full" else None
    # Opus: FFmpeg decodes it in two thirds of libsndfile's CPU time (bench_throughput), so it goes first.
    first, second = ("pyav", "soundfile") if _is_opus(path) else ("soundfile", "pyav")
    readers = {"soundfile": _decode_soundfile, "pyav": _decode_pyav}
    try:
        y, duration, declared_seconds, channels, segs, joins = readers[first](path, limit, plan)
        decoder = first
    except _Unsupported as err1:
        try:
            y, duration, declared_seconds, channels, segs, joins = readers[second](path, limit, plan)
            decoder = second
        except _Unsupported as err2:
            raise AudioError(_undecodable_reason(path, err1, err2)) from None
    if not segs:
        _check_truncation(len(y) / SR, limit, declared_seconds)
    if duration < MIN_SECONDS:
        raise AudioError(f"the audio is shorter than one second ({duration:.2f} s)")
    peak = max(float(y.max()), -float(y.min())) if len(y) else 0.0  # no |y| copy of a long signal
    if peak <= 10 ** (SILENCE_DBFS / 20):
        if segs:  # silent where the plan looked (a hidden track after minutes of silence): read it all
            return decode(path, window, max_seconds)
        raise AudioError(f"the audio is silent (peak level below {SILENCE_DBFS:.0f} dBFS)")
    if window == "30s" and len(y) < int(SEED_SECONDS * SR):
        y = np.pad(y, (0, int(SEED_SECONDS * SR) - len(y)))
    return Decoded(np.ascontiguousarray(y, dtype=np.float32), SR, duration, decoder, channels, tuple(segs),
                   tuple(joins))


class _Unsupported(Exception):
    """This decoder cannot read the file; the next one may."""


def check_readable(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioError("the file does not exist") from None
    except PermissionError:
        raise AudioError("permission denied: MusicRec may not read this file") from None
    except OSError as e:
        raise AudioError(f"the file cannot be read ({e.strerror or e})") from None
    if path.is_dir():
        raise AudioError("this is a folder, not an audio file")
    if st.st_size == 0:
        raise AudioError("the file is empty (0 bytes)")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise AudioError("permission denied: MusicRec may not read this file") from None
    except OSError as e:
        raise AudioError(f"the file cannot be read ({e.strerror or e})") from None


def _stream_resampler(sr_in: int):
    import soxr

    return None if sr_in == SR else soxr.ResampleStream(sr_in, SR, 1, dtype="float32", quality="HQ")


class _Output:
    """The growing mono signal, preallocated so a long file is never concatenated (held twice)."""

    def __init__(self, expected: int):
        self.buf = np.empty(max(expected, 1), np.float32)
        self.n = 0

    def add(self, x: np.ndarray) -> None:
        if self.n + len(x) > len(self.buf):
            self.buf = np.resize(self.buf, max(2 * len(self.buf), self.n + len(x)))
        self.buf[self.n:self.n + len(x)] = x
        self.n += len(x)

    def result(self) -> np.ndarray:
        return self.buf[: self.n]


def _decode_soundfile(path: Path, limit: float, plan: Plan | None = None):
    """-> (mono signal at SR, duration s, declared duration s or None, channels, segments read, the
    sample where each segment after the first begins)."""
    import soundfile as sf

    try:
        f = sf.SoundFile(str(path), mode="r")
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise _Unsupported(str(e)) from None
    with f:
        sr_in, declared, channels = f.samplerate, f.frames, f.channels
        if sr_in <= 0 or f.channels <= 0:
            raise AudioError("the file's header is invalid (no sample rate or channels)")
        _check_channels(channels)
        declared_s = declared / sr_in if 0 < declared < 2**62 else None
        declared_s = _wav_declared_seconds(path, declared_s)
        block = max(1, int(_BLOCK_SECONDS * sr_in * min(1.0, _BLOCK_CHANNELS / channels)))
        segs = plan(declared_s) if plan is not None and f.seekable() else []
        if segs:
            out, joins = _Output(int(sum(n for _, n in segs) * SR) + SR * len(segs)), []
            for start, length in segs:
                joins += [out.n] if out.n else []
                try:
                    f.seek(int(start * sr_in))
                except (sf.LibsndfileError, RuntimeError):
                    _check_segment(start, 0.0, length, declared_s)
                want = int(length * sr_in)
                got = _read_blocks(f, want, block, out, sr_in, start)
                _check_segment(start, got / sr_in, length, declared_s)
            return out.result(), declared_s, declared_s, channels, segs, joins
        want = int(limit * sr_in)
        expect = min(want, declared if 0 < declared < 2**62 else want)
        out = _Output(int(expect * SR / sr_in) + SR)
        got = _read_blocks(f, want, block, out, sr_in, 0.0)
    # The whole file's length: the header's claim when we stopped at the cap, else what was there.
    duration = declared_s if (got >= want and declared_s) else got / sr_in
    return out.result(), duration, declared_s, channels, [], []


def _mix(channels: list[np.ndarray]) -> np.ndarray:
    """The mean of equal-length float32 channels, rounded as numpy's mean over channels rounds:
    a sum from +0.0 in channel order (so -0.0 samples come out +0.0), then / n. Column views
    are fine: this runs at memory speed, where mean(axis=1) on interleaved frames took a third
    of a FLAC's decoding time."""
    mono = channels[0] + np.float32(0.0)
    for c in channels[1:]:
        mono += c
    if len(channels) > 1:
        mono /= np.float32(len(channels))
    return mono


def _read_blocks(f, want: int, block: int, out: _Output, sr_in: int, start: float) -> int:
    """Up to `want` frames from where `f` stands, block by block, as mono at SR into `out`;
    -> frames read. `start` (s) is only for the message when the data turns out damaged."""
    import soundfile as sf

    rs = _stream_resampler(sr_in)
    got = 0
    try:
        while got < want:
            x = f.read(min(block, want - got), dtype="float32", always_2d=True)
            if not len(x):
                break
            got += len(x)
            if x.shape[1] == 1:
                mono = x[:, 0]
            elif x.shape[1] < 8:  # mean(axis=1) adds fewer than 8 values in order: the same sum, 20x faster
                mono = _mix([x[:, c] for c in range(x.shape[1])])
            else:  # numpy sums 8 or more in pairs: keep its rounding
                mono = x.mean(axis=1)
            del x
            out.add(rs.resample_chunk(mono) if rs else mono)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"the audio data is damaged after {start + got / sr_in:.1f} s ({e})") from None
    if rs:
        out.add(rs.resample_chunk(np.zeros(0, np.float32), last=True))
    return got


def _check_segment(start: float, got_s: float, length: float, declared_s: float | None) -> None:
    """A planned stretch that ends early (or cannot be reached) means the data stops before the
    header's length."""
    if got_s < length - _TRUNCATION_TOLERANCE[1]:
        raise AudioError(f"the file is truncated or its header is wrong: it declares {declared_s or 0:.1f} s "
                         f"of audio but the data ends near {start + got_s:.1f} s")


def _wav_declared_seconds(path: Path, fallback: float | None) -> float | None:
    """libsndfile quietly trusts the file size over a WAV's data-chunk size; the stdlib does not.

    Reading the declared length lets a WAV whose header promises more than it holds be reported
    as damaged instead of silently analysed as a different, shorter recording.
    """
    if path.suffix.lower() not in (".wav", ".wave"):
        return fallback
    try:
        with wave.open(str(path), "rb") as w:
            rate = w.getframerate()
            return w.getnframes() / rate if rate > 0 else fallback
    except (wave.Error, EOFError, OSError, ValueError):
        return fallback  # a WAV flavour the stdlib does not parse (float, extensible): trust libsndfile


def _decode_pyav(path: Path, limit: float, plan: Plan | None = None):
    """As _decode_soundfile, through FFmpeg."""
    import av

    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, ValueError) as e:
        raise _Unsupported(str(e)) from None
    with container:
        if not container.streams.audio:
            raise AudioError("the file has no audio stream")
        stream = container.streams.audio[0]
        sr_in = stream.codec_context.sample_rate or stream.rate
        if not sr_in:
            raise AudioError("the file's header is invalid (no sample rate)")
        declared_s = None
        if stream.duration and stream.time_base:
            declared_s = float(stream.duration * stream.time_base)
        elif container.duration:
            declared_s = container.duration / 1e6
        channels = stream.codec_context.channels or 1
        _check_channels(channels)
        segs = plan(declared_s) if plan is not None and stream.time_base else []
        if segs:
            out, joins = _Output(int(sum(n for _, n in segs) * SR) + SR * len(segs)), []
            for start, length in segs:
                joins += [out.n] if out.n else []
                try:
                    container.seek(int(start / stream.time_base), stream=stream)  # to the frame before
                except av.FFmpegError:
                    _check_segment(start, 0.0, length, declared_s)
                got = _read_frames(av, container, stream, int(length * sr_in), out, sr_in, start)
                _check_segment(start, got / sr_in, length, declared_s)
            return out.result(), declared_s, declared_s, channels, segs, joins
        want = int(limit * sr_in)
        expect = min(want, int(declared_s * sr_in) if declared_s else want)
        out = _Output(int(expect * SR / sr_in) + SR)
        got = _read_frames(av, container, stream, want, out, sr_in, None)
    duration = declared_s if (got >= want and declared_s) else got / sr_in
    return out.result(), duration, declared_s, channels, [], []


def _read_frames(av, container, stream, want: int, out: _Output, sr_in: int, start: float | None) -> int:
    """Up to `want` samples as mono at SR into `out`, decoding from where the container stands;
    with `start` (after a seek) the samples before that time are dropped. -> samples taken."""
    # FFmpeg only converts the sample format here; the mono mean is the same (L+R)/2 as the
    # soundfile path (FFmpeg's own downmix weights channels differently), soxr changes the rate.
    planar = av.AudioResampler(format="fltp")
    rs = _stream_resampler(sr_in)
    # Opus and AAC come in frames of 20-23 ms: a downmix and a resampler call per frame cost more
    # than decoding them did. Frames are gathered into ~1 s batches (per channel, as decoded) and
    # each batch is mixed down and resampled at once; soxr's stream gives the same samples.
    pending: list[list[np.ndarray]] = []
    batched = 0

    def flush() -> None:
        nonlocal batched
        if not pending:
            return
        mono = _mix([np.concatenate(c) if len(c) > 1 else c[0] for c in zip(*pending, strict=True)])
        out.add(rs.resample_chunk(mono) if rs else mono)
        pending.clear()
        batched = 0

    got = 0
    try:
        for frame in container.decode(stream):
            skip = 0
            if start is not None and frame.time is not None and frame.time < start:
                skip = int(round((start - frame.time) * sr_in))
            for pf in planar.resample(frame):
                n = pf.samples
                keep = max(0, min(n - skip, want - got))
                if keep:
                    # each plane holds at least n float32 samples (FFmpeg pads the line)
                    pending.append([np.frombuffer(plane, np.float32, n)[skip:skip + keep] for plane in pf.planes])
                    got += keep
                    batched += keep
                skip = max(0, skip - n)
            if batched >= sr_in:
                flush()
            if got >= want:
                break
    except av.FFmpegError as e:
        if got == 0 and start is None:
            raise _Unsupported(str(e)) from None
        raise AudioError(f"the audio data is damaged after {(start or 0.0) + got / sr_in:.1f} s") from None
    flush()
    if rs:
        out.add(rs.resample_chunk(np.zeros(0, np.float32), last=True))
    return got


def _check_channels(channels: int) -> None:
    if channels > MAX_CHANNELS:
        raise AudioError(f"the file declares {channels} channels; MusicRec reads files of up to {MAX_CHANNELS} "
                         "(the header is probably damaged)")


def _check_truncation(decoded_s: float, limit: float, declared_s: float | None) -> None:
    if not declared_s or decoded_s >= limit - 0.05:
        return
    missing = declared_s - decoded_s
    frac, secs = _TRUNCATION_TOLERANCE
    if missing > secs and missing > frac * declared_s:
        raise AudioError(f"the file is truncated or its header is wrong: it declares {declared_s:.1f} s "
                         f"of audio but only {decoded_s:.1f} s could be decoded")


_SIGNATURES = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive",
}


_AUDIO_SIGNATURES = {b"RIFF": "a WAV file", b"fLaC": "a FLAC file", b"OggS": "an Ogg file", b"ID3": "an MP3 file",
                     b"FORM": "an AIFF file"}


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(4096)
    except OSError:
        return b""


def _is_opus(path: Path) -> bool:
    head = _head(path)
    return head.startswith(b"OggS") and b"OpusHead" in head[:128]


def _sniff_not_audio(path: Path) -> str | None:
    """A reason when the first bytes show a well-known non-audio file (image, document, text)."""
    head = _head(path)
    for sig, what in _SIGNATURES.items():
        if head.startswith(sig):
            return f"this is {what}, not audio"
    if head and not any(head.startswith(sig) for sig in _AUDIO_SIGNATURES) and b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "this is a text file, not audio"
        except UnicodeDecodeError:
            pass
    return None


def _undecodable_reason(path: Path, sf_err: Exception, av_err: Exception) -> str:
    head = _head(path)
    for sig, what in _AUDIO_SIGNATURES.items():
        if head.startswith(sig):
            return f"the file looks like {what} but its header is invalid or its data is damaged"
    return "not a readable audio file: the format is unsupported or the data is damaged"
