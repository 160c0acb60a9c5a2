"""The real-recording evaluation set: Debian's free game-music and song packages, read in place.

Nothing here is project-made audio and nothing was tuned on it. The audio is never copied into the
repository: plain files are read where apt installed them; songs that ship as stems (Frets on
Fire) and tracks inside game archives (.pk3 zips) are written once into a cache folder outside
the repository by `materialize()`, together with optional copies in the formats people keep
(MP3 320k, FLAC, Ogg Vorbis, Opus, AAC/M4A).

    sudo apt-get install ufoai-music asc-music drascula-music fretsonfire-songs-muldjord \
        fretsonfire-songs-sectoid wesnoth-1.16-music hyperrogue-music warzone2100-music \
        singularity-music nexuiz-music planetblupi-music-ogg hedgewars-data supertux-data \
        flare-game openclonk-data freedroidrpg-data

    from benchmarks import realmusic
    realmusic.materialize()                 # stems mixed, archives extracted (idempotent)
    for album in realmusic.albums():        # Album(name, artist, licence, package, items)
        print(album.name, len(album.tracks))

An "album" is one soundtrack or artist: a package is split where its copyright file or its
tags name the composer of each file (UFO:AI, Wesnoth, HyperRogue, Warzone 2100, SuperTux,
FreedroidRPG) or name two albums (Endgame: Singularity); files whose composer is not stated in a
package of several composers are left out. Jingles and stingers shorter than 20 s are skipped.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_CACHE = Path(os.environ.get("MUSICREC_BENCH_REAL", "~/.cache/musicrec-bench/real")).expanduser()
MIN_SECONDS = 20.0
PACKAGES = ("ufoai-music", "asc-music", "drascula-music", "fretsonfire-songs-muldjord", "fretsonfire-songs-sectoid",
            "wesnoth-1.16-music", "hyperrogue-music", "warzone2100-music", "singularity-music", "nexuiz-music",
            "planetblupi-music-ogg", "hedgewars-data", "supertux-data", "flare-game", "openclonk-data",
            "freedroidrpg-data")
INSTALL_HINT = ("no real recordings found: install Debian's free music packages, e.g. "
                f"`sudo apt-get install {' '.join(PACKAGES)}`")
# Left out on purpose, with the reason (found while taking the inventory).
EXCLUDED = {
    "nexuiz-music/thunder": "a thunder sound effect, a third of it silence, not music",
    "warzone2100-music/track3_enhanced": "a remaster of the original soundtrack's Track 3 (Martin Severn), filed "
                                         "under the Aftermath album: a near-duplicate across albums",
}
AUDIO_EXT = (".ogg", ".opus", ".mp3", ".flac", ".wav")

# format name -> (file extension, how it is written)
FORMATS = {
    "mp3": ("mp3", "44.1 kHz stereo MP3, 320 kbit/s (LAME)"),
    "flac": ("flac", "44.1 kHz stereo FLAC, 16 bit"),
    "vorbis": ("ogg", "44.1 kHz stereo Ogg Vorbis (libsndfile default quality)"),
    "opus": ("opus", "48 kHz stereo Ogg Opus, 160 kbit/s"),
    "aac": ("m4a", "44.1 kHz stereo AAC in M4A, 256 kbit/s (FFmpeg's aac)"),
}


@dataclass
class Track:
    key: str  # stable and unique: "<package>/<name>"
    source: str  # where the audio comes from: a path, "archive.pk3!member" or "song.ogg + guitar.ogg"
    path: Path  # a readable file: the original, or its copy in the cache (see materialize)
    seconds: float
    kind: str = "file"  # file | zip | mix
    parts: tuple = ()  # zip: (archive, member); mix: the stem paths
    sung: bool | None = None  # None: no listening-free evidence either way


@dataclass
class Album:
    name: str
    artist: str
    licence: str
    package: str
    items: list[Track] = field(default_factory=list)

    @property
    def tracks(self) -> list[str]:
        return [str(t.path) for t in self.items]


# --- reading ---------------------------------------------------------------------------------------
def read_audio(path) -> tuple[np.ndarray, int]:
    """(samples x channels float32, rate): soundfile first, PyAV for what libsndfile cannot read."""
    import soundfile as sf

    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
        return x, int(sr)
    except Exception:
        import av

        with av.open(str(path)) as c:
            st = c.streams.audio[0]
            chunks = [f.to_ndarray() for f in c.decode(st)]
            sr = st.rate
        x = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), np.float32)
        if x.dtype.kind in "iu":
            x = x.astype(np.float32) / np.iinfo(x.dtype).max
        if x.shape[0] != st.channels:  # packed (interleaved) formats come as 1 x (n*channels)
            x = x.reshape(-1, st.channels).T
        return x.T.astype(np.float32), int(sr)


def duration(src) -> float:
    """Seconds of audio in a path or a file object; -1 when unreadable."""
    import soundfile as sf

    try:
        return float(sf.info(src).duration)
    except Exception:
        pass
    try:
        import av

        if hasattr(src, "seek"):
            src.seek(0)
        with av.open(src if hasattr(src, "read") else str(src)) as c:
            if c.duration:
                return c.duration / 1e6
            st = c.streams.audio[0]
            return float(st.duration * st.time_base) if st.duration else -1.0
    except Exception:
        return -1.0


def tags(path) -> dict[str, str]:
    """Lower-cased tag names -> values (artist, album, title, ...); {} when there are none."""
    out: dict[str, str] = {}
    try:
        import av

        with av.open(str(path)) as c:
            md = dict(c.metadata)
            if c.streams.audio:
                md.update(c.streams.audio[0].metadata)
        out = {k.lower(): v for k, v in md.items()}
    except Exception:
        try:
            import soundfile as sf

            with sf.SoundFile(str(path)) as f:
                out = {k: getattr(f, k) for k in ("artist", "album", "title") if getattr(f, k, "")}
        except Exception:
            pass
    return out


def _files(folder, pattern="*") -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(Path(folder) / pattern)) if p.lower().endswith(AUDIO_EXT))


# --- the packages ------------------------------------------------------------------------------------
# Each source yields albums with Track items; a source whose package is absent yields nothing.
def _plain(package, name, artist, licence, paths, min_seconds) -> list[Album]:
    a = Album(name, artist, licence, package)
    for p in paths:
        s = duration(p)
        if s >= min_seconds:
            a.items.append(Track(f"{package}/{p.stem}", str(p), p, s))
    return [a] if a.items else []


def _by_tag(package, prefix, licence, paths, min_seconds, tag="artist", default_artist=None) -> list[Album]:
    """One album per value of a tag (the composer, or the album name); untagged files left out."""
    groups: dict[str, Album] = {}
    for p in paths:
        t = tags(p)
        value = (t.get(tag) or "").strip()
        if not value:
            continue
        artist = default_artist or value
        s = duration(p)
        if s < min_seconds:
            continue
        a = groups.setdefault(value, Album(f"{prefix} — {value}", artist, licence, package))
        a.items.append(Track(f"{package}/{p.stem}", str(p), p, s))
    return list(groups.values())


def _zip_albums(package, archive, groups, cache: Path, min_seconds) -> list[Album]:
    """groups: (album name, artist, licence, member-name test) in order; first match wins."""
    if not Path(archive).exists():
        return []
    out = {g[0]: Album(g[0], g[1], g[2], package) for g in groups}
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            if not info.filename.lower().endswith(AUDIO_EXT):
                continue
            stem = Path(info.filename).stem
            g = next((g for g in groups if g[3](stem)), None)
            if g is None:
                continue
            key = f"{package}/{stem}"
            dest = cache / "src" / (key + Path(info.filename).suffix.lower())
            s = duration(dest) if dest.exists() else duration(io.BytesIO(z.read(info)))
            if s >= min_seconds:
                out[g[0]].items.append(Track(key, f"{archive}!{info.filename}", dest, s, "zip", (archive, info.filename)))
    return [a for a in out.values() if a.items]


def _stem_albums(package, folder, name, artist, licence, cache: Path, min_seconds) -> list[Album]:
    """Frets on Fire songs: one folder per song, the full song is the sum of its stems."""
    a = Album(name, artist, licence, package)
    for d in sorted(Path(p) for p in glob.glob(str(Path(folder) / "*")) if Path(p).is_dir()):
        stems = [d / f for f in ("song.ogg", "guitar.ogg", "rhythm.ogg", "drums.ogg", "vocals.ogg") if (d / f).exists()]
        if not stems:
            continue
        key = f"{package}/{d.name}"
        s = duration(stems[0])
        if s < min_seconds:
            continue
        sung = True if (d / "vocals.ogg").exists() else None
        a.items.append(Track(key, " + ".join(str(p) for p in stems), cache / "src" / (key + ".flac"), s, "mix",
                             tuple(stems), sung))
    return [a] if a.items else []


def _warzone(min_seconds) -> list[Album]:
    out = []
    for d in sorted(glob.glob("/usr/share/games/warzone2100/music/albums/*/")):
        d = Path(d)
        try:
            meta = json.loads((d / "album.json").read_text())
        except Exception:
            continue
        lic = "GPL-2+ (Warzone 2100)"
        if (d / "license.txt").exists():
            m = re.search(r"(CC-BY[-A-Z0-9.]*|GPL[-0-9.+]*)", (d / "license.txt").read_text(errors="replace"))
            lic = m.group(1) if m else lic
        files = [d / t["filename"] for t in meta.get("tracks", []) if (d / t["filename"]).exists()]
        out += _plain("warzone2100-music", f"Warzone 2100 — {meta.get('title', d.name)}", meta.get("author", "?"),
                      lic, files, min_seconds)
    return out


def _sources(cache: Path, min_seconds: float) -> list[Album]:
    m = min_seconds
    ufo = "/usr/share/games/ufoai/base/0music.pk3"
    wesnoth = sorted(glob.glob("/usr/share/games/wesnoth/*/data/core/music"))
    fof = "/usr/share/games/fretsonfire/data/songs"
    albums: list[Album] = []
    # UFO: Alien Invasion: composers by file name, as the package's copyright file groups them.
    albums += _zip_albums("ufoai-music", ufo, [
        ("UFO:AI — Crystan", "Crystan", "CC-BY-SA-3.0", lambda s: s.startswith("Crystan-")),
        ("UFO:AI — Marine Baklund", "\"Marine\" Baklund", "CC-BY-SA-3.0", lambda s: s.startswith("Marine")),
        ("UFO:AI — Psymong", "Simon Green (Psymong)", "GPL-2", lambda s: s.startswith("Psymong")),
        ("UFO:AI — Vanethian", "Manuel \"Vanethian\" Marino", "CC-BY-3.0", lambda s: s.startswith("van_")),
        ("UFO:AI — David Reeves", "David Reeves (Destructavator)", "CC-BY-3.0", lambda s: s.startswith("David0")),
    ], cache, m)
    albums += _zip_albums("nexuiz-music", "/usr/share/games/nexuiz/data/music.pk3", [
        ("Nexuiz soundtrack", "Alientrap (Nexuiz)", "GPL-2+", lambda s: True)], cache, m)
    albums += _plain("asc-music", "Advanced Strategic Command music", "Michael Kievernagel", "GPL-2+",
                     _files("/usr/share/games/asc/music"), m)
    # The de/en/es/fr/it folders hold byte-identical copies of audio/: one copy is read.
    albums += _plain("drascula-music", "Drascula: The Vampire Strikes Back", "Alcachofa Soft",
                     "Drascula licence (BSD-like)", _files("/usr/share/scummvm/drascula/audio"), m)
    albums += _stem_albums("fretsonfire-songs-muldjord", f"{fof}/muldjord", "Muldjord (Frets on Fire songs)",
                           "Muldjord (El Senator)", "CC-BY-SA-3.0", cache, m)
    albums += _stem_albums("fretsonfire-songs-sectoid", f"{fof}/sectoid", "Sectoid (Frets on Fire songs)",
                           "Carlos Viola Iborra (Sectoid)", "Expat", cache, m)
    if wesnoth:  # composer per file in the Vorbis tags
        albums += _by_tag(f"wesnoth-{Path(wesnoth[-1]).parts[-4]}-music", "Wesnoth", "GPL-2+", _files(wesnoth[-1]), m)
    hr = "/usr/share/hyperrogue/music"
    albums += _plain("hyperrogue-music", "HyperRogue — NeonCorridor", "NeonCorridor", "GPL-2+", _files(hr, "hr3-*"), m)
    albums += _plain("hyperrogue-music", "HyperRogue — Will Savino", "Will Savino", "GPL-2+",
                     _files(hr, "hr-savino-*"), m)
    albums += _plain("hyperrogue-music", "HyperRogue — domina", "(file prefix hr-domina)", "GPL-2+",
                     _files(hr, "hr-domina-*"), m)
    albums += _warzone(m)
    sing = "/usr/share/games/singularity/music"
    albums += _by_tag("singularity-music", "Endgame: Singularity", "CC-BY-SA-3.0",
                      _files(sing) + _files(sing, "*/*"), m, tag="album", default_artist="Maxstack (Max McCracken)")
    albums += _plain("planetblupi-music-ogg", "Planet Blupi", "EPSITEC SA (Daniel Roux, Denis Dumoulin)", "GPL-3+",
                     _files("/usr/share/planetblupi/music"), m)
    albums += _plain("hedgewars-data", "Hedgewars soundtrack", "Hedgewars project", "GPL-2",
                     _files("/usr/share/games/hedgewars/Data/Music"), m)
    albums += [a for a in _by_tag("supertux-data", "SuperTux", "GPL-2+",
                                  _files("/usr/share/games/supertux2/music", "*/*"), m)]
    albums += _plain("flare-game", "Flare (fantasycore) soundtrack", "Flare contributors", "CC-BY-SA-3.0",
                     _files("/usr/share/games/flare/mods/fantasycore/music"), m)
    albums += _plain("openclonk-data", "OpenClonk", "Martin Strohmeier (K-Pone)", "CC-BY",
                     _files("/usr/share/games/openclonk/Music.ocg"), m)
    albums += _by_tag("freedroidrpg-data", "FreedroidRPG", "GPL-2+",
                      _files("/usr/share/freedroidrpg/data/sound/music"), m)
    return albums


# --- public ------------------------------------------------------------------------------------------
SETS = ("tuning", "heldout")


def albums(cache: str | Path | None = None, fmt: str | None = None, min_seconds: float = MIN_SECONDS,
           min_tracks: int = 1, which: str = "tuning") -> list[Album]:
    """The real albums found on this machine (an empty list when no package is installed).

    which: "tuning", the set the listening settings were chosen on (the default, as documented), or
    "heldout", packages nobody chose anything on (realmusic_heldout.py), kept apart for measuring.
    fmt: None for the tracks as shipped (archive members and stem mixes in the cache), or one of
    FORMATS for the converted copies that materialize(formats=...) wrote."""
    cache = Path(cache or DEFAULT_CACHE)
    if which == "tuning":
        out, excluded = _sources(cache, min_seconds), EXCLUDED
    elif which == "heldout":
        if __package__:  # beside this file; imported late as it reads this module
            from . import realmusic_heldout as heldout
        else:
            import realmusic_heldout as heldout

        out, excluded = heldout.sources(sys.modules[__name__], min_seconds), heldout.EXCLUDED
    else:
        raise ValueError(f"unknown set {which!r}; one of {', '.join(SETS)}")
    for a in out:
        a.items = [t for t in a.items if t.key not in excluded]
    out = [a for a in out if len(a.items) >= min_tracks]
    if fmt is not None:
        ext = FORMATS[fmt][0]
        for a in out:
            for t in a.items:
                t.path = cache / fmt / f"{t.key}.{ext}"
    return out


def all_tracks(found: Iterable[Album]) -> list[tuple[Album, Track]]:
    return [(a, t) for a in found for t in a.items]


def _atomic(dest: Path, write: Callable[[Path], None]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.stem}.part{dest.suffix}")
    try:
        write(tmp)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def _mix(stems: Iterable[Path]) -> tuple[np.ndarray, int, float]:
    """Sum of the stems, sample-aligned; scaled down only if the sum would clip. -> (x, sr, gain)."""
    parts, rate = [], None
    for p in stems:
        x, sr = read_audio(p)
        if rate is not None and sr != rate:
            raise ValueError(f"{p}: {sr} Hz, the other stems are {rate} Hz")
        rate = sr
        parts.append(x if x.shape[1] == 2 else np.repeat(x[:, :1], 2, axis=1))
    n = max(len(x) for x in parts)
    y = np.zeros((n, 2), np.float32)
    for x in parts:
        y[: len(x)] += x
    peak = float(np.max(np.abs(y))) if n else 0.0
    gain = min(1.0, 0.999 / peak) if peak > 0 else 1.0
    return y * gain, int(rate), gain


def _resample(x: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return x
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(sr, target)
    return resample_poly(x, target // g, sr // g, axis=0).astype(np.float32)


def _encode(x: np.ndarray, sr: int, fmt: str, dest: Path) -> None:
    import soundfile as sf

    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    x = x[:, :2]
    if fmt in ("flac", "vorbis"):
        y = _resample(x, sr, 44100)
        sub = "PCM_16" if fmt == "flac" else "VORBIS"
        container = "FLAC" if fmt == "flac" else "OGG"
        def write_blocks(tmp: Path) -> None:  # one sf.write of a long track crashes libsndfile's Vorbis encoder
            with sf.SoundFile(str(tmp), "w", 44100, y.shape[1], format=container, subtype=sub) as out:
                for i in range(0, len(y), 441_000):
                    out.write(np.clip(y[i:i + 441_000], -1, 1))

        _atomic(dest, write_blocks)
        return
    import av

    container, codec, rate, bitrate = {"mp3": ("mp3", "libmp3lame", 44100, 320_000),
                                       "opus": ("ogg", "libopus", 48000, 160_000),
                                       "aac": ("ipod", "aac", 44100, 256_000)}[fmt]
    y = np.ascontiguousarray(np.clip(_resample(x, sr, rate), -1, 1).T)

    def write(tmp: Path) -> None:
        with av.open(str(tmp), "w", format=container) as out:
            st = out.add_stream(codec, rate=rate, layout="stereo")
            st.bit_rate = bitrate
            frame = av.AudioFrame.from_ndarray(y, format="fltp", layout="stereo")
            frame.sample_rate = rate
            for pkt in st.encode(frame):
                out.mux(pkt)
            for pkt in st.encode(None):
                out.mux(pkt)

    _atomic(dest, write)


def materialize(dest: str | Path | None = None, formats: Iterable[str] = (), found: list[Album] | None = None,
                progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write what cannot be read in place (archive members, stem mixes) into dest/src/, and the
    converted copies into dest/<format>/. Idempotent: files that exist are skipped.
    -> counts {"extracted", "mixed", "<format>": written, "skipped"}."""
    dest = Path(dest or DEFAULT_CACHE)
    formats = tuple(formats)
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"unknown format {f!r}; one of {', '.join(FORMATS)}")
    found = albums(dest) if found is None else found
    counts = {"extracted": 0, "mixed": 0, "skipped": 0, **{f: 0 for f in formats}}
    say = progress or (lambda s: None)
    zips: dict[str, zipfile.ZipFile] = {}
    try:
        for _, t in all_tracks(found):
            src = dest / "src" / Path(t.key + (t.path.suffix if t.kind != "mix" else ".flac"))
            if t.kind == "zip":
                if src.exists():
                    counts["skipped"] += 1
                else:
                    z = zips.setdefault(t.parts[0], zipfile.ZipFile(t.parts[0]))
                    _atomic(src, lambda tmp, z=z, m=t.parts[1]: tmp.write_bytes(z.read(m)))
                    counts["extracted"] += 1
                    say(f"extracted {t.key}")
            elif t.kind == "mix":
                if src.exists():
                    counts["skipped"] += 1
                else:
                    import soundfile as sf

                    y, sr, gain = _mix(t.parts)
                    _atomic(src, lambda tmp, y=y, sr=sr: sf.write(str(tmp), y, sr, format="FLAC", subtype="PCM_24"))
                    counts["mixed"] += 1
                    say(f"mixed {t.key} ({len(t.parts)} stems, gain {gain:.3f})")
            readable = src if t.kind != "file" else Path(t.source)
            todo = [f for f in formats if not (dest / f / f"{t.key}.{FORMATS[f][0]}").exists()]
            counts["skipped"] += len(formats) - len(todo)
            if todo:
                x, sr = read_audio(readable)
                for f in todo:
                    _encode(x, sr, f, dest / f / f"{t.key}.{FORMATS[f][0]}")
                    counts[f] += 1
                say(f"converted {t.key} -> {', '.join(todo)}")
    finally:
        for z in zips.values():
            z.close()
    return counts


def inventory(found: list[Album], listen: bool = False) -> dict:
    """Albums, tracks, minutes, and the oddities: byte-identical files; with listen=True also
    near-silent tracks (RMS below -45 dBFS) and long silent stretches (more than 25% of the track
    in 1 s blocks below -60 dBFS), which costs a decode of every track."""
    rows, by_hash, silent = [], {}, []
    for a in found:
        rows.append({"album": a.name, "artist": a.artist, "licence": a.licence, "package": a.package,
                     "tracks": len(a.items), "minutes": round(sum(t.seconds for t in a.items) / 60, 1)})
        for t in a.items:
            src = Path(t.source) if t.kind == "file" else t.path
            if not src.exists():
                continue
            by_hash.setdefault(hashlib.sha1(src.read_bytes()).hexdigest(), []).append(t.key)
            if listen:
                x, sr = read_audio(src)
                mono = x.mean(axis=1)
                rms = 20 * np.log10(np.sqrt(np.mean(np.square(mono))) + 1e-12)
                blocks = mono[: len(mono) // sr * sr].reshape(-1, sr)
                quiet = float(np.mean(20 * np.log10(np.sqrt(np.mean(np.square(blocks), axis=1)) + 1e-12) < -60))
                if rms < -45 or quiet > 0.25:
                    silent.append({"key": t.key, "rms_db": round(float(rms), 1), "silent_share": round(quiet, 2)})
    dupes = [keys for keys in by_hash.values() if len(keys) > 1]
    return {"albums": rows, "n_albums": len(found), "n_tracks": sum(r["tracks"] for r in rows),
            "minutes": round(sum(r["minutes"] for r in rows), 1), "duplicates": dupes, "silent": silent}


if __name__ == "__main__":  # python benchmarks/realmusic.py [--formats mp3,flac,...]: inventory + materialize
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=str(DEFAULT_CACHE))
    ap.add_argument("--formats", default="", help=f"comma-separated, of: {', '.join(FORMATS)}")
    ap.add_argument("--set", default="tuning", choices=SETS, dest="which")
    ns = ap.parse_args()
    found = albums(ns.cache, which=ns.which)
    if not found:
        raise SystemExit(INSTALL_HINT)
    print(materialize(ns.cache, [f for f in ns.formats.split(",") if f], found, progress=print))
    inv = inventory(found, listen=True)
    for r in inv["albums"]:
        print(f"{r['tracks']:4d} {r['minutes']:7.1f} min  {r['album']}  [{r['artist']}; {r['licence']}; {r['package']}]")
    print(f"{inv['n_albums']} albums, {inv['n_tracks']} tracks, {inv['minutes']} min; duplicates: {inv['duplicates']}")
    print(f"quiet: {inv['silent']}")
