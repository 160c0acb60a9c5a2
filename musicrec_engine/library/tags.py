"""Tags of audio files, read through mutagen (the file is only read), with fallbacks from the file
and folder names ("Artist/Album/03 - Title.flac") when a file has none."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from musicrec_engine.mbids import find_mbid

log = logging.getLogger("musicrec.tags")

# mutagen's "easy" keys (ID3, MP4 and Vorbis comments all map to these) -> our tag fields.
# Picard writes the recording id as musicbrainz_trackid and the release track as releasetrackid.
_EASY = {
    "title": "title", "artist": "artist", "album": "album", "albumartist": "album_artist",
    "album artist": "album_artist", "album_artist": "album_artist",
    "tracknumber": "track_no", "discnumber": "disc_no", "date": "year", "originaldate": "_origyear",
    "year": "year", "genre": "genre", "compilation": "compilation",
    "musicbrainz_trackid": "mb_recording_id", "musicbrainz_releasetrackid": "mb_track_id",
    "musicbrainz_albumid": "mb_release_id", "musicbrainz_releasegroupid": "mb_release_group_id",
    "musicbrainz_artistid": "mb_artist_id", "musicbrainz_albumartistid": "mb_album_artist_id",
}
# Raw ID3 frames (WAV/AIFF carry ID3 without mutagen's easy layer).
_ID3 = {
    "TIT2": "title", "TPE1": "artist", "TALB": "album", "TPE2": "album_artist", "TRCK": "track_no",
    "TPOS": "disc_no", "TDRC": "year", "TYER": "year", "TCON": "genre", "TCMP": "compilation",
    "TXXX:MusicBrainz Release Track Id": "mb_track_id", "TXXX:MusicBrainz Album Id": "mb_release_id",
    "TXXX:MusicBrainz Release Group Id": "mb_release_group_id", "TXXX:MusicBrainz Artist Id": "mb_artist_id",
    "TXXX:MusicBrainz Album Artist Id": "mb_album_artist_id",
}
_INT_FIELDS = {"track_no", "disc_no", "year"}
# The compilation flag: ID3 TCMP and Vorbis COMPILATION say "1"; MP4's cpil is a boolean atom.
_TRUE = {"1", "true", "yes"}


def _mp4_compilation(tags, key):
    return ["1" if tags["cpil"] else "0"]


def _easy_mp4_reads_compilation() -> None:
    """mutagen's easy MP4 layer has no key for cpil; register one the way mutagen documents
    (EasyMP4Tags.RegisterKey), read-only, so MP4 files give their flag like the other formats."""
    from mutagen.easymp4 import EasyMP4Tags

    if "compilation" not in EasyMP4Tags.Get:
        EasyMP4Tags.RegisterKey("compilation", getter=_mp4_compilation)


def read_tags(path: str | os.PathLike) -> dict:
    """Tags of one file, read-only. Missing title/artist/album fall back to the file name and
    folders ("Artist/Album/03 - Title.flac"). Never raises: an unreadable file gives the fallback."""
    p = Path(path)
    tags: dict = {}
    try:
        import mutagen

        _easy_mp4_reads_compilation()
        f = mutagen.File(str(p), easy=True)
        if f is not None and f.tags is not None:
            tags = _from_tags(f.tags)
    except Exception as e:  # mutagen raises many types for damaged headers; tags are optional
        log.debug("no tags from %s: %s", p, e)
    return _fallback(p, tags)


def _from_tags(t) -> dict:
    out: dict = {}
    keys = list(t.keys())
    is_id3 = any(k[:4].isupper() and len(k) >= 4 for k in keys) and hasattr(t, "getall")
    if is_id3:
        for frame, name in _ID3.items():
            if frame in t:
                _put(out, name, str(t[frame].text[0]) if getattr(t[frame], "text", None) else None)
        for ufid in t.getall("UFID"):
            if ufid.owner == "http://musicbrainz.org":
                _put(out, "mb_recording_id", ufid.data.decode("ascii", "replace"))
        return out
    for k in keys:
        name = _EASY.get(k.lower())
        if name is None:
            continue
        v = t[k]
        v = v[0] if isinstance(v, list) and v else v
        _put(out, name, str(v) if v is not None else None)
    if "year" not in out and "_origyear" in out:
        out["year"] = out["_origyear"]
    out.pop("_origyear", None)
    return out


def _put(out: dict, name: str, value: str | None) -> None:
    if value is None or not str(value).strip() or name in out:
        return
    value = str(value).strip()
    if name == "compilation":
        out[name] = int(value.lower() in _TRUE)
        return
    if name in _INT_FIELDS or name == "_origyear":
        m = re.match(r"\s*(\d+)", value)  # "3/12", "2004-05-01"
        if not m:
            return
        out[name] = int(m.group(1))
        return
    if name.startswith("mb_"):
        value = find_mbid(value)
        if value is None:
            return
    out[name] = value


_NUM_TITLE = re.compile(r"^\s*(?:(\d{1,2})[-.]?)?(\d{1,3})\s*(?:[-._]\s*|\s+)(.+)$")


def _fallback(p: Path, tags: dict) -> dict:
    out = dict(tags)
    stem = p.stem
    m = _NUM_TITLE.match(stem)
    numbered = bool(m)
    if m and "title" not in out:
        out.setdefault("track_no", int(m.group(2)))
        stem = m.group(3)
    if "title" not in out:
        if " - " in stem and "artist" not in out:
            artist, title = stem.split(" - ", 1)
            out["artist"], out["title"] = artist.strip(), title.strip()
        else:
            out["title"] = stem.replace("_", " ").strip() or p.name
    # Only a numbered file name says its folder is an album ("Artist/Album/03 Title"); a loose
    # file in Downloads/ must not become an album called "Downloads".
    parents = p.parent.parts
    if numbered and not tags and len(parents) >= 3:
        out.setdefault("album", parents[-1])
        out.setdefault("artist", parents[-2])
    return out
