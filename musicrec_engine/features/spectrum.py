"""The per-file analysis context: the signal and everything derived from it, computed once.

Both feature pipelines and the measured attributes read from one `Spectrum`; each derived
quantity is a cached property, so whoever asks first pays and everyone after shares it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 40


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

    @cached_property
    def stft(self) -> np.ndarray:
        import librosa

        return librosa.stft(self.y, n_fft=self.n_fft, hop_length=self.hop, center=True)

    @cached_property
    def magnitude(self) -> np.ndarray:
        return np.abs(self.stft).astype(np.float32)

    @cached_property
    def power(self) -> np.ndarray:
        return self.magnitude**2

    @cached_property
    def freqs(self) -> np.ndarray:
        import librosa

        return librosa.fft_frequencies(sr=self.sr, n_fft=self.n_fft)

    @cached_property
    def mel(self) -> np.ndarray:
        """Mel power spectrogram, N_MELS bands, from the shared STFT."""
        import librosa

        return librosa.feature.melspectrogram(S=self.power, sr=self.sr, n_mels=N_MELS)

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
        """12 x T chroma from the shared power spectrogram."""
        import librosa

        return librosa.feature.chroma_stft(S=self.power, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop)

    @cached_property
    def rms(self) -> np.ndarray:
        import librosa

        return librosa.feature.rms(S=self.magnitude, frame_length=self.n_fft, hop_length=self.hop)[0]
