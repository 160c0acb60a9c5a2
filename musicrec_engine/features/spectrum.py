"""The per-file analysis context: the signal and everything derived from it, computed once.

Both feature pipelines and the measured attributes read from one `Spectrum`; each derived
quantity is a cached property, so whoever asks first pays and everyone after shares it.

The magnitude spectrogram is computed in blocks of frames and the complex STFT is never kept:
for a 10-minute file the complex matrix alone would be 212 MB, which is what pushes a worker
past its memory budget. `stft` is still available for code that needs phase, at the price of a
second transform. Values match librosa.stft(center=True, pad_mode="constant", hann) exactly; the
mel, onset and chroma quantities match librosa 0.11's through features.dsp (no librosa here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from musicrec_engine.features import dsp

SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 40
# Frames per FFT call. The windowed frames and their transform (1 MB + 1 MB) stay in the
# processor's cache and the scratch is reused, so the STFT costs half what 2048-frame blocks did
# (those were 16 MB of fresh memory per call, paid in page faults and cache misses).
_FFT_FRAMES = 128
BLOCK = 256  # frames per block for derived quantities: 1 MB temporaries, which stay in cache


@dataclass
class Spectrum:
    y: np.ndarray  # mono float32 at SR
    sr: int = SR
    n_fft: int = N_FFT
    hop: int = HOP
    extras: dict = field(default_factory=dict)  # room for per-module caches without editing this class
    # Samples of y where one stretch read from a long track ends and the next begins (the analysis
    # plan's segments, joined): rhythm changes phase there. () for one continuous signal.
    joins: tuple[int, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.y) / float(self.sr)

    @property
    def n_frames(self) -> int:
        return 1 + len(self.y) // self.hop

    @cached_property
    def stft(self) -> np.ndarray:
        """Complex STFT, bins x frames (not used by the pipelines; costs a second transform)."""
        return self._frames_fft(np.complex64).T

    @cached_property
    def magnitude(self) -> np.ndarray:
        """|STFT|, float32, (1 + n_fft/2) x frames.

        Stored frame-major (a transposed view of a frames x bins array): the FFT writes whole
        frames, and the per-frame reductions that dominate the pipelines (sums, cumulative sums and
        sorts over frequency) then run over contiguous memory."""
        return self._frames_fft(np.float32).T

    def _frames_fft(self, dtype) -> np.ndarray:
        """frames x bins rfft of the windowed frames; |.| when dtype is real, else complex."""
        from scipy.fft import rfft

        y = np.asarray(self.y, dtype=np.float32)
        n, hop, pad = self.n_fft, self.hop, self.n_fft // 2
        real = np.dtype(dtype).kind == "f"
        # Periodic Hann, as scipy.signal.get_window("hann", fftbins=True); spelt out to skip
        # importing scipy.signal (seconds on a cold start) for one line.
        window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
        out = np.empty((self.n_frames, n // 2 + 1), dtype=dtype)
        # Frame i covers y[i*hop - pad : i*hop - pad + n] with zeros outside (centred, constant
        # padding). Interior frames are strided views of y itself, so no padded copy of the signal;
        # the few edge frames are built one by one.
        first = -(-pad // hop)
        last = (len(y) + pad - n) // hop  # last frame lying wholly inside y
        edge = [i for i in range(self.n_frames) if i < first or i > last]
        if last >= first:
            inner = np.lib.stride_tricks.sliding_window_view(y, n)[first * hop - pad::hop][: last - first + 1]
            scratch = np.empty((min(_FFT_FRAMES, len(inner)), n), np.float32)
            for i in range(0, len(inner), _FFT_FRAMES):
                frames = inner[i:i + _FFT_FRAMES]
                block = np.multiply(frames, window, out=scratch[:len(frames)])
                spectrum = rfft(block, axis=1, workers=1, overwrite_x=True)
                rows = out[first + i:first + i + len(frames)]
                if real:
                    np.abs(spectrum, out=rows)
                else:
                    rows[:] = spectrum
        for i in edge:
            frame = np.zeros(n, np.float32)
            start = i * hop - pad
            seg = y[max(start, 0):max(start + n, 0)]
            frame[max(-start, 0):max(-start, 0) + len(seg)] = seg
            spectrum = rfft(frame * window, workers=1)
            out[i] = np.abs(spectrum) if real else spectrum
        return out

    def blocks(self, size: int | None = None):
        """Column slices covering all frames, so derived arrays can be built without full-size temporaries."""
        size = size or BLOCK
        for i in range(0, self.n_frames, size):
            yield slice(i, min(i + size, self.n_frames))

    @cached_property
    def power(self) -> np.ndarray:
        """|STFT|^2. The pipelines here work from `magnitude` block by block and never build this
        (it is another full-size array); it is kept for code that wants the whole matrix."""
        return self.magnitude**2

    def mel_bands(self, n_mels: int) -> np.ndarray:
        """A mel power spectrogram with `n_mels` bands, built block by block from the magnitude."""
        spans = dsp.mel_filter_spans(sr=self.sr, n_fft=self.n_fft, n_mels=n_mels)
        out = np.empty((n_mels, self.n_frames), np.float32)
        frames = self.magnitude.T
        for sl in self.blocks():
            power = frames[sl] ** 2
            for m, (lo, hi, w) in enumerate(spans):  # each band over its own bins only
                if hi > lo:
                    np.matmul(power[:, lo:hi], w, out=out[m, sl])
                else:
                    out[m, sl] = 0.0
        return out

    @cached_property
    def freqs(self) -> np.ndarray:
        return np.fft.rfftfreq(self.n_fft, 1.0 / self.sr)

    @cached_property
    def mel(self) -> np.ndarray:
        """Mel power spectrogram, N_MELS bands (the audio recommender's 40), from the shared power spectrogram."""
        return self.mel_bands(N_MELS)

    @cached_property
    def log_mel(self) -> np.ndarray:
        return dsp.power_to_db(self.mel)

    @cached_property
    def onset_env(self) -> np.ndarray:
        """Onset strength from the mel spectrogram (no second STFT)."""
        return dsp.onset_strength(self.log_mel, n_fft=self.n_fft, hop_length=self.hop)

    @cached_property
    def chroma(self) -> np.ndarray:
        """12 x T chroma from the shared power spectrogram.

        Tuning is estimated on every 16th frame (0.37 s apart): librosa's estimate over all frames
        (piptrack) cost more than the rest of the chroma, in time and memory; a track's tuning does
        not change from frame to frame, so a regular subsample gives the same deviation to within
        a few cents.
        """
        tuning = dsp.estimate_tuning(self.magnitude[:, ::16] ** 2, sr=self.sr)  # nothing pitched: A440
        out = np.empty((12, self.n_frames), np.float32)
        for sl in self.blocks():  # chroma_stft normalises each frame on its own, so blocks give the same
            out[:, sl] = dsp.chroma_stft(self.magnitude[:, sl] ** 2, sr=self.sr, tuning=tuning)
        return out

    @cached_property
    def rms(self) -> np.ndarray:
        """Frame RMS from the spectrum (Parseval), as librosa.feature.rms(S=magnitude), block by block."""
        out = np.empty(self.n_frames, np.float32)
        for sl in self.blocks():
            x = self.magnitude[:, sl] ** 2
            x[0] *= 0.5
            x[-1] *= 0.5  # n_fft is even: the Nyquist bin counts once, like DC
            out[sl] = np.sqrt(2 * x.sum(axis=0) / self.n_fft**2)
        return out
