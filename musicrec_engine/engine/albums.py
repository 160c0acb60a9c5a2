"""The albums area of the facade: ranked albums from the library, the catalogs and MusicBrainz."""

from __future__ import annotations

import threading

from musicrec_engine.jobs import Progress


class AlbumsArea:
    @staticmethod
    def album_thresholds(**given) -> dict:
        """The album thresholds as plain values: the defaults (the album recommender's), overridden
        by `given`; {"liked_probability", "liked_share", "min_tracks", "min_coverage"}.
        A value out of range raises UsageError with the reason."""
        from dataclasses import asdict

        return asdict(AlbumsArea._thresholds(given))

    @staticmethod
    def _thresholds(values):
        from musicrec_engine.albums.scoring import Thresholds
        from musicrec_engine.errors import UsageError

        if isinstance(values, Thresholds):
            th = values
        else:
            given = {k: v for k, v in (values or {}).items() if v is not None}
            unknown = set(given) - set(Thresholds.__dataclass_fields__)
            if unknown:
                raise UsageError(f"unknown album threshold(s): {', '.join(sorted(unknown))}")
            th = Thresholds(**given)
        try:
            return th.check()
        except ValueError as e:
            raise UsageError(str(e)) from None

    def albums(self, source: str = "all", thresholds=None, progress: Progress | None = None,
               cancel: threading.Event | None = None, **mb_overrides) -> dict:
        """Ranked albums from the library, catalogs and MusicBrainz. `all` never goes online: it
        adds MusicBrainz albums only from the cache; `musicbrainz` searches from your liked artists.
        `thresholds`: a dict of album_thresholds() values (missing ones take the defaults)."""
        from musicrec_engine.albums import discovery
        from musicrec_engine.albums import scoring as alb
        from musicrec_engine.errors import UsageError

        if source not in ("library", "catalog", "musicbrainz", "all"):
            raise ValueError(f"unknown album source {source!r}: use library, catalog, musicbrainz or all")
        th = self._thresholds(thresholds)
        lib_rows, (cat_rows, totals) = self._album_library_rows(), self._scored_catalog_rows()
        found = []
        if source in ("library", "all"):
            found += alb.library_albums(lib_rows)
        if source in ("catalog", "all"):
            found += alb.catalog_albums(cat_rows, totals)
        disc = client = None
        if source in ("musicbrainz", "all"):
            if source == "all":
                mb_overrides["offline"] = True
            seeds = discovery.seed_artists(lib_rows + cat_rows, th)
            if seeds or source == "musicbrainz":
                if not seeds:
                    raise UsageError("no liked tracks to start from: like some tracks, or use 'albums search "
                                     "--artist NAME'")
                client = self.musicbrainz(**mb_overrides)
                disc = discovery.discover(client, discovery.TrackIndex(lib_rows + cat_rows), th, seeds=seeds,
                                    progress=progress if source == "musicbrainz" else None, cancel=cancel,
                                    rates=self.metadata_like_rates())
                found += disc.albums
        return self._album_report(found, th, disc, client)

    def search_albums(self, artist: str | None = None, tag: str | None = None, years=None, thresholds=None,
                      progress: Progress | None = None, cancel: threading.Event | None = None,
                      **mb_overrides) -> dict:
        """MusicBrainz albums by artist/tag/years (or, with neither, your liked artists), scored."""
        from musicrec_engine.albums import discovery
        from musicrec_engine.errors import UsageError

        th = self._thresholds(thresholds)
        rows = self._album_library_rows() + self._scored_catalog_rows()[0]
        seeds = [] if (artist or tag) else discovery.seed_artists(rows, th)
        if not (artist or tag or seeds):
            raise UsageError("nothing to search for: give --artist or --tag, or like some tracks first")
        client = self.musicbrainz(**mb_overrides)
        disc = discovery.discover(client, discovery.TrackIndex(rows), th, seeds=seeds, artist=artist, tag=tag, years=years,
                            progress=progress, cancel=cancel, rates=self.metadata_like_rates())
        return self._album_report(disc.albums, th, disc, client)

    def _scored_catalog_rows(self):
        from musicrec_engine.albums.scoring import scored_catalog_rows

        return scored_catalog_rows(self.library.iter_catalog_tracks())

    def _album_library_rows(self) -> list[dict]:
        """Library tracks with like-probabilities: tracks analysed since the taste model was trained
        get theirs now (catalog predictions come from predict_catalog). Loading the model imports
        torch (seconds), so it happens only when a track lacks a prediction and a model was saved."""
        rows = self.library.tracks()
        missing = [t["id"] for t in rows if t.get("attributes") and t.get("predicted_like") is None]
        if missing and self.has_taste_model():
            self.predict_like(missing)
            rows = self.library.tracks()
        return rows

    def _album_report(self, found, th, disc, client=None) -> dict:
        from dataclasses import asdict

        from musicrec_engine.albums import scoring as alb

        scores = alb.rank(alb.without_duplicates(found), th)
        covers = self.cover_art()
        albums = [s.to_dict() for s in scores]
        for a in albums:
            a["cover_url"] = covers.url(a["release_id"]) if a.get("release_id") else None
        out = {"albums": albums, "thresholds": asdict(th),
               "errors": disc.errors if disc else [], "cancelled": bool(disc and disc.cancelled)}
        if disc is not None:
            mb = [s for s in scores if s.album.source == "musicbrainz"]
            out["musicbrainz"] = {"searches": disc.searches, "lookups": disc.lookups, "not_cached": disc.not_cached,
                                  "albums": len(mb), "albums_with_enough_coverage":
                                      sum(s.coverage >= th.min_coverage for s in mb),
                                  "tracks_matched": sum(s.scored for s in mb), "tracks": sum(s.total for s in mb),
                                  "by_metadata": sum(s.basis == "metadata" for s in mb)}
            if client is not None:
                out["musicbrainz"]["requests"] = client.requests_made
        return out
