"""Label files: the Spotify 1.2M / 114k datasets, Exportify exports, or any CSV with those columns.
read_labels checks one and says which rows and columns it dropped and why."""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from musicrec_engine.attributes import UNIT_ATTRIBUTES, tempo_bin
from musicrec_engine.errors import MusicRecError, UsageError


class LabelError(MusicRecError):
    """A label file that cannot be trained on, with the reason."""


RANGES = {**{a: (0.0, 1.0) for a in UNIT_ATTRIBUTES}, "loudness": (-60.0, 5.0), "tempo": (1.0, 300.0),
          "key": (-1, 11), "mode": (0, 1)}
ATTRIBUTE_COLUMNS = list(RANGES)
# Columns that those exports carry and we knowingly ignore (after normalisation, see _norm_col).
KNOWN_OTHER = {
    "id", "album", "album_id", "artist_ids", "track_number", "disc_number", "explicit", "duration_ms",
    "time_signature", "year", "release_date", "track_id", "album_name", "popularity", "track_genre", "unnamed:_0",
    "track_uri", "artist_uri(s)", "album_uri", "album_artist_uri(s)", "album_artist_name(s)", "album_release_date",
    "album_image_url", "track_duration_(ms)", "track_preview_url", "added_by", "added_at", "genres",
    "record_label", "isrc", "copyrights", "uri", "type", "track_href", "analysis_url", "duration", "genre", "",
}
ARTIST_COLS = ["artist", "artists", "artist_name(s)", "artist_name", "artist_names"]
TITLE_COLS = ["title", "name", "track_name", "track"]


def _norm_col(c: str) -> str:
    return re.sub(r"\s+", "_", c.strip().lower())


def normalise_name(s: str) -> str:
    """Lower-case, accents and punctuation removed, "feat." parts and bracketed suffixes dropped."""
    s = unicodedata.normalize("NFKD", s or "").encode("ascii", "ignore").decode()
    s = s.lower()
    s = re.sub(r"\s*[\(\[].*?[\)\]]", "", s)
    s = re.sub(r"\s+(feat\.?|ft\.?|featuring)\s.*$", "", s)
    s = re.sub(r"\s+-\s+(remaster(ed)?|live|radio edit|mono|stereo).*$", "", s)
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def _first_artist(v: str) -> str:
    """The Spotify 1.2M file writes artists as a Python list literal: "['A', 'B']"; 114k uses ';'."""
    v = (v or "").strip()
    if v.startswith("["):
        m = re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", v)
        if m:
            return m[0][0] or m[0][1]
    return re.split(r"[;,]", v)[0]


@dataclass
class Labels:
    rows: list[dict]  # per usable row: line, path or (artist, title), values {attr: float or nan}
    attributes: list[str]
    warnings: list[str]
    by: str  # "path" | "tags"


def _rows_text(lines: list[int], limit: int = 8) -> str:
    s = ", ".join(str(n) for n in lines[:limit])
    return s + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


def read_labels(csv_path: Path) -> Labels:
    """Parse and check a label file. Raises LabelError when nothing usable is left; otherwise the
    warnings name every row/column that was dropped and why."""
    csv_path = Path(csv_path)
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            raw_rows = list(reader)
    except OSError as e:
        raise UsageError(f"cannot read the label file {csv_path}: {e.strerror or e}") from None
    except (csv.Error, UnicodeDecodeError) as e:
        raise LabelError(f"{csv_path.name} is not a readable CSV file ({e})") from None
    if not header:
        raise LabelError(f"{csv_path.name} is empty: expected a header row with columns such as "
                         f"path or artist,title and {', '.join(ATTRIBUTE_COLUMNS)}")
    cols = {_norm_col(c): c for c in header}
    attrs = [a for a in ATTRIBUTE_COLUMNS if a in cols]
    path_col = cols.get("path")
    artist_col = next((cols[c] for c in ARTIST_COLS if c in cols), None)
    title_col = next((cols[c] for c in TITLE_COLS if c in cols), None)
    warnings: list[str] = []
    used = set(attrs) | {"path"} | set(ARTIST_COLS) | set(TITLE_COLS)
    unknown = [cols[c] for c in cols if c not in used and c not in KNOWN_OTHER]
    if not attrs:
        raise LabelError(f"{csv_path.name} has no attribute columns; expected some of: {', '.join(ATTRIBUTE_COLUMNS)} "
                         f"(Spotify audio-feature names; found: {', '.join(header[:12])})")
    if unknown:
        warnings.append(f"ignoring unknown column(s): {', '.join(unknown)}")
    if not path_col and not (artist_col and title_col):
        raise LabelError(f"{csv_path.name} needs a 'path' column, or artist and title columns "
                         "(e.g. artists + name, or 'Artist Name(s)' + 'Track Name') to find the tracks")
    if not raw_rows:
        raise LabelError(f"{csv_path.name} has a header but no rows")

    missing, bad, rows = {}, {}, []
    for i, r in enumerate(raw_rows, start=2):  # line 1 is the header
        values = {}
        for a in attrs:
            v = (r.get(cols[a]) or "").strip()
            if v == "" or v.lower() in ("nan", "na", "null", "none"):
                missing.setdefault(a, []).append(i)
                values[a] = math.nan
                continue
            try:
                x = float(v)
            except ValueError:
                bad.setdefault(a, []).append(i)
                values[a] = math.nan
                continue
            lo, hi = RANGES[a]
            if not (lo <= x <= hi) or not math.isfinite(x) or (a in ("key", "mode") and x != int(x)):
                bad.setdefault(a, []).append(i)
                values[a] = math.nan
                continue
            values[a] = x
        if "tempo" in values and not math.isnan(values["tempo"]):
            values["tempo_bin"] = float(tempo_bin(values["tempo"]))
        ident = {"line": i}
        if path_col and (r.get(path_col) or "").strip():
            ident["path"] = r[path_col].strip()
        elif artist_col and title_col and (r.get(artist_col) or "").strip() and (r.get(title_col) or "").strip():
            ident["artist"] = normalise_name(_first_artist(r[artist_col]))
            ident["title"] = normalise_name(r[title_col])
        else:
            missing.setdefault("path" if path_col else "artist/title", []).append(i)
            continue
        if all(math.isnan(values[a]) for a in attrs):
            continue
        rows.append({**ident, "values": values})
    for a, lines in missing.items():
        warnings.append(f"missing values in column {a!r} on row(s) {_rows_text(lines)}: those cells are not used")
    for a, lines in bad.items():
        lo, hi = RANGES[a]
        warnings.append(f"invalid or out-of-range values in column {a!r} (expected {lo}..{hi}) on row(s) "
                        f"{_rows_text(lines)}: those cells are not used")
    # Duplicates: the same track twice. Identical labels -> keep one; conflicting labels -> drop all.
    seen: dict = {}
    for r in rows:
        key = r.get("path") or (r["artist"], r["title"])
        seen.setdefault(key, []).append(r)
    out, dups, conflicts = [], [], []
    for group in seen.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        same = all(json.dumps(g["values"], sort_keys=True) == json.dumps(group[0]["values"], sort_keys=True)
                   for g in group)
        if same:
            out.append(group[0])
            dups += [g["line"] for g in group[1:]]
        else:
            conflicts += [g["line"] for g in group]
    if dups:
        warnings.append(f"duplicate row(s) {_rows_text(dups)} repeat an earlier row: used once")
    if conflicts:
        warnings.append(f"row(s) {_rows_text(sorted(conflicts))} label the same track with different values: not used")
    if not out:
        raise LabelError(f"{csv_path.name} has no usable rows (every row lacked an identity or valid values)")
    return Labels(sorted(out, key=lambda r: r["line"]), attrs, warnings, "path" if path_col else "tags")
