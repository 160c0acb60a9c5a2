"""Albums judged by metadata: when none of an album's recordings can be scored by sound (no
features for them here), it can still be judged by who made it, the label it came out on and the
tags MusicBrainz gives it and its artist (MusicBrainz's genres are among those tags).

The like-rates are the user's own: from every rated track, the share of likes per primary artist
(the key taste/artists.py groups by), per label and per tag — the genre tag of a file split at
; , /, plus what the listening model heard in it when the library has those tags. Each share is
pulled towards the user's overall share by SMOOTH pseudo-ratings, as the taste model's context
encoder does, so one liked track does not make an artist "100 %". An album's score is the mean of
the three shares it has evidence for, each weighted by how many ratings it rests on (the artist
counting double: ratings cluster by artist far more than by label or tag), with the overall share
as SMOOTH more pseudo-ratings. Its coverage is the share of the three kinds it has evidence for.

Scores made this way are labelled "by metadata" and judged against their own thresholds
(Thresholds.metadata_*), since a guess from tags is weaker evidence than tracks judged by sound.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from musicrec_engine.taste.artists import fold, primary_artist

SMOOTH = 2.0
ARTIST_WEIGHT = 2.0
KINDS = ("artist", "label", "genre")


def tag_key(tag: str) -> str:
    """'Hip-Hop', 'hip hop' and 'HIP_HOP' are one tag."""
    return " ".join(re.sub(r"[-_/]+", " ", fold(tag or "")).split())


def row_tags(row: dict) -> set[str]:
    """The tags of one rated track: its genre tag's parts and, where there are any, the tags the
    listening model heard in it."""
    parts = re.split(r"[;,/]|\s+-\s+", row.get("genre") or "")
    tags = {tag_key(p) for p in parts if p.strip()}
    for t in row.get("tags") or ():
        name = t.get("tag") if isinstance(t, dict) else t
        if name:
            tags.add(tag_key(str(name)))
    return tags - {""}


@dataclass
class Rate:
    likes: float = 0.0
    n: int = 0
    name: str = ""

    def share(self, prior: float) -> float:
        return (self.likes + SMOOTH * prior) / (self.n + SMOOTH)


@dataclass
class LikeRates:
    prior: float = 0.5
    artists: dict[str, Rate] = field(default_factory=dict)
    labels: dict[str, Rate] = field(default_factory=dict)
    tags: dict[str, Rate] = field(default_factory=dict)
    ratings: int = 0

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> LikeRates:
        """From rated tracks: {"rating": 0|1, "artist", "mb_artist_id"?, "label"?, "genre"?, "tags"?}."""
        out = cls()
        likes = 0
        for r in rows:
            v = r.get("rating")
            if v not in (0, 1):
                continue
            out.ratings += 1
            likes += v
            key = primary_artist(r.get("artist"), r.get("mb_artist_id"))
            if key:
                _add(out.artists, key, v, r.get("artist") or key)
            if r.get("label"):
                _add(out.labels, tag_key(str(r["label"])), v, str(r["label"]))
            for t in row_tags(r):
                _add(out.tags, t, v, t)
        out.prior = likes / out.ratings if out.ratings else 0.5
        return out

    def __bool__(self) -> bool:
        return self.ratings > 0


def _add(table: dict[str, Rate], key: str, v: int, name: str) -> None:
    r = table.get(key)
    if r is None:
        r = table[key] = Rate(name=name)
    r.likes += v
    r.n += 1


@dataclass
class MetadataScore:
    probability: float
    coverage: float  # share of artist / label / genre with ratings behind them
    evidence: int  # ratings the score rests on
    kinds: list[str]  # which of artist, label, genre counted
    reasons: list[str]


def score(rates: LikeRates, artist: str | None, artist_id: str | None, label: str | None,
          tags: Iterable[str]) -> MetadataScore:
    """One album's like-probability from its artist, label and tags, with reasons in words."""
    prior = rates.prior
    parts: list[tuple[float, float]] = []  # (weight, share)
    reasons: list[str] = []
    kinds: list[str] = []
    evidence = 0
    a = rates.artists.get(primary_artist(artist, artist_id)) or rates.artists.get(primary_artist(artist))
    if a is not None:
        parts.append((ARTIST_WEIGHT * a.n, a.share(prior)))
        kinds.append("artist")
        evidence += a.n
        reasons.append(_artist_reason(a))
    lab = rates.labels.get(tag_key(label or "")) if label else None
    if lab is not None:
        parts.append((lab.n, lab.share(prior)))
        kinds.append("label")
        evidence += lab.n
        word = "like" if lab.share(prior) >= prior else "rarely like"
        reasons.append(f"on {label}, whose records you {word} ({lab.likes:.0f} of {lab.n} liked)")
    seen = [rates.tags[k] for k in dict.fromkeys(tag_key(t) for t in tags) if k in rates.tags]
    if seen:
        n = sum(r.n for r in seen)
        likes = sum(r.likes for r in seen)
        share = (likes + SMOOTH * prior) / (n + SMOOTH)
        parts.append((n, share))
        kinds.append("genre")
        evidence += n
        reasons.append(_genre_reason(seen, prior))
    if not parts:
        return MetadataScore(prior, 0.0, 0, [], ["nothing you have rated shares its artist, label or tags"])
    total = SMOOTH + sum(w for w, _ in parts)
    p = (SMOOTH * prior + sum(w * s for w, s in parts)) / total
    return MetadataScore(p, len(kinds) / len(KINDS), evidence, kinds, reasons)


def _artist_reason(a: Rate) -> str:
    liked, n = int(a.likes), a.n
    if liked == n:
        return f"you liked {liked} track{'s' if liked != 1 else ''} by this artist"
    if liked == 0:
        return f"you disliked {n} track{'s' if n != 1 else ''} by this artist"
    return f"you liked {liked} of {n} tracks by this artist"


def _genre_reason(seen: list[Rate], prior: float) -> str:
    names = [r.name for r in seen[:3]]  # in the album's own order of tags: its most-voted first
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    n, likes = sum(r.n for r in seen), sum(r.likes for r in seen)
    share = likes / n
    if share >= prior + 0.1:
        how = "which you rate highly"
    elif share <= prior - 0.1:
        how = "which you rate low"
    else:
        how = "which you rate about as you rate everything"
    return f"{text}, {how} ({likes:.0f} of {n} rated tracks with these tags liked)"


def score_discovered(client, out, th, rates: LikeRates, max_lookups: int, report, cancel) -> None:
    """Albums too few of whose tracks can be judged by sound get a metadata score; their artists'
    tags are asked for once each (cached like every answer)."""
    from musicrec_engine.albums.discovery import ask
    from musicrec_engine.albums.scoring import score_probabilities

    need = [a for a in out.albums if a.metadata is not None
            and score_probabilities([t.probability for t in a.tracks], a.total, th)["coverage"] < th.min_coverage]
    artist_tags: dict[str, list[str]] = {}
    for aid in list(dict.fromkeys(a.metadata["artist_id"] for a in need if a.metadata.get("artist_id")))[:max_lookups]:
        report(0, 0, "looking up the artist's tags")
        found = ask(out, f"tags of artist {aid}", client.artist_tags, aid, cancel=cancel, counter="lookups",
                    stop_on_unreachable=False)
        if out.cancelled:
            return
        if found is None:
            continue
        artist_tags[aid] = [t["name"] for t in found.get("tag-list", []) if t.get("name")]
    for a in need:
        meta = a.metadata
        meta["tags"] = list(dict.fromkeys([*meta.get("tags", []), *artist_tags.get(meta.get("artist_id"), [])]))
        a.by_metadata = score(rates, a.artist, meta.get("artist_id"), meta.get("label"), meta["tags"])
