"""What the taste model sees: feature matrices with names and readable groups.

Two encodings:
  * taste space (library tracks and catalog rows alike): encoding.py's attribute vector plus the
    release year, so one model scores a user's files and an imported catalog;
  * the album recommender's AcousticBrainz CSV: its high-level classifier probabilities, one-hot key/scale,
    low-level descriptors and the release year (used by `taste bench` and `taste train --ab-csv`),
    with MusicBrainz's artist, label and genre tag carried beside the matrix as `context` (the
    model turns them into numbers from its own training ratings: taste_context.py).

The release year is given as a value, a missing flag and cumulative five-year steps ("released in
or after 1990"), because taste in eras is rarely linear in the year. Scaling is not done here: the
model learns its own (per-column quantile -> normal, then z-score) from its training rows and
saves it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from musicrec_engine.attributes import KEY_NAMES
from musicrec_engine.errors import MusicRecError
from musicrec_engine.search import encoding
from musicrec_engine.taste.context import FIELDS, Rows

YEAR_STEPS = list(range(1960, 2025, 5))
YEAR_NAMES = ["year", "year_missing"] + [f"year>={y}" for y in YEAR_STEPS]

AB_HIGH_PREFIXES = ("genre_", "mood_", "moods_mirex_", "ismir04_rhythm_")
AB_HIGH_SINGLE = ("danceable", "timbre", "tonal_atonal", "voice_instrumental")
AB_LOW = ["chords_changes_rate", "chords_number_rate", "bpm", "beats_count", "average_loudness",
          "dynamic_complexity", "duration", "spectral_centroid", "spectral_rolloff", "spectral_flux"] + [
    f"mfcc_{i}" for i in range(1, 14)]
AB_CATEGORICAL = {"key_key": KEY_NAMES, "chords_key": KEY_NAMES, "key_scale": ["major", "minor"],
                  "chords_scale": ["major", "minor"]}
# Readable group of each AcousticBrainz column, for explanations ("genre (dortmund)", "mood", ...).
_AB_GROUP_RULES = [("genre_dortmund_", "genre (dortmund)"), ("genre_electronic_", "genre (electronic)"),
                   ("genre_rosamerica_", "genre (rosamerica)"), ("genre_tzanetakis_", "genre (tzanetakis)"),
                   ("ismir04_rhythm_", "dance rhythm"), ("moods_mirex_", "mood cluster"), ("mood_", "mood"),
                   ("mfcc_", "timbre (mfcc)"), ("spectral_", "brightness"), ("chords_", "chords"),
                   ("key_", "key"), ("year", "release year")]


@dataclass
class Encoded:
    X: np.ndarray  # (n, d) float32
    names: list[str]
    groups: dict[str, list[int]]  # readable group -> column indices
    schema: str  # "taste-space" | "acousticbrainz"
    dropped: list[str] = field(default_factory=list)  # one sentence per row left out, and why
    kept: np.ndarray | None = None  # indices of the input rows that are in X (None: all)
    context: dict[str, np.ndarray] | None = None  # artist / label / genre per row, where known

    def rows(self) -> Rows:
        return Rows(self.X, self.context)

    @property
    def schema_hash(self) -> str:
        return schema_hash(self.schema, self.names)


def schema_hash(schema: str, names: list[str]) -> str:
    return hashlib.sha256((schema + "\n" + "\n".join(names)).encode()).hexdigest()[:16]


def year_block(years) -> np.ndarray:
    y = pd.to_numeric(pd.Series(np.asarray(years, dtype=object) if not isinstance(years, pd.Series) else years),
                      errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    y = np.where((y > 1000) & (y < 3000), y, np.nan)  # 0 or a date typo is "unknown", not year 0
    missing = np.isnan(y)
    filled = np.where(missing, 2000.0, y)
    steps = np.stack([(~missing) & (filled >= s) for s in YEAR_STEPS], axis=1)
    # on the scale of the other taste-space columns (one unit per 20 years; the steps together
    # weigh about one attribute), so the year does not swamp cosine similarity in the cold start
    return np.column_stack([(filled - 2000.0) / 20.0, missing, steps / np.sqrt(len(YEAR_STEPS))]
                           ).astype(np.float32)


def encode_taste_rows(rows, years=None) -> Encoded:
    """Library/catalog rows (dicts with flat attributes or an `attributes` dict, or a DataFrame)
    -> taste-space matrix.

    `years` defaults to each row's "year" key."""
    is_frame = hasattr(rows, "columns")
    if years is None:
        years = (rows["year"] if "year" in rows.columns else [None] * len(rows)) if is_frame else \
            [r.get("year") for r in rows]
    X = np.hstack([encoding.encode(rows) if len(rows) else np.zeros((0, encoding.DIM), np.float32),
                   year_block(years)])
    names = encoding.feature_names() + YEAR_NAMES
    groups = {a: list(range(s.start, s.stop)) for a, s in encoding.groups().items()}
    groups["release year"] = list(range(encoding.DIM, encoding.DIM + len(YEAR_NAMES)))
    return Encoded(np.ascontiguousarray(X, np.float32), names, groups, "taste-space",
                   context=row_context(rows, is_frame))


def row_context(rows, is_frame: bool) -> dict[str, np.ndarray] | None:
    """The rows' artist / label / genre tags where the rows carry them (None when none do)."""
    if is_frame:
        ctx = {f: rows[f].to_numpy(dtype=object) for f in FIELDS if f in rows.columns}
    else:
        rows = [_with_heard_genre(r) for r in rows]
        ctx = {f: np.array([r.get(f) for r in rows], dtype=object) for f in FIELDS
               if any(r.get(f) for r in rows)}
    return ctx or None


def _with_heard_genre(row: dict) -> dict:
    """A library track without a genre tag gets the tags the listening model heard in it as its genre
    words ("rock", "jazz", "piano", ...), so the taste model can still learn from what it sounds like."""
    if row.get("genre") or not row.get("tags"):
        return row
    return {**row, "genre": " ".join(t["tag"] if isinstance(t, dict) else str(t) for t in row["tags"])}


def ab_high_level_columns(columns) -> list[str]:
    return [c for c in columns if c.startswith(AB_HIGH_PREFIXES) or c in AB_HIGH_SINGLE]


def encode_ab(df: pd.DataFrame) -> Encoded:
    """Seed 004's AcousticBrainz + MusicBrainz frame -> feature matrix.

    Rows with a missing or non-numeric AcousticBrainz value are left out (with a reason each), since
    a made-up value would be a made-up preference; a missing release year is allowed (flagged)."""
    high = ab_high_level_columns(df.columns)
    missing_cols = [c for c in AB_LOW + list(AB_CATEGORICAL) if c not in df.columns]
    if len(high) < 10 or missing_cols:
        raise MusicRecError("this is not the album recommender's AcousticBrainz feature CSV (missing columns: "
                            f"{', '.join(missing_cols[:5]) or 'the high-level classifier columns'})")
    num = df[high + AB_LOW].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(num).all(axis=1)
    for c, levels in AB_CATEGORICAL.items():
        bad |= ~df[c].isin(levels).to_numpy()
    dropped = []
    ident = df["mbid"].astype(str).to_numpy() if "mbid" in df.columns else np.arange(len(df)).astype(str)
    for i in np.nonzero(bad)[0]:
        cols = [c for c, v in zip(high + AB_LOW, num[i], strict=True) if not math.isfinite(v)]
        cols += [c for c in AB_CATEGORICAL if df[c].iloc[i] not in AB_CATEGORICAL[c]]
        dropped.append(f"{ident[i]}: missing or non-numeric {', '.join(cols[:3])}{'...' if len(cols) > 3 else ''}")
    keep = ~bad
    parts, names = [num[keep]], high + AB_LOW
    for c, levels in AB_CATEGORICAL.items():
        v = df[c].to_numpy()[keep]
        levels_used = levels if len(levels) > 2 else levels[:1]  # one column says major/minor
        parts.append(np.stack([v == lv for lv in levels_used], axis=1).astype(float))
        names += [f"{c}={lv}" for lv in levels_used]
    years = df["release_year"].to_numpy()[keep] if "release_year" in df.columns else [None] * int(keep.sum())
    parts.append(year_block(years))
    names += YEAR_NAMES
    X = np.ascontiguousarray(np.hstack(parts), np.float32)
    groups: dict[str, list[int]] = {}
    for j, n in enumerate(names):
        g = next((label for prefix, label in _AB_GROUP_RULES if n.startswith(prefix)), n)
        groups.setdefault(g, []).append(j)
    # MusicBrainz's artist, label and genre tag: the model learns what they mean from the ratings
    context = {f: df[f].to_numpy(dtype=object)[keep] for f in FIELDS if f in df.columns}
    return Encoded(X, names, groups, "acousticbrainz", dropped, np.nonzero(keep)[0], context or None)
