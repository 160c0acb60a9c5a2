"""The playlists area of the facade: make a playlist (seeds, taste radio, path, filter), keep it in
the library, export it for other players."""

from __future__ import annotations

import sys

SOUND_COVERAGE = 0.9  # below this share of playable tracks with audio features, use the attribute space


class PlaylistsArea:
    PLAYLIST_KINDS = ("seeds", "taste", "path", "filter")

    def playlist_pool(self, need_predictions: bool = False):
        """The playable library tracks and their vectors (generate.Pool). Tracks analysed since
        the taste model was trained get their p(like) first when the playlist needs it.

        The pool is built once per state of the library (tracks added, re-analysed, gone; the
        sound space refitted) and kept; ratings and predictions, which change all the time, are
        read afresh on every call (one light query)."""
        if need_predictions:
            missing = [r[0] for r in self.library.query(
                "SELECT t.id FROM tracks t LEFT JOIN predictions p ON p.track_id=t.id "
                "WHERE p.track_id IS NULL AND t.status='ok' AND t.missing=0")]
            # loading the model imports torch (seconds): only when a saved model can fill a gap
            if missing and self.taste_store.manifest(self.TASTE_SLOT) is not None:
                self.predict_like(missing)
        # Features change only when a track is analysed (analysed_at) or comes and goes: while this
        # stamp and the similarity object (rebuilt when the weights change) stay, so does the pool,
        # and not even the sound space's own freshness check (a read of every track) is needed.
        stamp = tuple(self.library.query("SELECT COUNT(*), MAX(analysed_at), MAX(id), SUM(missing), "
                                         "MAX(mtime) FROM tracks")[0])
        similarity = self.similarity
        # Its own lock, not the engine's: building takes seconds for a big library, and every other
        # engine call (the window's included) needs the engine's lock to reach the library.
        with self._pool_lock:
            cached = self._playlist_pool
            if cached is None or cached[0] != stamp or cached[1] is not similarity:
                sound = similarity.sound_space() if stamp[0] else None
                # the tracks were just read with their ratings and predictions: no second read
                self._playlist_pool = (stamp, similarity, self._build_pool(sound))
                pool = self._playlist_pool[2]
            else:
                pool = cached[2]
                fresh = {r[0]: (r[1], r[2]) for r in self.library.query(
                    "SELECT t.id, r.value, p.prob FROM tracks t LEFT JOIN ratings r ON r.track_id=t.id "
                    "LEFT JOIN predictions p ON p.track_id=t.id")}
                for t in pool.tracks:
                    t["rating"], t["predicted_like"] = fresh.get(t["id"], (None, None))
        if cached is not None and cached[2] is not pool:
            retired, cached = cached[2], None
            # Freeing a replaced pool in one go (10,000 tracks are some 600,000 objects) holds the
            # GIL for 30 ms and more, and a window waiting for it stands still that long: it goes a
            # few hundred tracks at a time instead, so the GIL can change hands in between. Only
            # when this is the last reference (this name and the call's argument): a playlist
            # being made from the old pool keeps it whole.
            if sys.getrefcount(retired) == 2:
                while retired.tracks:
                    del retired.tracks[-256:]
        return pool

    def prepare_playlists(self) -> int:
        """Get the first playlist ready ahead of time: read the library's tracks and fit (or load
        the saved) sound space now, in the caller's thread. The app calls this in a worker when the
        library has loaded and after each analysis batch, so a click on "Make playlist" finds it
        done. Returns how many tracks a playlist can choose from."""
        return len(self.playlist_pool())

    def _build_pool(self, sound):
        import numpy as np

        from musicrec_engine.playlists.generate import Pool
        from musicrec_engine.search import encoding

        tracks = [t for t in self.library.tracks() if t.get("status") == "ok" and t.get("path")]
        if sound is not None:
            ids, mat, _ = sound
            pos = {int(i): n for n, i in enumerate(ids.tolist())}
            with_sound = [t for t in tracks if t["id"] in pos]
            if len(with_sound) >= 2 and len(with_sound) >= SOUND_COVERAGE * len(tracks):
                vecs = mat[[pos[t["id"]] for t in with_sound]]
                return Pool(with_sound, np.ascontiguousarray(vecs, dtype=np.float32), "sound")
        with_attrs = [t for t in tracks if t.get("attributes")]
        attrs = encoding.encode(with_attrs, self.similarity.weights) if with_attrs else np.zeros((0, encoding.DIM))
        return Pool(with_attrs, encoding.normalise(np.asarray(attrs, np.float32)), "attributes", attr_vecs=attrs)

    def make_playlist(self, kind: str, seeds=(), start=None, end=None, expression: str | None = None,
                      **options) -> dict:
        """A playlist: {"mode", "space", "rules", "tracks": [{id, path, title, artist, ..., "why":
        [reasons]}], "seconds", "notes", "discover": [catalog rows to look for, not playable]}.

        kind: "seeds" (seeds = track ids or paths), "taste", "path" (start, end), "filter"
        (expression). Options: generate.Options (size, minutes, diversity, artist_gap,
        exclude_disliked, exclude_rated, smooth, harmonic, discover)."""
        from musicrec_engine.errors import MusicRecError, UsageError
        from musicrec_engine.playlists import generate as gen

        if kind not in self.PLAYLIST_KINDS:
            raise UsageError(f"unknown playlist kind {kind!r}: one of {', '.join(self.PLAYLIST_KINDS)}")
        try:
            opts = gen.Options(**options).check()
        except TypeError as e:
            raise UsageError(f"playlist option: {e}") from None
        pool = self.playlist_pool(need_predictions=kind in ("taste", "filter"))
        if len(pool) == 0:
            raise MusicRecError("the library has no analysed tracks yet: add music or load the demo library first")
        if kind == "seeds":
            ids = [self._playlist_track_id(s) for s in seeds]
            out = gen.from_seeds(pool, ids, opts)
            out["discover"] = self._discover_like(ids, opts.discover)
        elif kind == "taste":
            out = gen.taste_radio(pool, opts)
            if opts.discover:
                from musicrec_engine.library.playlists import likely_catalog_rows

                out["discover"] = likely_catalog_rows(self.library, opts.discover)
        elif kind == "path":
            if start is None or end is None:
                raise UsageError("a path needs a start and an end track")
            out = gen.path(pool, self._playlist_track_id(start), self._playlist_track_id(end), opts)
        else:
            if not expression:
                raise UsageError("give a filter expression, e.g. 'tag:jazz energy<0.4'")
            out = gen.filtered(pool, expression, opts)
        return out

    def _playlist_track_id(self, id_or_path) -> int:
        from musicrec_engine.errors import MusicRecError

        t = self.library.track(id_or_path)
        if t is None:
            raise MusicRecError(f"{id_or_path}: not in the library; analyse it first (musicrec analyze PATH)")
        if t.get("status") != "ok":
            raise MusicRecError(f"{id_or_path}: could not be analysed, so it cannot seed a playlist")
        return int(t["id"])

    def _discover_like(self, seed_ids: list[int], k: int) -> list[dict]:
        """Catalog rows near the seeds in the attribute space: shown to look for, never played."""
        from musicrec_engine.playlists import generate as gen

        if not k or not any(c["complete"] for c in self.library.catalogs()):
            return []
        best: dict[int, dict] = {}
        for sid in seed_ids[:3]:
            seed = self.library.track(sid)
            for r in self.similar(track_id=sid, top=k, source="catalog"):
                why = f"like “{seed.get('title') or 'your seed'}” (similarity {r['score']:.2f} {gen.BY_ATTRIBUTES})"
                if r["id"] not in best or r["score"] > best[r["id"]]["score"]:
                    best[r["id"]] = {"catalog_track_id": r["id"], "name": r["name"], "title": r["title"],
                                     "artist": r["artist"],
                                     "album": r["album"], "catalog": r["catalog"], "score": r["score"],
                                     "why": [why]}
        return sorted(best.values(), key=lambda r: -r["score"])[:k]

    # --- albums by metadata (kept here, beside the other new recommendation, until the albums area
    # of the facade has a file of its own) ------------------------------------------------------
    def metadata_like_rates(self):
        """The user's like-rates per artist, label and tag, from every rating (albums/metadata.py)."""
        from musicrec_engine.albums.metadata import LikeRates

        return LikeRates.from_rows(self.library.rating_rows())

    def library_album_cover(self, track_ids) -> str | None:
        """A library album's own cover (embedded in its files or beside them), cached; None if none."""
        from musicrec_engine.albums.covers import album_cover

        paths = [t["path"] for t in self.library.tracks(include_missing=True, ids=[int(i) for i in track_ids])
                 if t.get("path")]
        found = album_cover(paths, self.paths.cache / "covers" / "local")
        return str(found) if found else None

    # --- saved playlists -------------------------------------------------------------------
    def save_playlist(self, name: str, playlist: dict | list, replace: bool = False) -> dict:
        """Save a made playlist (the dict make_playlist returns) or a list of track ids under name."""
        from musicrec_engine.library import playlists as store

        if isinstance(playlist, dict):
            entries = [{"track_id": t["id"], "why": t.get("why") or []} for t in playlist.get("tracks", [])]
            rules = playlist.get("rules") or {}
        else:
            entries, rules = [{"track_id": i, "why": ["added by you"]} for i in playlist], {"mode": "by hand"}
        return self._playlist_view(store.save(self.library, name, entries, rules, replace=replace))

    def playlists(self) -> list[dict]:
        from musicrec_engine.library import playlists as store

        return store.all_playlists(self.library)

    def playlist(self, name_or_id) -> dict:
        """A saved playlist with its tracks in order (each with "why" and "exists": is the file there)."""
        from musicrec_engine.errors import MusicRecError
        from musicrec_engine.library import playlists as store

        p = store.get(self.library, name_or_id)
        if p is None:
            raise MusicRecError(f"no playlist named {name_or_id!r} (see 'musicrec playlist list')")
        return self._playlist_view(p)

    def _playlist_view(self, p: dict) -> dict:
        import os

        entries = p.pop("entries")
        rows = {t["id"]: t for t in self.library.tracks(include_missing=True, ids=[e["track_id"] for e in entries])}
        p["tracks"] = []
        for e in entries:
            t = rows.get(e["track_id"])
            if t is None:
                continue
            p["tracks"].append({"id": t["id"], "path": t["path"], "title": t.get("title"), "artist": t.get("artist"),
                                "album": t.get("album"), "duration": t.get("duration"), "rating": t.get("rating"),
                                "why": e["why"], "exists": bool(t["path"]) and os.path.isfile(t["path"])})
        return p

    def set_playlist_tracks(self, name_or_id, track_ids: list[int]) -> dict:
        """Reorder, remove or add tracks: the playlist becomes exactly these ids in this order."""
        from musicrec_engine.library import playlists as store

        return self._playlist_view(store.set_tracks(self.library, name_or_id, list(track_ids)))

    def rename_playlist(self, name_or_id, new_name: str) -> dict:
        from musicrec_engine.library import playlists as store

        return self._playlist_view(store.rename(self.library, name_or_id, new_name))

    def delete_playlist(self, name_or_id) -> bool:
        from musicrec_engine.library import playlists as store

        return store.delete(self.library, name_or_id)

    def export_playlist(self, playlist, out_file, relative: bool = False) -> dict:
        """Write a saved playlist (name or id) or a made one (dict) as .m3u8 or .xspf; files that no
        longer exist are left out and listed under "skipped"."""
        from musicrec_engine.playlists import export

        p = playlist if isinstance(playlist, dict) else self.playlist(playlist)
        return export.write(p.get("name") or "MusicRec playlist", p["tracks"], out_file, relative=relative)
