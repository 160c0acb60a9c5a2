"""Playlist files other players read: extended M3U8 (UTF-8, #EXTINF with length and "artist -
title") and XSPF (XML, file URIs, the reason for each track as its annotation).

Only files that exist go in; the rest are returned as skipped, so a player never meets a dead
entry. Paths are relative to the playlist's folder when asked (a music folder moved together
with its playlists keeps working) and where possible (another drive stays absolute). The file
is written beside its target and renamed into place, so a failed export leaves any old file whole.
"""

from __future__ import annotations

import os
import time
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

from musicrec_engine.errors import MusicRecError, UsageError

FORMATS = {".m3u8": "m3u8", ".m3u": "m3u8", ".xspf": "xspf"}
XSPF_NS = "http://xspf.org/ns/0/"


def format_for(path: str | os.PathLike) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: a playlist file ends in .m3u8 or .xspf")
    return fmt


def _location(track_path: str, out_dir: Path, relative: bool) -> str:
    p = os.path.abspath(track_path)
    if relative:
        try:
            return os.path.relpath(p, out_dir)
        except ValueError:  # another drive (Windows): only an absolute path can reach it
            return p
    return p


def _label(t: dict) -> str:
    title = t.get("title") or Path(t["path"]).stem
    return f"{t['artist']} - {title}" if t.get("artist") else title


def m3u8_text(name: str, tracks: list[dict], out_dir: Path, relative: bool) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{' '.join(name.split())}"]
    for t in tracks:
        secs = int(round(t["duration"])) if t.get("duration") else -1
        lines.append(f"#EXTINF:{secs},{' '.join(_label(t).split())}")
        lines.append(_location(t["path"], out_dir, relative))
    return "\n".join(lines) + "\n"


def _uri(location: str, relative: bool) -> str:
    raw = os.fsencode(location)  # a name that is not valid UTF-8 keeps its exact bytes, %-escaped
    if relative and not os.path.isabs(location):
        return urllib.parse.quote(raw.replace(os.sep.encode(), b"/"), safe=b"/")
    posix = Path(location).as_posix()
    posix = posix if posix.startswith("/") else "/" + posix  # C:/Music -> file:///C:/Music
    return "file://" + urllib.parse.quote(posix.encode("utf-8", "surrogateescape"), safe="/:")


def xspf_bytes(name: str, tracks: list[dict], out_dir: Path, relative: bool) -> bytes:
    ET.register_namespace("", XSPF_NS)
    root = ET.Element(f"{{{XSPF_NS}}}playlist", version="1")
    ET.SubElement(root, f"{{{XSPF_NS}}}title").text = name
    ET.SubElement(root, f"{{{XSPF_NS}}}creator").text = "MusicRec"
    ET.SubElement(root, f"{{{XSPF_NS}}}date").text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    tl = ET.SubElement(root, f"{{{XSPF_NS}}}trackList")
    for t in tracks:
        el = ET.SubElement(tl, f"{{{XSPF_NS}}}track")
        ET.SubElement(el, f"{{{XSPF_NS}}}location").text = _uri(_location(t["path"], out_dir, relative), relative)
        for tag, key in (("title", "title"), ("creator", "artist"), ("album", "album")):
            if t.get(key):
                ET.SubElement(el, f"{{{XSPF_NS}}}{tag}").text = _xml_safe(str(t[key]))
        if t.get("duration"):
            ET.SubElement(el, f"{{{XSPF_NS}}}duration").text = str(int(round(t["duration"] * 1000)))
        if t.get("why"):
            ET.SubElement(el, f"{{{XSPF_NS}}}annotation").text = _xml_safe("; ".join(t["why"]))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _xml_safe(s: str) -> str:
    """Tags can hold control characters and lone surrogates that XML 1.0 cannot carry."""
    s = s.encode("utf-8", "replace").decode("utf-8")
    return "".join(c for c in s if c in "\t\n\r" or ord(c) >= 32)


def write(name: str, tracks: list[dict], out_file: str | os.PathLike, relative: bool = False) -> dict:
    """Write the playlist's existing files to out_file (.m3u8 or .xspf). Returns {"file", "format",
    "written", "skipped": [paths that no longer exist]}."""
    out = Path(out_file)
    fmt = format_for(out)
    if out.is_dir():
        raise UsageError(f"{out} is a folder; give a file name ending in .m3u8 or .xspf")
    present = [t for t in tracks if t.get("path") and os.path.isfile(t["path"])]
    skipped = [t.get("path") for t in tracks if t not in present]
    out_dir = out.parent.resolve() if out.parent.exists() else None
    if out_dir is None:
        raise MusicRecError(f"{out.parent}: no such folder")
    if fmt == "m3u8":
        data = m3u8_text(name, present, out_dir, relative).encode("utf-8", "surrogateescape")
    else:
        data = xspf_bytes(name, present, out_dir, relative)
    tmp = out.with_name(f".{out.name}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise MusicRecError(f"{out}: could not write the playlist ({e.strerror or e})") from None
    return {"file": str(out), "format": fmt, "written": len(present), "skipped": skipped}
