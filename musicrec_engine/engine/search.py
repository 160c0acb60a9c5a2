"""The search area of the facade: tracks that sound or read alike."""

from __future__ import annotations


class SearchArea:
    @property
    def similarity(self):
        with self._lock:
            if self._similarity is None:
                from musicrec_engine.search.similarity import Similarity

                self._similarity = Similarity(self.library, self.paths.data / "index", self._similarity_weights)
            return self._similarity

    @staticmethod
    def similarity_weight_defaults() -> dict[str, float]:
        """Each attribute's weight in the attribute space before the user changes it."""
        from musicrec_engine.search.encoding import DEFAULT_WEIGHTS

        return dict(DEFAULT_WEIGHTS)

    def set_similarity_weights(self, weights: dict[str, float] | None) -> None:
        """Per-attribute weights of the attribute space (the track-similarity study's feature
        weighting); unknown names are ignored. Catalog indexes are cached per weighting, so
        switching back is cheap."""
        with self._lock:
            self._similarity_weights = dict(weights or {})
            self._similarity = None

    def similar(self, file=None, track_id: int | None = None, catalog_track_id: int | None = None, top: int = 10,
                source: str = "all", catalog=None, exclude_artist: bool = False, exclude_album: bool = False):
        """Tracks like a file (analysed if not in the library), a library track or a catalog track:
        up to `top` per source, each with score, space and the attributes that made it close."""
        from musicrec_engine.errors import MusicRecError
        from musicrec_engine.search.similarity import Query

        if file is not None:
            t = self.library.track(file)
            if t is not None and t["status"] == "ok":
                q = Query(track_id=t["id"])
            else:
                from musicrec_engine.analysis.pipeline import analyze_file
                from musicrec_engine.library.tags import read_tags

                res = analyze_file(str(file), cache=self.feature_cache, models_dir=self.paths.models)
                if res.status != "ok":
                    raise MusicRecError(f"{file}: {res.error}")
                tags = read_tags(file)
                heard = {f"musicnn-{v}": e for v, e in res.embeddings.items()}
                q = Query(features={**res.features, **heard}, attributes=res.attributes, artist=tags.get("artist"),
                          album=tags.get("album"), content_hash=res.content_hash, tags=res.tags)
        elif track_id is not None:
            q = Query(track_id=int(track_id))
        elif catalog_track_id is not None:
            q = Query(catalog_track_id=int(catalog_track_id))
        else:
            raise ValueError("give a file, a track id or a catalog track id")
        try:
            return self.similarity.similar(q, top=top, source=source, catalog=catalog, exclude_artist=exclude_artist,
                                           exclude_album=exclude_album)
        except ValueError as e:
            raise MusicRecError(str(e)) from None
