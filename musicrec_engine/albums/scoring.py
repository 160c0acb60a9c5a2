"""Album recommendations: the album recommender's three thresholds over track like-probabilities.

An album is recommended when it has at least `min_tracks` tracks, enough of them have features
to be scored (`min_coverage`), and at least `liked_share` of the scored ones reach
`liked_probability`. Scoring (`score_probabilities`, `score_album`, `rank`) is pure: it only sees
albums and their track probabilities. Albums come from the library (grouped by tags), imported
catalogs (by album id) and MusicBrainz (`discover`: liked artists -> release groups -> one
release lookup each -> recordings matched to tracks we have features for). Albums none of whose
recordings we have features for are judged by metadata instead (albums/metadata.py).

Over 500 lines because the scoring rules and the MusicBrainz discovery share the Album types; the
discovery part is the one to move out next (it was left here while the engine's reorganisation
was rewriting it, to keep the two changes apart).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from musicrec_engine.jobs import Cancelled, Progress

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


def score_probabilities(probs: list[float | None], total: int, th: Thresholds) -> dict:
    """The seed's rule over one album's track probabilities (None = track without features)."""
    scored = [p for p in probs if p is not None]
    liked = sum(p >= th.liked_probability for p in scored)
    share = liked / len(scored) if scored else 0.0
    coverage = len(scored) / total if total else 0.0
    why_not = []
    if total < th.min_tracks:
        why_not.append(f"only {total} tracks (needs {th.min_tracks})")
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
        names = ", ".join(f"{t.title} ({'rated liked' if t.rated == 1 else f'{t.probability:.2f}'})"
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
        why_not.append(f"only {s['total']} tracks (needs {th.min_tracks})")
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
                out.append((abs(z), f"{DESCRIBED[name][0 if z > 0 else 1]} ({name} {sum(vals) / len(vals):.2f} "
                                    f"vs {mean:.2f} typical)"))
    return [text for _, text in sorted(out, reverse=True)[:top]]


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


# --- albums from the library and catalogs ---------------------------------------------------
def track_probability(row: dict) -> float | None:
    """The user's own rating wins over a prediction."""
    if row.get("rating") in (0, 1):
        return float(row["rating"])
    p = row.get("predicted_like")
    return None if p is None else float(p)


def _attrs(row: dict) -> dict[str, float]:
    out = {}
    for k, v in (row.get("attributes") or {}).items():
        v = v.get("value") if isinstance(v, dict) else v
        if isinstance(v, int | float) and not (isinstance(v, float) and math.isnan(v)):
            out[k] = float(v)
    return out


def _album_track(row: dict, ref) -> AlbumTrack:
    return AlbumTrack(row.get("title") or "(untitled)", track_probability(row), _attrs(row), row.get("rating"), ref,
                      tuple(t["tag"] for t in row.get("tags") or ()))


def library_album_key(t: dict) -> tuple | None:
    """Which album a library track belongs to: its MusicBrainz release when tagged; else its album
    artist and album title; else (a soundtrack or compilation whose tracks name only their own
    artists) the album title within its folder, a "CD 2" folder counting as its parent."""
    if not t.get("album"):
        return None
    if t.get("mb_release_id"):
        return ("release", t["mb_release_id"])
    if t.get("album_artist"):
        return ("artist", norm(t["album_artist"]), norm(t["album"]))
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
    for rows in groups.values():
        first = rows[0]
        artists = {norm(r.get("artist")) for r in rows if r.get("artist")}
        artist = (first.get("album_artist") or (first.get("artist") if len(artists) <= 1 else None)
                  or ("Various Artists" if artists else "Unknown artist"))
        a = Album(f"library:{artist}|{first['album']}|{first.get('mb_release_id') or ''}", first["album"], artist,
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


# --- MusicBrainz discovery ------------------------------------------------------------------
def norm(s: str | None) -> str:
    s = unicodedata.normalize("NFKD", s or "").encode("ascii", "ignore").decode().lower()
    s = re.sub(r"\s*[\(\[].*?[\)\]]", "", s)  # "(Remastered 2011)", "[live]"
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


class TrackIndex:
    """Tracks we have features for, found by recording MBID or by normalised artist + title."""

    def __init__(self, rows: Iterable[dict]):
        self.by_mbid: dict[str, dict] = {}
        self.by_name: dict[tuple[str, str], dict] = {}
        for r in rows:
            if track_probability(r) is None:
                continue
            if r.get("mbid"):
                self.by_mbid.setdefault(r["mbid"], r)
            if r.get("title") and r.get("artist"):
                self.by_name.setdefault((norm(r["artist"]), norm(r["title"])), r)

    def find(self, recording_id: str | None, artist: str, title: str) -> dict | None:
        return self.by_mbid.get(recording_id or "") or self.by_name.get((norm(artist), norm(title)))


@dataclass
class Discovery:
    albums: list[Album] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"item", "error"} per release that failed
    searches: int = 0
    lookups: int = 0
    not_cached: int = 0  # offline: searches and releases not in the cache, so not looked at
    cancelled: bool = False


def seed_artists(rows: Iterable[dict], th: Thresholds, limit: int = 10) -> list[tuple[str | None, str]]:
    """(artist MBID or None, name) of the artists with the most liked tracks."""
    count: dict[str, list] = {}
    for r in rows:
        p = track_probability(r)
        name = r.get("album_artist") or r.get("artist")
        if p is None or p < th.liked_probability or not name:
            continue
        c = count.setdefault(norm(name), [0, r.get("mb_album_artist_id") or r.get("mb_artist_id"), name])
        c[0] += 1
        c[1] = c[1] or r.get("mb_album_artist_id") or r.get("mb_artist_id")
    best = sorted(count.values(), key=lambda c: (-c[0], c[2]))[:limit]
    return [(mbid, name) for _, mbid, name in best]


def ask(out: Discovery, item: str, call, *args, counter: str = "searches", stop_on_unreachable: bool = True,
        **kwargs):
    """One MusicBrainz request of an album discovery: its answer, or None after noting in `out` why
    there is none (cancelled, not in the cache while offline, or an error of this one request), and
    counted in `out.<counter>`. A missing contact address stops every request, so it is raised; so
    is an unreachable server, unless `stop_on_unreachable` is False (then it is this item's error)."""
    from musicrec_engine.online import musicbrainz as mbz

    fatal = (mbz.MissingContact, mbz.Unreachable) if stop_on_unreachable else (mbz.MissingContact,)
    try:
        return call(*args, **kwargs)
    except Cancelled:
        out.cancelled = True
    except mbz.Offline:
        out.not_cached += 1
    except fatal:
        raise  # nothing else can work either: one clear message for the whole search
    except mbz.MusicBrainzError as e:
        out.errors.append({"item": item, "error": str(e)})
    finally:
        setattr(out, counter, getattr(out, counter) + 1)
    return None


def discover(client, index: TrackIndex, th: Thresholds, seeds: list[tuple[str | None, str]] = (),
             artist: str | None = None, tag: str | None = None, years: tuple[int, int] | None = None,
             max_albums: int = 50, related_tags: int = 2, progress: Progress | None = None,
             cancel: threading.Event | None = None, rates=None, max_artist_lookups: int = 10) -> Discovery:
    """Liked artists (or the given artist/tag) -> release groups (the artists' own, then other
    artists' under their `related_tags` most common tags) -> one lookup per release -> albums whose
    recordings we can score. Per-release failures are collected, not raised. With `rates`
    (metadata.LikeRates from the user's ratings), albums that cannot be judged by sound are scored
    by metadata: their tags and label came with the search and the release, and one more request
    per artist (at most `max_artist_lookups`) brings the artist's tags."""
    from musicrec_engine.online import musicbrainz as mbz

    out = Discovery()
    report = progress or (lambda done, total, msg: None)
    queries: list[dict] = []
    if artist or tag:
        queries.append({"artist": artist, "tag": tag, "years": years})
    for mbid, name in seeds:
        if not mbid:
            report(0, 0, f"looking up artist {name}")
            hits = ask(out, f"artist {name}", client.search_artists, name, cancel=cancel)
            if out.cancelled:
                return out
            if hits is None:
                continue
            same = [h for h in hits if norm(h.get("name")) == norm(name)]
            if not same:
                out.errors.append({"item": f"artist {name}", "error": "MusicBrainz knows no artist by that name"})
                continue
            mbid = same[0]["id"]
        queries.append({"artist_id": mbid, "tag": tag, "years": years})

    groups: dict[str, dict] = {}
    pending = list(queries)
    tags_done = not seeds or related_tags <= 0 or bool(artist or tag)
    while pending:
        q = pending.pop(0)
        found = ask(out, "album search " + ", ".join(f"{k}={v}" for k, v in q.items() if v),
                        client.search_release_groups, cancel=cancel, **q)
        if out.cancelled:
            return out
        if found is None:
            continue
        for rg in found:
            if rg.get("release-list") and len(groups) < max_albums:
                groups.setdefault(rg["id"], rg)
        if not pending and not tags_done:
            # Beyond the artists you like: albums of other artists under their most common tags,
            # from the years their albums span (unless a range was given).
            tags_done = True
            for t in top_tags(groups.values(), related_tags):
                pending.append({"tag": t, "years": years or year_span(groups.values())})

    todo = list(groups.values())
    # The ETA counts only the look-ups the cache cannot answer, at the limiter's pace.
    to_fetch = [not client.is_cached("get_release_by_id", id=rg["release-list"][0]["id"],
                                     includes=mbz.RELEASE_INCLUDES) for rg in todo]
    for i, rg in enumerate(todo):
        if cancel is not None and cancel.is_set():
            out.cancelled = True
            break
        release_id = rg["release-list"][0]["id"]
        left = sum(to_fetch[i:])
        report(i, len(todo), f"album {i + 1} of {len(todo)}: {rg.get('title')} — about "
                             f"{math.ceil(left * client.settings.interval - 1e-9)} s left")
        try:
            release = client.release_with_recordings(release_id, cancel=cancel)
        except Cancelled:
            out.cancelled = True
            break
        except mbz.Offline:
            out.not_cached += 1
            continue
        except mbz.Unreachable as e:  # the network went away: keep what we have, say so once
            out.errors.append({"item": f"the remaining {len(todo) - i} albums", "error": str(e)})
            break
        except mbz.MissingContact:
            raise
        except mbz.MusicBrainzError as e:
            out.errors.append({"item": f"album {rg.get('title')} ({release_id})", "error": str(e)})
            continue
        finally:
            out.lookups += 1
        out.albums.append(_release_album(rg, release, index))
    if rates and not out.cancelled:
        from musicrec_engine.albums.metadata import score_discovered

        score_discovered(client, out, th, rates, max_artist_lookups, report, cancel)
    report(len(todo), len(todo), f"{len(out.albums)} albums looked at")
    return out


def top_tags(groups: Iterable[dict], n: int) -> list[str]:
    count: dict[str, float] = {}
    for rg in groups:
        for t in rg.get("tag-list", []):
            name = (t.get("name") or "").strip().lower()
            if name:
                count[name] = count.get(name, 0) + float(t.get("count") or 1)
    return [t for t, _ in sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def year_span(groups: Iterable[dict]) -> tuple[int, int] | None:
    years = [int(y[:4]) for y in (rg.get("first-release-date") or "" for rg in groups) if y[:4].isdigit()]
    return (min(years), max(years)) if years else None


def _release_album(rg: dict, release: dict, index: TrackIndex) -> Album:
    credit = release.get("artist-credit-phrase") or rg.get("artist-credit-phrase") or ""
    tracks = []
    for medium in release.get("medium-list", []):
        for t in medium.get("track-list", []):
            rec = t.get("recording", {})
            title = rec.get("title") or t.get("title") or "(untitled)"
            row = index.find(rec.get("id"), rec.get("artist-credit-phrase") or credit, title)
            if row is None:
                tracks.append(AlbumTrack(title, None, ref=rec.get("id")))
            else:
                tracks.append(AlbumTrack(title, track_probability(row), _attrs(row), row.get("rating"), rec.get("id")))
    year = (rg.get("first-release-date") or release.get("date") or "")[:4]
    labels = [li["label"].get("name") for li in release.get("label-info-list", []) if li.get("label", {}).get("name")]
    meta = {"artist_id": _first_artist_id(release) or _first_artist_id(rg), "label": labels[0] if labels else None,
            "tags": [t["name"] for t in sorted(rg.get("tag-list", []), key=lambda t: -float(t.get("count") or 1))
                     if t.get("name")]}
    return Album(f"musicbrainz:{rg['id']}", rg.get("title") or release.get("title") or "", credit or "Unknown artist",
                 "musicbrainz", tracks, year=int(year) if year.isdigit() else None,
                 release_id=release.get("id"), release_group_id=rg.get("id"), metadata=meta)


def _first_artist_id(entity: dict) -> str | None:
    for c in entity.get("artist-credit") or []:
        if isinstance(c, dict) and isinstance(c.get("artist"), dict) and c["artist"].get("id"):
            return c["artist"]["id"]
    return None
