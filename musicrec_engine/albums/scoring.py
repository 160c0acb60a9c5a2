"""Album recommendations: the album recommender's three thresholds over track like-probabilities.

An album is recommended when it has at least `min_tracks` tracks, enough of them have features
to be scored (`min_coverage`), and at least `liked_share` of the scored ones reach
`liked_probability`. Scoring (`score_probabilities`, `score_album`, `rank`) is pure: it only sees
albums and their track probabilities. Albums come from the library (grouped by tags) and imported
catalogs (by album id), here, and from MusicBrainz (albums/discovery.py). Albums none of whose
recordings we have features for are judged by metadata instead (albums/metadata.py).
"""

from __future__ import annotations

import logging
import math
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

log = logging.getLogger("musicrec.albums")

# Attributes worth naming in a reason, with the words for "high" and "low".
DESCRIBED = {"energy": ("energetic", "calm"), "valence": ("cheerful", "sombre"),
             "danceability": ("danceable", "not for dancing"), "acousticness": ("acoustic", "electric"),
             "instrumentalness": ("instrumental", "vocal"), "tempo": ("fast", "slow"),
             "loudness": ("loud", "quiet"), "speechiness": ("full of speech", None)}
# (Low speechiness says only that there is little speech: sung and instrumental tracks both have
# it, so it is never put into words.)


@dataclass(frozen=True)
class Thresholds:
    liked_probability: float = 0.5  # the album recommender's LIKED_SONG_THRESHOLD
    liked_share: float = 0.5  # ALBUM_RECOMMENDATION_THRESHOLD
    min_tracks: int = 5  # ALBUM_TRACK_LENGTH_THRESHOLD
    min_coverage: float = 0.5  # share of an album's tracks that must have features to judge it
    # Albums judged by metadata (albums/metadata.py), when too few tracks can be judged by sound:
    # a guess from artist, label and tags is weaker evidence, so it has its own, stricter bar.
    metadata_probability: float = 0.65
    metadata_min_ratings: int = 3  # ratings of the same artist / label / tags it must rest on

    def check(self) -> Thresholds:
        if self.metadata_min_ratings < 1:
            raise ValueError(f"the metadata rating count must be at least 1, not {self.metadata_min_ratings}")
        for name in ("liked_probability", "liked_share", "min_coverage", "metadata_probability"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name.replace('_', ' ')} must be between 0 and 1, not {v}")
        if self.min_tracks < 1:
            raise ValueError(f"the minimum track count must be at least 1, not {self.min_tracks}")
        return self


@dataclass
class AlbumTrack:
    title: str
    probability: float | None  # None: no features, so not scored
    attributes: dict[str, float] = field(default_factory=dict)
    rated: int | None = None
    ref: str | None = None  # library/catalog track id or recording MBID
    tags: tuple[str, ...] = ()  # what the listening model heard (library tracks only), most probable first


@dataclass
class Album:
    key: str
    title: str
    artist: str
    source: str  # library | catalog | musicbrainz
    tracks: list[AlbumTrack]
    year: int | None = None
    total_tracks: int | None = None  # tracks on the release; None means len(tracks)
    release_id: str | None = None
    release_group_id: str | None = None
    metadata: dict | None = None  # {"artist_id", "label", "tags"} where MusicBrainz gave them
    by_metadata: object | None = None  # metadata.MetadataScore, when it was scored that way

    @property
    def total(self) -> int:
        return self.total_tracks if self.total_tracks is not None else len(self.tracks)


@dataclass
class AlbumScore:
    album: Album
    recommended: bool
    liked_share: float
    mean_probability: float
    liked: int
    scored: int
    total: int
    coverage: float
    reasons: list[str]
    basis: str = "audio"  # "audio": tracks judged by sound; "metadata": artist, label and tags
    metadata: dict | None = None  # for basis "metadata": probability, coverage, ratings, kinds, label, tags

    def to_dict(self) -> dict:
        a = self.album
        d = {k: v for k, v in asdict(self).items() if k != "album"}
        d.update(key=a.key, title=a.title, artist=a.artist, source=a.source, year=a.year,
                 release_id=a.release_id, release_group_id=a.release_group_id,
                 tracks=[{"title": t.title, "probability": t.probability, "rated": t.rated, "ref": t.ref}
                         for t in a.tracks])
        return d


def too_few_tracks(total: int, th: Thresholds) -> str:
    return f"only {total} track{'s' if total != 1 else ''} (needs {th.min_tracks})"


def score_probabilities(probs: list[float | None], total: int, th: Thresholds) -> dict:
    """The seed's rule over one album's track probabilities (None = track without features)."""
    scored = [p for p in probs if p is not None]
    liked = sum(p >= th.liked_probability for p in scored)
    share = liked / len(scored) if scored else 0.0
    coverage = len(scored) / total if total else 0.0
    why_not = []
    if total < th.min_tracks:
        why_not.append(too_few_tracks(total, th))
    if coverage < th.min_coverage:
        why_not.append(f"features for only {len(scored)} of {total} tracks "
                       f"({coverage:.0%} < {th.min_coverage:.0%} coverage)")
    elif share < th.liked_share:
        why_not.append(f"{liked} of {len(scored)} scored tracks liked ({share:.0%} < {th.liked_share:.0%})")
    return {"recommended": not why_not, "liked_share": share,
            "mean_probability": sum(scored) / len(scored) if scored else 0.0,
            "liked": liked, "scored": len(scored), "total": total, "coverage": coverage, "why_not": why_not}


def score_album(album: Album, th: Thresholds, reference: dict[str, tuple[float, float]] | None = None
                ) -> AlbumScore:
    s = score_probabilities([t.probability for t in album.tracks], album.total, th)
    if album.by_metadata is not None and s["coverage"] < th.min_coverage:
        return _score_by_metadata(album, s, th)
    reasons = list(s.pop("why_not"))
    if s["recommended"]:
        reasons.append(f"{s['liked']} of {s['scored']} scored tracks liked ({s['liked_share']:.0%} ≥ "
                       f"{th.liked_share:.0%}), mean like probability {s['mean_probability']:.2f}")
    liked = sorted((t for t in album.tracks if t.probability is not None and t.probability >= th.liked_probability),
                   key=lambda t: -t.probability)
    if liked:
        # A bare 0.51 reads as a score of unknown scale; say what it is.
        names = ", ".join(f"{t.title} ({'you liked it' if t.rated == 1 else f'{t.probability:.0%} likely to be liked'})"
                          for t in liked[:3])
        reasons.append(f"liked tracks: {names}" + (f" and {len(liked) - 3} more" if len(liked) > 3 else ""))
        described = describe_attributes([t.attributes for t in liked], reference or {})
        if described:
            reasons.append("what they share: " + ", ".join(described))
        shared = shared_tags([t.tags for t in liked])
        if shared:
            reasons.append("they sound " + ", ".join(shared) + " (tags the listening model gave most of them)")
    return AlbumScore(album=album, reasons=reasons, **s)


def _score_by_metadata(album: Album, s: dict, th: Thresholds) -> AlbumScore:
    """Too few tracks to judge by sound: judged by its artist, label and tags (albums/metadata.py)."""
    m = album.by_metadata
    why_not = []
    if s["total"] < th.min_tracks:
        why_not.append(too_few_tracks(s["total"], th))
    if m.evidence < th.metadata_min_ratings:
        why_not.append(f"by metadata, resting on only {m.evidence} rating{'s' if m.evidence != 1 else ''} "
                       f"(needs {th.metadata_min_ratings})")
    elif m.probability < th.metadata_probability:
        why_not.append(f"by metadata, like probability {m.probability:.2f} < {th.metadata_probability:.2f}")
    head = (f"by metadata ({', '.join(m.kinds)}; {m.evidence} ratings): like probability {m.probability:.2f}"
            if m.kinds else "by metadata: nothing to go on")
    s.pop("why_not")
    meta = album.metadata or {}
    info = {"probability": round(m.probability, 4), "coverage": round(m.coverage, 4), "ratings": m.evidence,
            "kinds": m.kinds, "label": meta.get("label"), "tags": list(meta.get("tags") or [])[:8]}
    s.update(recommended=not why_not, mean_probability=m.probability)
    return AlbumScore(album=album, reasons=why_not + [head, *m.reasons], basis="metadata", metadata=info, **s)


def shared_tags(tag_lists: list[tuple[str, ...]], top: int = 3) -> list[str]:
    """Tags that at least half of the tracks (and two of them) have, the most shared first."""
    lists = [t for t in tag_lists if t]
    if len(lists) < 2:
        return []
    counts: dict[str, int] = {}
    for tags in lists:
        for tag in dict.fromkeys(tags):
            counts[tag] = counts.get(tag, 0) + 1
    need = max(2, (len(lists) + 1) // 2)
    return [t for t, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n >= need][:top]


def describe_attributes(rows: list[dict[str, float]], reference: dict[str, tuple[float, float]],
                        top: int = 2, min_z: float = 0.5) -> list[str]:
    """The attributes on which these tracks stand out from the reference (mean, std), in words."""
    out = []
    for name, (mean, std) in reference.items():
        if name not in DESCRIBED or not std:
            continue
        vals = [r[name] for r in rows if r.get(name) is not None]
        if vals:
            z = (sum(vals) / len(vals) - mean) / std
            if abs(z) >= min_z and DESCRIBED[name][0 if z > 0 else 1] is not None:
                out.append((abs(z), f"{DESCRIBED[name][0 if z > 0 else 1]} ({name} "
                                    f"{_amount(name, sum(vals) / len(vals))} vs {_amount(name, mean)} typical)"))
    return [text for _, text in sorted(out, reverse=True)[:top]]


def _amount(name: str, v: float) -> str:
    """A value as a reader says it: "122 BPM", "-9 dB", "0.24"."""
    return f"{v:.0f} BPM" if name == "tempo" else f"{v:.0f} dB" if name == "loudness" else f"{v:.2f}"


def reference_stats(albums: Iterable[Album]) -> dict[str, tuple[float, float]]:
    cols: dict[str, list[float]] = {}
    for a in albums:
        for t in a.tracks:
            for k, v in t.attributes.items():
                cols.setdefault(k, []).append(v)
    out = {}
    for k, vals in cols.items():
        if len(vals) >= 2:
            m = sum(vals) / len(vals)
            out[k] = (m, math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1)))
    return out


def without_duplicates(albums: Iterable[Album]) -> list[Album]:
    """One entry per album (normalised artist + title): the user's own copy first, then MusicBrainz's
    (it knows the whole track list), then a catalog's (often only the rated tracks)."""
    order = {"library": 0, "musicbrainz": 1, "catalog": 2}
    best: dict[tuple[str, str], Album] = {}
    for a in sorted(albums, key=lambda a: order.get(a.source, 3)):
        best.setdefault((norm(a.artist), norm(a.title)), a)
    return list(best.values())


def rank(albums: Iterable[Album], th: Thresholds, reference=None) -> list[AlbumScore]:
    albums = list(albums)
    ref = reference if reference is not None else reference_stats(albums)
    scores = [score_album(a, th.check(), ref) for a in albums]
    return sorted(scores, key=lambda s: (not s.recommended, -s.liked_share, -s.mean_probability,
                                         s.album.artist.lower(), s.album.title.lower()))


def norm(s: str | None) -> str:
    s = unicodedata.normalize("NFKD", s or "").encode("ascii", "ignore").decode().lower()
    s = re.sub(r"\s*[\(\[].*?[\)\]]", "", s)  # "(Remastered 2011)", "[live]"
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


# --- albums from the library and catalogs ---------------------------------------------------
def track_probability(row: dict) -> float | None:
    """The user's own rating wins over a prediction."""
    if row.get("rating") in (0, 1):
        return float(row["rating"])
    p = row.get("predicted_like")
    return None if p is None else float(p)


def track_attributes(row: dict) -> dict[str, float]:
    out = {}
    for k, v in (row.get("attributes") or {}).items():
        v = v.get("value") if isinstance(v, dict) else v
        if isinstance(v, int | float) and not (isinstance(v, float) and math.isnan(v)):
            out[k] = float(v)
    return out


def _album_track(row: dict, ref) -> AlbumTrack:
    return AlbumTrack(row.get("title") or "(untitled)", track_probability(row), track_attributes(row), row.get("rating"), ref,
                      tuple(t["tag"] for t in row.get("tags") or ()))


def library_album_key(t: dict) -> tuple | None:
    """Which album a library track belongs to: its MusicBrainz release when tagged; else its album
    artist and album title; else, for a file flagged as part of a compilation, the album title
    alone (a layout by track artist files a compilation's tracks under each artist's folder);
    else (a soundtrack whose tracks name only their own artists) the album title within its
    folder, a "CD 2" folder counting as its parent."""
    if not t.get("album"):
        return None
    if t.get("mb_release_id"):
        return ("release", t["mb_release_id"])
    if t.get("album_artist"):
        return ("artist", norm(t["album_artist"]), norm(t["album"]))
    if t.get("compilation"):
        return ("compilation", norm(t["album"]))
    folder = os.path.dirname(str(t.get("path") or ""))
    if _DISC_FOLDER.match(os.path.basename(folder)):
        folder = os.path.dirname(folder)
    return ("folder", folder, norm(t["album"]))


_DISC_FOLDER = re.compile(r"^(cd|dis[ck])\s*\d+$", re.IGNORECASE)


def library_albums(tracks: Iterable[dict]) -> list[Album]:
    groups: dict[tuple, list[dict]] = {}
    for t in tracks:
        k = library_album_key(t)
        if k is not None:
            groups.setdefault(k, []).append(t)
    out = []
    for k, rows in groups.items():
        first = rows[0]
        artists = {norm(r.get("artist")) for r in rows if r.get("artist")}
        # A compilation is credited to "Various Artists" even when the tracks at hand share one artist.
        various = len(artists) > 1 or any(r.get("compilation") for r in rows)
        artist = first.get("album_artist") or ("Various Artists" if various else next(
            (r["artist"] for r in rows if r.get("artist")), "Unknown artist"))
        # the group's own key: two "Various Artists" albums of one title in two folders stay two
        a = Album("library:" + "|".join(map(str, k)), first["album"], artist,
                  "library", [_album_track(t, str(t.get("id"))) for t in rows], year=first.get("year"),
                  release_group_id=first.get("mb_release_group_id"), release_id=first.get("mb_release_id"))
        out.append(a)
    return out


def catalog_album_key(row: dict) -> tuple | None:
    album_id = row.get("album_id") or (row.get("album") and f"{row.get('artist')}|{row.get('album')}")
    return (row.get("catalog_id"), album_id) if album_id else None


def catalog_albums(rows: Iterable[dict], totals: dict[tuple, dict] | None = None) -> list[Album]:
    """Catalog rows grouped by album id. `totals` (album key -> {"n", "album", "artist", "year"})
    lets the caller pass only the rows that can be scored and still list every album with its
    track count: a 1.2M-row catalog is never held in memory whole."""
    groups: dict[tuple, Album] = {}

    def new_album(k, album, artist, year) -> Album:
        return Album(f"catalog:{k[0]}:{k[1]}", album or k[1], artist or "Unknown artist", "catalog", [], year=year)

    for r in rows:
        k = catalog_album_key(r)
        if k is None:
            continue
        a = groups.get(k)
        if a is None:
            a = groups[k] = new_album(k, r.get("album"), r.get("artist"), r.get("year"))
        a.tracks.append(_album_track(r, str(r.get("id"))))
    for k, t in (totals or {}).items():
        a = groups.get(k)
        if a is None:
            a = groups[k] = new_album(k, t.get("album"), t.get("artist"), t.get("year"))
        a.total_tracks = max(t["n"], len(a.tracks))
    return list(groups.values())


def scored_catalog_rows(pages: Iterable[list[dict]]) -> tuple[list[dict], dict[tuple, dict]]:
    """(rows with a rating or prediction, album key -> {"n": all its tracks, "album", "artist",
    "year"}) from pages of catalog rows."""
    rows, totals = [], {}
    for page in pages:
        for r in page:
            k = catalog_album_key(r)
            if k is not None:
                t = totals.get(k)
                if t is None:
                    t = totals[k] = {"n": 0, "album": r.get("album"), "artist": r.get("artist"), "year": r.get("year")}
                t["n"] += 1
            if track_probability(r) is not None:
                rows.append(r)
    return rows, totals
