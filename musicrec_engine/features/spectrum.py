"""The per-file analysis context: the signal and everything derived from it, computed once.

Both feature pipelines and the measured attributes read from one `Spectrum`; each derived
quantity is a cached property, so whoever asks first pays and everyone after shares it.

The magnitude spectrogram is computed in blocks of frames and the complex STFT is never kept:
for a 10-minute file the complex matrix alone would be 212 MB, which is what pushes a worker
past its memory budget. `stft` is still available for code that needs phase, at the price of a
second transform. Values match librosa.stft(center=True, pad_mode="constant", hann) exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 40
_BLOCK_FRAMES = 2048  # frames per FFT block: ~8 MB of complex scratch
BLOCK = 2048  # frames per block for derived quantities: temporaries stay ~8 MB whatever the length


@dataclass
class Spectrum:
    y: np.ndarray  # mono float32 at SR
    sr: int = SR
    n_fft: int = N_FFT
    hop: int = HOP
    extras: dict = field(default_factory=dict)  # room for per-module caches without editing this class

    @property
    def duration(self) -> float:
        return len(self.y) / float(self.sr)

    @property
    def n_frames(self) -> int:
        return 1 + len(self.y) // self.hop

    @cached_property
    def stft(self) -> np.ndarray:
        """Complex STFT (not cached by the pipelines; costs a second transform)."""
        import librosa

        return librosa.stft(self.y, n_fft=self.n_fft, hop_length=self.hop, center=True)

    @cached_property
    def magnitude(self) -> np.ndarray:
        """|STFT|, float32, (1 + n_fft/2) x frames.

        Stored frame-major (a transposed view of a frames x bins array): the FFT writes whole
        frames, and the per-frame reductions that dominate the pipelines (sums, cumulative sums and
        sorts over frequency) then run over contiguous memory."""
        from scipy.fft import rfft

        y = np.asarray(self.y, dtype=np.float32)
        n, hop, pad = self.n_fft, self.hop, self.n_fft // 2
        # Periodic Hann, as scipy.signal.get_window("hann", fftbins=True); spelt out to skip
        # importing scipy.signal (seconds on a cold start) for one line.
        window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
        out = np.empty((self.n_frames, n // 2 + 1), dtype=np.float32)
        # Frame i covers y[i*hop - pad : i*hop - pad + n] with zeros outside (centred, constant
        # padding). Interior frames are strided views of y itself, so no padded copy of the signal;
        # the few edge frames are built one by one.
        first = -(-pad // hop)
        last = (len(y) + pad - n) // hop  # last frame lying wholly inside y
        edge = [i for i in range(self.n_frames) if i < first or i > last]
        if last >= first:
            inner = np.lib.stride_tricks.sliding_window_view(y, n)[first * hop - pad::hop][: last - first + 1]
            for i in range(0, len(inner), _BLOCK_FRAMES):
                block = inner[i:i + _BLOCK_FRAMES] * window
                out[first + i:first + i + len(block)] = np.abs(rfft(block, axis=1, workers=1))
        for i in edge:
            frame = np.zeros(n, np.float32)
            start = i * hop - pad
            seg = y[max(start, 0):max(start + n, 0)]
            frame[max(-start, 0):max(-start, 0) + len(seg)] = seg
            out[i] = np.abs(rfft(frame * window, workers=1))
        return out.T

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
        import librosa

        fb = librosa.filters.mel(sr=self.sr, n_fft=self.n_fft, n_mels=n_mels).astype(np.float32)
        out = np.empty((n_mels, self.n_frames), np.float32)
        for sl in self.blocks():
            out[:, sl] = fb @ (self.magnitude[:, sl] ** 2)
        return out

    @cached_property
    def freqs(self) -> np.ndarray:
        return np.fft.rfftfreq(self.n_fft, 1.0 / self.sr)

    @cached_property
    def mel(self) -> np.ndarray:
        """Mel power spectrogram, N_MELS bands (seed 000's 40), from the shared power spectrogram."""
        return self.mel_bands(N_MELS)

    @cached_property
    def log_mel(self) -> np.ndarray:
        import librosa

        return librosa.power_to_db(self.mel)

    @cached_property
    def onset_env(self) -> np.ndarray:
        """Onset strength from the mel spectrogram (no second STFT)."""
        import librosa

        return librosa.onset.onset_strength(S=self.log_mel, sr=self.sr, hop_length=self.hop)

    @cached_property
    def chroma(self) -> np.ndarray:
        """12 x T chroma from the shared power spectrogram.

        Tuning is estimated on every 16th frame (0.37 s apart): librosa's estimate over all frames
        (piptrack) cost more than the rest of the chroma, in time and memory; a track's tuning does
        not change from frame to frame, so a regular subsample gives the same deviation to within
        a few cents.
        """
        import librosa

        with warnings.catch_warnings():  # too few pitched frames: librosa warns and assumes A440, as we want
            warnings.simplefilter("ignore", UserWarning)
            tuning = librosa.estimate_tuning(S=self.magnitude[:, ::16] ** 2, sr=self.sr, n_fft=self.n_fft)
        out = np.empty((12, self.n_frames), np.float32)
        for sl in self.blocks():  # chroma_stft normalises each frame on its own, so blocks give the same
            out[:, sl] = librosa.feature.chroma_stft(S=self.magnitude[:, sl] ** 2, sr=self.sr, n_fft=self.n_fft,
                                                     hop_length=self.hop, tuning=tuning)
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
