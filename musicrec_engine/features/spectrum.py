"""The per-file analysis context: the signal and everything derived from it, computed once.

Both feature pipelines and the measured attributes read from one `Spectrum`; each derived
quantity is a cached property, so whoever asks first pays and everyone after shares it.

The magnitude spectrogram is computed in blocks of frames and the complex STFT is never kept:
for a 10-minute file the complex matrix alone would be 212 MB, which is what pushes a worker
past its memory budget. `stft` is still available for code that needs phase, at the price of a
second transform. Values match librosa.stft(center=True, pad_mode="constant", hann) exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 40
_BLOCK_FRAMES = 2048  # frames per FFT block: ~8 MB of complex scratch


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
        """|STFT|, float32, (1 + n_fft/2) x frames."""
        from scipy.fft import rfft

        pad = self.n_fft // 2
        y = np.pad(np.asarray(self.y, dtype=np.float32), (pad, pad))
        frames = np.lib.stride_tricks.sliding_window_view(y, self.n_fft)[:: self.hop]
        # Periodic Hann, as scipy.signal.get_window("hann", fftbins=True); spelt out to skip
        # importing scipy.signal (seconds on a cold start) for one line.
        window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(self.n_fft) / self.n_fft)).astype(np.float32)
        out = np.empty((self.n_fft // 2 + 1, len(frames)), dtype=np.float32)
        for i in range(0, len(frames), _BLOCK_FRAMES):
            block = frames[i:i + _BLOCK_FRAMES] * window
            out[:, i:i + len(block)] = np.abs(rfft(block, axis=1, workers=1)).T
        return out

    @cached_property
    def power(self) -> np.ndarray:
        return self.magnitude**2

    @cached_property
    def freqs(self) -> np.ndarray:
        return np.fft.rfftfreq(self.n_fft, 1.0 / self.sr)

    @cached_property
    def mel(self) -> np.ndarray:
        """Mel power spectrogram, N_MELS bands (seed 000's 40), from the shared power spectrogram."""
        import librosa

        fb = librosa.filters.mel(sr=self.sr, n_fft=self.n_fft, n_mels=N_MELS).astype(np.float32)
        return fb @ self.power

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

        Tuning is estimated on every 8th frame: librosa's estimate over all frames (piptrack) cost
        more than the rest of the chroma; a track's tuning does not change from frame to frame,
        so a regular subsample gives the same deviation to within a few cents.
        """
        import librosa

        tuning = librosa.estimate_tuning(S=self.power[:, ::8], sr=self.sr, n_fft=self.n_fft)
        return librosa.feature.chroma_stft(S=self.power, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop,
                                           tuning=tuning)

    @cached_property
    def rms(self) -> np.ndarray:
        import librosa

        return librosa.feature.rms(S=self.magnitude, frame_length=self.n_fft, hop_length=self.hop)[0]
