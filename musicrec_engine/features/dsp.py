"""The few librosa 0.11 computations the feature pipelines use, in numpy and scipy only.

Why this exists: importing any part of librosa imports librosa.util, whose numba kernels compile
when imported. In the installed (frozen) app numba's on-disk cache is keyed by the install path,
so nothing can be shipped pre-compiled, and the first analysis after install waited ~30 s for
the compiler; numba and llvmlite were also ~190 MB of the bundle. These functions take the same
parameters, follow the same conventions and give the same values as the librosa calls they
stand in for (tests/test_features.py compares each one with the installed librosa), so feature
vectors, caches and trained models stay valid. Only the code paths the pipelines use are here:
Slaney mel scale, slaney-normalised filters, power spectrograms as input. Two stand in for scipy
instead: find_peaks (scipy.signal takes a second to import) and median_filter (scipy.ndimage's
is slow to run), each tested against scipy likewise.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

# The librosa release whose values these functions reproduce. It stays in the feature schema
# under the key "librosa", where the installed librosa version used to be, because the values
# are still that release's: caches and trained models keyed on the schema hash remain valid.
LIBROSA_COMPAT = "0.11"

# Slaney's Auditory Toolbox mel scale: linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz) -> np.ndarray:
    hz = np.asanyarray(hz, dtype=np.float64)
    mels = hz / _F_SP
    log = hz >= _MIN_LOG_HZ
    mels = np.where(log, _MIN_LOG_MEL + np.log(np.where(log, hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP, mels)
    return mels


def mel_to_hz(mels) -> np.ndarray:
    mels = np.asanyarray(mels, dtype=np.float64)
    hz = _F_SP * mels
    return np.where(mels >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels - _MIN_LOG_MEL)), hz)


def mel_frequencies(n_mels: int = 128, *, fmin: float = 0.0, fmax: float = 11025.0) -> np.ndarray:
    """Band edges/centres evenly spaced on the mel scale (librosa.mel_frequencies, htk=False)."""
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels))


@lru_cache(maxsize=8)
def _mel_filters(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper)).astype(np.float32)
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]  # slaney: ~equal energy per band
    weights.flags.writeable = False  # shared between callers through the cache
    return weights


def mel_filters(*, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """(n_mels, 1 + n_fft/2) float32 triangular filters (librosa.filters.mel, norm="slaney")."""
    return _mel_filters(float(sr), int(n_fft), int(n_mels), float(fmin), float(sr) / 2 if fmax is None else float(fmax))


@lru_cache(maxsize=8)
def mel_filter_spans(*, sr: float, n_fft: int, n_mels: int) -> tuple[tuple[int, int, np.ndarray], ...]:
    """mel_filters as (first bin, end bin, weights) per band: each triangle covers a few bins, and
    applying only those does a twentieth of the dense matrix product's arithmetic."""
    fb = mel_filters(sr=sr, n_fft=n_fft, n_mels=n_mels)
    spans = []
    for row in fb:
        nz = np.flatnonzero(row)
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if len(nz) else (0, 0)
        w = row[lo:hi].copy()
        w.flags.writeable = False
        spans.append((lo, hi, w))
    return tuple(spans)


def power_to_db(S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """10 log10(S / ref), floored at amin and at top_db below the peak (librosa.power_to_db)."""
    S = np.asarray(S)
    log_spec = 10.0 * np.log10(np.maximum(amin, S))
    log_spec -= 10.0 * np.log10(np.maximum(amin, abs(ref)))
    if top_db is not None:
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


def onset_strength(S: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512) -> np.ndarray:
    """Spectral flux of a log spectrogram, mean over bands, aligned to frame centres
    (librosa.onset.onset_strength(S=S) with lag 1, max_size 1, center=True)."""
    S = np.atleast_2d(S)
    flux = np.maximum(0.0, S[:, 1:] - S[:, :-1])
    env = np.mean(flux, axis=0, keepdims=True)[0]
    pad = 1 + n_fft // (2 * hop_length)
    return np.pad(env, (pad, 0), mode="constant")[: S.shape[-1]]


def localmax(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """x[i] > x[i-1] and x[i] >= x[i+1]; the first element never, the last if above its neighbour
    (librosa.util.localmax)."""
    xi = np.moveaxis(x, axis, 0)
    out = np.zeros(xi.shape, dtype=bool)
    if xi.shape[0] > 2:
        out[1:-1] = (xi[1:-1] > xi[:-2]) & (xi[1:-1] >= xi[2:])
    if xi.shape[0] > 1:
        out[-1] = xi[-1] > xi[-2]
    return np.moveaxis(out, 0, axis)


def _parabolic_shift(S: np.ndarray) -> np.ndarray:
    """Offset of the parabola through each bin and its neighbours along axis 0, 0 where it would
    move more than a bin and at both edges. Arithmetic in float64 on float32 sums, as librosa's
    compiled stencil does, so the values (and the tuning histogram built on them) agree exactly."""
    shift = np.zeros(S.shape, dtype=S.dtype)
    if S.shape[0] > 2:
        a = (S[2:] + S[:-2]).astype(np.float64) - 2 * S[1:-1].astype(np.float64)
        b = (S[2:] - S[:-2]).astype(np.float64) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            shift[1:-1] = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)
    return shift


def _band_peaks(S: np.ndarray, *, sr: float, fmin: float, fmax: float, threshold: float):
    """(bin, frame) indices, frequencies and interpolated magnitudes of piptrack's peaks, row-major.

    Only the bins from fmin to fmax (and one on either side, for the neighbours a peak and its
    parabola look at) are computed: with the defaults that is a third of the spectrum, and
    librosa's arithmetic there is reproduced step for step, so the values are its own."""
    S = np.abs(S)
    n_bins = S.shape[0]
    n_fft = 2 * (n_bins - 1)
    fmin, fmax = max(fmin, 0), min(fmax, float(sr) / 2)
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = np.flatnonzero((fmin <= fft_freqs) & (fft_freqs < fmax))
    if len(band) == 0 or S.shape[1] == 0:
        empty = np.zeros(0, dtype=np.intp)
        return (empty, empty), np.zeros(0, S.dtype), np.zeros(0, S.dtype)
    lo, hi = max(int(band[0]) - 1, 0), min(int(band[-1]) + 2, n_bins)  # the band and its neighbours
    part = S[lo:hi]
    floor = threshold * np.max(S, axis=0)[None, :]  # over all bins, as librosa
    peaks = localmax(part * np.greater(part, floor), axis=0)
    inside = np.zeros(len(part), bool)
    inside[band - lo] = True
    # Rows of `part` inside the band have both neighbours in it (or are the spectrum's own edge,
    # where part's edge rules are the whole's), so localmax, np.gradient and the parabola give
    # the values they give on the whole spectrum there.
    rows, cols = np.nonzero(peaks & inside[:, None])
    grad = np.gradient(part, axis=0) if len(part) > 1 else np.zeros_like(part)
    shift = _parabolic_shift(part)
    idx = (rows + lo, cols)
    pitch = (idx[0] + shift[rows, cols]) * float(sr) / n_fft
    mag = part[rows, cols] + 0.5 * grad[rows, cols] * shift[rows, cols]
    return idx, pitch.astype(S.dtype), mag.astype(S.dtype)


def piptrack(S: np.ndarray, *, sr: float, fmin: float = 150.0, fmax: float = 4000.0,
             threshold: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Peak frequencies and interpolated magnitudes per bin and frame, zero elsewhere
    (librosa.piptrack(S=S) with its defaults)."""
    S = np.abs(S)
    idx, pitch, mag = _band_peaks(S, sr=sr, fmin=fmin, fmax=fmax, threshold=threshold)
    pitches = np.zeros_like(S)
    mags = np.zeros_like(S)
    pitches[idx] = pitch
    mags[idx] = mag
    return pitches, mags


def pitch_tuning(frequencies, *, resolution: float = 0.01, bins_per_octave: int = 12) -> float:
    """Most common deviation from A440 equal temperament, in fractions of a bin; 0 (A440) when
    there is nothing pitched (librosa.pitch_tuning, which also warns then)."""
    frequencies = np.atleast_1d(frequencies)
    frequencies = frequencies[frequencies > 0]
    if not np.any(frequencies):
        return 0.0
    residual = np.mod(bins_per_octave * np.log2(frequencies / (440.0 / 16)), 1.0)
    residual[residual >= 0.5] -= 1.0
    bins = np.linspace(-0.5, 0.5, int(np.ceil(1.0 / resolution)) + 1)
    counts, edges = np.histogram(residual, bins)
    return float(edges[np.argmax(counts)])


def estimate_tuning(S: np.ndarray, *, sr: float, resolution: float = 0.01, bins_per_octave: int = 12) -> float:
    """Tuning from the stronger half of the spectral peaks (librosa.estimate_tuning(S=S))."""
    # piptrack's non-zero entries, without building its two full-size arrays
    _, pitch, mag = _band_peaks(S, sr=sr, fmin=150.0, fmax=4000.0, threshold=0.1)
    pitch_mask = pitch > 0
    threshold = np.median(mag[pitch_mask]) if pitch_mask.any() else 0.0
    return pitch_tuning(pitch[(mag >= threshold) & pitch_mask], resolution=resolution,
                        bins_per_octave=bins_per_octave)


def normalize(S: np.ndarray, *, norm: float, axis: int = 0) -> np.ndarray:
    """Scale slices along `axis` to unit `norm` (inf, or p > 0); all-zero slices stay as they are
    (librosa.util.normalize, threshold=None, fill=None)."""
    mag = np.abs(S).astype(float)
    if norm == np.inf:
        length = np.max(mag, axis=axis, keepdims=True)
    else:
        length = np.sum(mag**norm, axis=axis, keepdims=True) ** (1.0 / norm)
    tiny = np.finfo(S.dtype).tiny if np.issubdtype(S.dtype, np.floating) else np.finfo(np.float64).tiny
    length[length < tiny] = 1.0
    out = np.empty_like(S)
    out[:] = S / length
    return out


@lru_cache(maxsize=8)
def _chroma_filters(sr: float, n_fft: int, tuning: float, n_chroma: int, ctroct: float, octwidth: float,
                    norm: float) -> np.ndarray:
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    frqbins = n_chroma * np.log2(frequencies / (a440 / 16))
    # 0 Hz gets a made-up position 1.5 octaves below bin 1, with a broad bump.
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    half = np.round(float(n_chroma) / 2)
    D = np.remainder(D + half + 10 * n_chroma, n_chroma) - half
    wts = np.exp(-0.5 * (2 * D / np.tile(binwidthbins, (n_chroma, 1))) ** 2)
    wts = normalize(wts, norm=norm, axis=0)
    wts *= np.tile(np.exp(-0.5 * (((frqbins / n_chroma - ctroct) / octwidth) ** 2)), (n_chroma, 1))
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)  # start at C, not A
    out = np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=np.float32)
    out.flags.writeable = False
    return out


def chroma_filters(*, sr: float, n_fft: int, tuning: float = 0.0, n_chroma: int = 12, ctroct: float = 5.0,
                   octwidth: float = 2.0, norm: float = 2.0) -> np.ndarray:
    """(n_chroma, 1 + n_fft/2) float32 weights from FFT bins to pitch classes, C first
    (librosa.filters.chroma with base_c=True)."""
    return _chroma_filters(float(sr), int(n_fft), float(tuning), int(n_chroma), float(ctroct), float(octwidth),
                           float(norm))


def chroma_stft(S: np.ndarray, *, sr: float, tuning: float, n_chroma: int = 12) -> np.ndarray:
    """Chromagram of a power spectrogram, each frame scaled to max 1
    (librosa.feature.chroma_stft(S=S, tuning=tuning))."""
    n_fft = 2 * (S.shape[0] - 1)
    fb = chroma_filters(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma)
    # einsum, as librosa does: a plain matmul rounds differently in the last bit.
    return normalize(np.einsum("cf,...ft->...ct", fb, S, optimize=True), norm=np.inf, axis=-2)


def mfcc(S: np.ndarray, *, n_mfcc: int = 20) -> np.ndarray:
    """DCT-II (orthonormal) of a log-mel spectrogram along bands (librosa.feature.mfcc(S=S))."""
    from scipy.fft import dct

    return dct(S, axis=-2, type=2, norm="ortho")[..., :n_mfcc, :]


def delta(data: np.ndarray, *, width: int = 9, order: int = 1, axis: int = -1) -> np.ndarray:
    """Local derivative by Savitzky-Golay filtering, polynomial fits at the edges
    (librosa.feature.delta, i.e. scipy.signal.savgol_filter(mode="interp"), whose module costs a
    second to import)."""
    if width > data.shape[axis]:
        raise ValueError(f"delta: width={width} exceeds the {data.shape[axis]} frames given")
    if width < 3 or width % 2 != 1:
        raise ValueError(f"delta: width must be an odd integer >= 3, not {width}")
    dtype = data.dtype if data.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    x = np.moveaxis(np.asarray(data, np.float64), axis, -1)
    half = width // 2
    # The least-squares polynomial of degree `order` over the window, differentiated `order` times,
    # is a constant: one weight per point. The edges take the nearest full window's fit.
    vander = np.arange(width, dtype=np.float64)[:, None] ** np.arange(order + 1)
    weights = math.factorial(order) * np.linalg.pinv(vander)[order]
    inner = np.lib.stride_tricks.sliding_window_view(x, width, axis=-1) @ weights
    out = np.concatenate([np.repeat(inner[..., :1], half, -1), inner, np.repeat(inner[..., -1:], half, -1)], -1)
    return np.moveaxis(out, -1, axis).astype(dtype, copy=False)


def find_peaks(x: np.ndarray, *, height: float, distance: float = 1) -> np.ndarray:
    """Indices of local maxima (a flat top counts once, at its middle) at least `height` high,
    thinning out lower peaks closer than `distance` samples to a higher one
    (scipy.signal.find_peaks(x, height=, distance=)[0])."""
    x = np.asarray(x)
    d = np.diff(x)
    steps = np.flatnonzero(d)
    up = d[steps] > 0
    k = np.flatnonzero(up[:-1] & ~up[1:])  # a rise, flat or not, then a fall
    peaks = (steps[k] + 1 + steps[k + 1]) // 2
    peaks = peaks[x[peaks] >= height]
    if distance > 1 and len(peaks) > 1:
        gap = math.ceil(distance)
        keep = np.ones(len(peaks), bool)
        # each peak's neighbourhood (closer than `gap`) as an index range, all found at once
        lows = np.searchsorted(peaks, peaks - gap + 1).tolist()
        highs = np.searchsorted(peaks, peaks + gap).tolist()
        for j in np.argsort(x[peaks])[::-1].tolist():  # highest first, as scipy
            if keep[j]:
                keep[lows[j]:highs[j]] = False
                keep[j] = True
        peaks = peaks[keep]
    return peaks


def _batcher_pairs(n: int) -> list[tuple[int, int]]:
    """Comparators (low, high) of Batcher's odd-even merge sort of n = 2**k wires, in order."""
    out = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        out.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return out


@lru_cache(maxsize=8)
def _median_network(size: int) -> tuple[tuple, int]:
    """A min/max network whose last step leaves the median of `size` inputs in one of them:
    Batcher's sorting network padded to a power of two with +inf wires, with every comparator
    that touches a padding wire resolved in advance and every one that cannot reach the median
    dropped. -> ((a, b, need_min, need_max), ...), index of the input slot holding the median."""
    n = 1 << (size - 1).bit_length()
    wires: list[int | None] = list(range(size)) + [None] * (n - size)  # None: +inf
    ops = []
    for lo, hi in _batcher_pairs(n):
        if wires[hi] is None:
            continue  # min(x, inf) = x stays low
        if wires[lo] is None:
            wires[lo], wires[hi] = wires[hi], wires[lo]
            continue
        ops.append((wires[lo], wires[hi]))  # slot a receives the min, slot b the max
    target = wires[size // 2]
    live, kept = {target}, []
    for a, b in reversed(ops):
        if a in live or b in live:
            kept.append((a, b, a in live, b in live))
            live |= {a, b}
    return tuple(reversed(kept)), target


def median_filter(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Running median of `size` (odd) values along `axis` of a 2-D array, edges mirrored
    (scipy.ndimage.median_filter with a 1 x size footprint and mode="reflect", same values).

    Why not scipy's: its rank filter sorts each window anew in a scalar loop and took a third of
    the feature stage's time for the harmonic/percussive split. Here every window is reduced at
    once by a fixed network of elementwise minima and maxima (24 steps for 9 values, 49 for 15),
    over chunks of rows small enough to stay in the processor's cache."""
    x = np.asarray(x)
    if size % 2 != 1 or size < 1:
        raise ValueError(f"median_filter: size must be an odd positive integer, not {size}")
    axis = axis % 2
    if size == 1 or x.size == 0:
        return x.copy()
    half, n = size // 2, x.shape[axis]
    ops, target = _median_network(size)
    # ndimage's "reflect" edges (d c b a | a b c d | d c b a ...), also for windows longer than x
    index = np.arange(-half, n + half) % (2 * n)
    index = np.where(index >= n, 2 * n - 1 - index, index)
    out = np.empty_like(x)
    other = 1 - axis
    step = max(1, 32768 // max(n, 1))  # ~128 kB per slot
    for start in range(0, x.shape[other], step):
        part = x[start:start + step] if other == 0 else x[:, start:start + step]
        slots = [np.take(part, index[i:i + n], axis=axis) for i in range(size)]
        for a, b, need_min, need_max in ops:
            if need_min and need_max:
                low = np.minimum(slots[a], slots[b])
                np.maximum(slots[a], slots[b], out=slots[b])
                slots[a] = low
            elif need_min:
                np.minimum(slots[a], slots[b], out=slots[a])
            else:
                np.maximum(slots[a], slots[b], out=slots[b])
        if other == 0:
            out[start:start + step] = slots[target]
        else:
            out[:, start:start + step] = slots[target]
    return out


def tonnetz(chroma: np.ndarray) -> np.ndarray:
    """Six tonal-centroid dimensions (fifths, minor and major thirds as x/y pairs) of a chromagram
    (librosa.feature.tonnetz(chroma=chroma))."""
    dim_map = np.linspace(0, 12, num=chroma.shape[-2], endpoint=False)
    scale = np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3])
    V = np.multiply.outer(scale, dim_map)
    V[::2] -= 0.5
    R = np.array([1, 1, 1, 1, 0.5, 0.5])
    phi = R[:, np.newaxis] * np.cos(np.pi * V)
    return np.einsum("pc,...ci->...pi", phi, normalize(chroma, norm=1, axis=-2), optimize=True)


def autocorrelate(y: np.ndarray, *, max_size: int | None = None) -> np.ndarray:
    """Autocorrelation of a 1-D series up to lag max_size - 1, via a zero-padded FFT
    (librosa.autocorrelate)."""
    from scipy import fft

    n = y.shape[-1]
    max_size = n if max_size is None else int(min(max_size, n))
    n_pad = fft.next_fast_len(2 * n - 1, real=True)
    spec = fft.rfft(y, n=n_pad, axis=-1)
    return fft.irfft(spec.real**2 + spec.imag**2, n=n_pad, axis=-1)[..., :max_size]
