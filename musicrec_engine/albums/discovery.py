"""Albums from MusicBrainz: liked artists (or a given artist, tag and years) -> release groups (the
artists' own, then other artists' under their most common tags) -> one release lookup each ->
recordings matched to the tracks we have features for, scored like any album (albums/scoring.py).
Every request goes through `ask`, which turns one request's failure into that item's error."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from musicrec_engine.albums.scoring import (
    Album,
    AlbumTrack,
    Thresholds,
    norm,
    track_attributes,
    track_probability,
)
from musicrec_engine.jobs import Cancelled, Progress


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
                tracks.append(AlbumTrack(title, track_probability(row), track_attributes(row), row.get("rating"), rec.get("id")))
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
