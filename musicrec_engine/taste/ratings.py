"""Seed 004's rating files: `mbid, liked` CSVs, and their join with the AcousticBrainz feature CSV.

Every row that cannot be used is reported with its line number and the reason; the usable rows
still count.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from musicrec_engine.errors import MusicRecError
from musicrec_engine.mbids import is_mbid
from musicrec_engine.taste.features import Encoded, encode_ab

LABELS = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0}


@dataclass
class RatingFile:
    ratings: dict[str, int]  # mbid -> 1 like / 0 dislike
    problems: list[str] = field(default_factory=list)  # one sentence per unusable row


def read_ratings_csv(path: str | Path) -> RatingFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise MusicRecError(f"{path}: cannot read the rating file ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise MusicRecError(f"{path}: not a text CSV file") from None
    # csv refuses fields over 128 KiB; here a huge field is one bad row, reported, not the whole file
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    try:
        return _read_rows(path, text)
    except csv.Error as e:
        raise MusicRecError(f"{path}: not a readable CSV file ({e})") from None
    finally:
        csv.field_size_limit(limit)


def _read_rows(path: Path, text: str) -> RatingFile:
    out = RatingFile({})
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if "mbid" not in header or "liked" not in header:
        raise MusicRecError(f"{path}: expected a header with the columns mbid and liked (0 or 1), "
                            f"found {', '.join(header[:5]) or 'nothing'}")
    im, il = header.index("mbid"), header.index("liked")
    for line, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        mbid = row[im].strip().lower() if len(row) > im else ""
        raw = row[il].strip() if len(row) > il else ""
        if not is_mbid(mbid):
            out.problems.append(f"line {line}: '{mbid[:40]}' is not a MusicBrainz recording id")
            continue
        if raw.lower() not in LABELS:
            out.problems.append(f"line {line}: liked is '{raw[:20]}', expected 1 (like) or 0 (dislike)")
            continue
        v = LABELS[raw.lower()]
        if mbid in out.ratings and out.ratings[mbid] != v:
            out.problems.append(f"line {line}: {mbid} is rated both like and dislike; the last one counts")
        out.ratings[mbid] = v
    return out


@dataclass
class ABTraining:
    enc: Encoded
    y: np.ndarray
    artists: np.ndarray
    mbids: np.ndarray
    problems: list[str]


def load_ab_training(features_csv: str | Path, ratings_csv: str | Path | None = None,
                     dedupe: bool = True) -> ABTraining:
    """Rated rows of the album recommender's feature CSV, encoded. Labels come from `ratings_csv` (mbid, liked)
    when given, else from the feature file's own `liked` column. The file repeats some recordings
    row for row; `dedupe` keeps one of each, so no track is in a training and a test fold at once."""
    features_csv = Path(features_csv)
    try:
        df = pd.read_csv(features_csv, low_memory=False)
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise MusicRecError(f"{features_csv}: cannot read it as a CSV ({str(e).splitlines()[0][:120]})") from None
    if "mbid" not in df.columns:
        raise MusicRecError(f"{features_csv}: no mbid column; expected the album recommender's AcousticBrainz feature CSV")
    df["mbid"] = df["mbid"].astype(str).str.strip().str.lower()
    problems: list[str] = []
    if dedupe:
        n = len(df)
        df = df.drop_duplicates("mbid", keep="first").reset_index(drop=True)
        if len(df) < n:
            problems.append(f"{n - len(df)} repeated recordings (same mbid) counted once")
    elif ratings_csv is not None:
        raise MusicRecError("keeping repeated rows only works with the file's own liked column")
    if ratings_csv is not None:
        rf = read_ratings_csv(ratings_csv)
        problems += rf.problems
        known = set(df["mbid"])
        unknown = [m for m in rf.ratings if m not in known]
        if unknown:
            problems.append(f"{len(unknown)} rated ids have no features in {features_csv.name} and were left out "
                            f"(e.g. {', '.join(unknown[:3])})")
        df = df[df["mbid"].isin(rf.ratings)].reset_index(drop=True)
        y = df["mbid"].map(rf.ratings).to_numpy()
    else:
        if "liked" not in df.columns:
            raise MusicRecError(f"{features_csv}: no liked column; give the ratings with --ratings FILE (mbid, liked)")
        lab = df["liked"].astype(str).str.strip().str.lower().map(LABELS)
        for i in np.nonzero(lab.isna().to_numpy())[0][:5]:
            problems.append(f"line {i + 2}: liked is '{df['liked'].iloc[i]}', expected 1 (like) or 0 (dislike)")
        if lab.isna().sum() > 5:
            problems.append(f"... and {int(lab.isna().sum()) - 5} more rows without a 0/1 label")
        df = df[lab.notna().to_numpy()].reset_index(drop=True)
        y = lab.dropna().astype(int).to_numpy()
    if len(df) == 0:
        raise MusicRecError(f"{features_csv}: no rated track has features in this file")
    enc = encode_ab(df)
    problems += enc.dropped
    keep = enc.kept if enc.kept is not None else np.arange(len(df))
    artists = df["artist"].to_numpy(dtype=object)[keep] if "artist" in df.columns else np.full(len(keep), None)
    return ABTraining(enc, np.asarray(y)[keep].astype(int), artists, df["mbid"].to_numpy()[keep], problems)
