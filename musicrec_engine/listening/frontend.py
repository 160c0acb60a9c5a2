"""MusiCNN's input: a log-compressed mel spectrogram of 16 kHz mono audio, cut into 3-second patches.

musicnn 0.1.0 (extractor.batch_data) computes
    librosa.feature.melspectrogram(y, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    -> astype(float16) -> log10(10000 * x + 1)
Here the same values come from numpy alone (librosa 0.11 conventions: centred frames with zero
padding, periodic Hann window, power spectrum, Slaney mel filters with Slaney normalisation),
with one deliberate difference: everything stays float32. musicnn's float16 cast makes
`10000 * x` overflow to inf on loud audio, and then every patch gets the same prediction.

Only the frames a patch needs are transformed, so the cost does not grow with track length.
"""

from __future__ import annotations

import numpy as np

SR = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
# 3 s of frames: librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as musicnn.
PATCH_FRAMES = 187

# Periodic Hann (scipy.signal.get_window("hann", 512, fftbins=True)), as librosa.stft uses.
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def _mel_basis() -> np.ndarray:
    from musicrec_engine.features import dsp

    return dsp.mel_filters(sr=SR, n_fft=N_FFT, n_mels=N_MELS)


def n_frames(n_samples: int) -> int:
    """Frames of a centred STFT of n_samples (librosa's 1 + len // hop)."""
    return 1 + int(n_samples) // HOP


def segment_frames(seg: np.ndarray) -> np.ndarray:
    """(count, 96) float32 mel power frames of a segment of (count - 1) * HOP + N_FFT samples: frame i
    covers seg[i*HOP : i*HOP + N_FFT] (so the segment starts N_FFT/2 samples before the first
    frame's centre)."""
    count = (len(seg) - N_FFT) // HOP + 1
    frames = np.lib.stride_tricks.sliding_window_view(seg, N_FFT)[::HOP][:count]
    spec = np.fft.rfft(frames * _WINDOW, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    return power @ _mel_basis().T


def frame_span(start: int, count: int) -> tuple[int, int]:
    """First sample and number of samples that frames start..start+count-1 read (the first may be
    negative: centred frames reach N_FFT/2 before the signal)."""
    return start * HOP - N_FFT // 2, (count - 1) * HOP + N_FFT


def mel_frames(y: np.ndarray, start: int, count: int) -> np.ndarray:
    """(count, 96) float32 mel power spectrogram frames start..start+count-1 of the 16 kHz signal y,
    equal to librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
    [:, start:start+count].T. Frames past the end are computed on zeros, as centred padding does."""
    y = np.asarray(y, dtype=np.float32)
    lo, size = frame_span(start, count)
    seg = np.zeros(size, np.float32)
    a, b = max(lo, 0), min(lo + size, len(y))
    if b > a:
        seg[a - lo:b - lo] = y[a:b]
    return segment_frames(seg)


def log_compress(mel: np.ndarray) -> np.ndarray:
    """musicnn's compression log10(10000 * x + 1), in float32."""
    return np.log10(np.float32(10000) * mel + np.float32(1)).astype(np.float32, copy=False)


def log_mel(y: np.ndarray) -> np.ndarray:
    """(frames, 96) float32 log-mel spectrogram of a whole 16 kHz signal (musicnn's audio_rep)."""
    return log_compress(mel_frames(y, 0, n_frames(len(y))))


def patch_starts(n_frames: int, n_patches: int) -> list[int]:
    """First frames of at most n_patches non-overlapping 187-frame patches spread over a track of
    n_frames: each patch sits at the centre of one of n equal stretches of the track, so one patch
    lands in the middle, three sample the beginning, middle and end, and fades and silences at the
    very edges are avoided. A track too short for n patches gets as many as fit (at least one)."""
    if n_patches < 1:
        raise ValueError("n_patches must be at least 1")
    room = max(int(n_frames) - PATCH_FRAMES, 0)
    n = max(1, min(int(n_patches), int(n_frames) // PATCH_FRAMES))
    starts = [round((i + 0.5) * n_frames / n - PATCH_FRAMES / 2) for i in range(n)]
    return [min(max(s, 0), room) for s in starts]


def patches(y: np.ndarray, n_patches: int) -> tuple[np.ndarray, list[int]]:
    """(n, 187, 96) float32 log-mel patches of a 16 kHz signal and their first frames. A signal
    shorter than a patch is repeated to fill it, as musicnn's training data were ("repeat-pad")."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("expected a non-empty mono signal")
    total = n_frames(len(y))
    if total < PATCH_FRAMES:
        mel = log_mel(y)
        reps = -(-PATCH_FRAMES // total)
        return np.tile(mel, (reps, 1))[None, :PATCH_FRAMES], [0]
    starts = patch_starts(total, n_patches)
    out = np.empty((len(starts), PATCH_FRAMES, N_MELS), np.float32)
    for i, s in enumerate(starts):
        out[i] = log_compress(mel_frames(y, s, PATCH_FRAMES))
    return out, starts


# The shipped models run their two timbral convolutions (7 frames x 38 or 67 mel bands, 204
# filters each; four fifths of the network's arithmetic) in 8-bit integers: four times the
# multiply-adds per instruction of float32 on current x86 CPUs. Their input is prepared here once
# per patch and shared by both models: each patch quantised to 7-bit steps between its own minimum
# and maximum, padded by 3 frames in time as the convolution pads, and unrolled into one row of
# 7 x width values per output position ("im2col"), so the convolution is one integer matrix
# product. The integers count from the middle of the patch's range (zero point 64), not from its
# minimum: the filters' rounding errors then meet values centred on zero and mostly cancel, where
# from the minimum they add up (three times the error at the convolution's output). 7 bits, not 8: CPUs without VNNI add pairs of 8-bit products in 16-bit registers, which
# 8-bit inputs can overflow; with 7 bits the sums stay exact there too, so every CPU gives the same
# numbers. tools/musicnn/export_onnx.py builds the graph that takes these inputs.
TIMBRAL_TIME = 7
TIMBRAL_PAD = 3
QUANT_STEPS = 127
QUANT_ZERO = 64


def quantised_inputs(x: np.ndarray) -> dict[str, np.ndarray]:
    """What the shipped ONNX models take besides the (n, 187, 96) log-mel patches themselves:
    "scale" and "offset" (n, 1, 1) float32, patch = offset + scale * (q - 64) with q in 0..127,
    and "cols38", "cols67": uint8 (n, 187 * (97 - width), 7 * width), row (t, f) holding
    q[t+dt-3, f+df] (64, i.e. nothing, outside the patch) for dt < 7, df < width."""
    from musicrec_engine.listening.network import TIMBRAL_WIDTHS

    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    lo = x.reshape(n, -1).min(axis=1)
    span = x.reshape(n, -1).max(axis=1) - lo
    scale = np.where(span > 0, span / QUANT_STEPS, 1.0).astype(np.float32)
    q = np.full((n, x.shape[1] + 2 * TIMBRAL_PAD, x.shape[2]), QUANT_ZERO, np.uint8)
    q[:, TIMBRAL_PAD:TIMBRAL_PAD + x.shape[1]] = np.rint((x - lo[:, None, None]) / scale[:, None, None])
    offset = lo + QUANT_ZERO * scale
    out = {"scale": scale.reshape(n, 1, 1), "offset": offset.astype(np.float32).reshape(n, 1, 1)}
    for width in TIMBRAL_WIDTHS:
        rows = np.lib.stride_tricks.sliding_window_view(q, (TIMBRAL_TIME, width), axis=(1, 2))
        out[f"cols{width}"] = rows.reshape(n, -1, TIMBRAL_TIME * width)  # the one copy
    return out
