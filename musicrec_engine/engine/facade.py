"""The facade: the one object the desktop app and the CLI talk to.

It owns the data folders and the library connection and delegates each job to the module that
knows how to do it. Long jobs take `progress(done, total, message)` and a `cancel`
threading.Event, and never raise for one bad input: per-item failures come back as results.
Each section below belongs to one area of the engine; keep methods thin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from musicrec_engine import paths as _paths
from musicrec_engine.engine.playlists import PlaylistsArea

Progress = Callable[[int, int, str], None]


class Engine(PlaylistsArea):
    def __init__(self, home: str | Path | None = None):
        self.paths = _paths.resolve(home).ensure()
        self._lock = threading.RLock()
        self._library = None

    # --- library (issue 6) -------------------------------------------------------------
    @property
    def library(self):
        with self._lock:
            if self._library is None:
                from musicrec_engine.library.store import Library

                self._library = Library(self.paths.library_db)
            return self._library

    def close(self) -> None:
        with self._lock:
            if self._library is not None:
                self._library.close()
                self._library = None
            self._similarity = None

    def scan(self, folders, progress: Progress | None = None, cancel: threading.Event | None = None,
             jobs: int | None = None):
        """Incremental re-scan of music folders: new/changed files analysed, moves followed, gone
        files marked missing (ratings kept). Returns scan.ScanReport."""
        from functools import partial

        from musicrec_engine.analysis.pipeline import analyze_paths
        from musicrec_engine.library import scan

        # through the analysis section's feature cache, so a re-added file is not decoded again
        run = partial(analyze_paths, cache=self.feature_cache, models_dir=self.paths.models)
        return scan.scan(self.library, folders, progress=progress, cancel=cancel, jobs=jobs, analyze_paths=run)

    def tracks(self, include_missing: bool = False, filter: str | None = None) -> list[dict]:
        """Library tracks; `filter` keeps those with every `tag:NAME` term (a tag the listening model
        gave the track, heard_tags.SHOWN) and every other word in title, artist, album, genre, year or path."""
        rows = self.library.tracks(include_missing=include_missing)
        if filter:
            from musicrec_engine.library import heard_tags

            tags, words = heard_tags.split_terms(filter)
            words = [w.casefold() for w in words]

            def text(t):
                return " ".join(str(t.get(f) or "") for f in ("title", "artist", "album", "album_artist", "genre",
                                                             "year", "path")).casefold()
            rows = [t for t in rows if heard_tags.has_tags(t, tags) and all(w in text(t) for w in words)]
        return rows

    def track(self, id_or_path):
        return self.library.track(id_or_path)

    def import_catalog(self, csv_path, name: str | None = None, progress: Progress | None = None,
                       cancel: threading.Event | None = None):
        """Stream a catalog CSV into the library, then build its similarity index. Returns catalogs.ImportReport."""
        from musicrec_engine.library import catalogs

        rep = catalogs.import_csv(self.library, csv_path, name=name, progress=progress, cancel=cancel)
        if not rep.cancelled and rep.imported:
            self.similarity.forget_catalog(rep.catalog_id)
            self.similarity.catalog_index(rep.catalog_id, progress=progress, cancel=cancel)
        return rep

    def catalogs(self) -> list[dict]:
        return self.library.catalogs()

    def remove_catalog(self, id_or_name) -> bool:
        cat = self.library.catalog(id_or_name)
        if cat is None:
            return False
        self.similarity.forget_catalog(cat["id"])
        for f in (self.paths.data / "index").glob(f"catalog-{cat['id']}-*.npy"):
            f.unlink(missing_ok=True)
        return self.library.remove_catalog(cat["id"])

    def rate_by_mbid_csv(self, csv_path) -> dict:
        """Likes/dislikes from a two-column CSV (mbid, liked 0/1), as seed 004 keeps them; rows
        that cannot be used (extra columns are fine) are counted in bad_rows."""
        from musicrec_engine.taste.ratings import read_ratings_csv

        rf = read_ratings_csv(csv_path)
        return {**self.library.rate_by_mbid(rf.ratings), "bad_rows": len(rf.problems)}

    def reset_library(self) -> dict:
        """Set a damaged library file aside and start a new one, keeping the ratings."""
        from musicrec_engine.library.store import start_afresh

        self.close()
        return start_afresh(self.paths.library_db)

    # --- analysis (issue 3) ------------------------------------------------------------
    @property
    def feature_cache(self):
        with self._lock:
            if getattr(self, "_feature_cache", None) is None:
                from musicrec_engine.features.cache import FeatureCache

                try:
                    self._feature_cache = FeatureCache(self.paths.cache / "features.sqlite3")
                except Exception:  # a full or read-only disk: analyse without the cache, say why in the log
                    import logging

                    logging.getLogger("musicrec.engine").warning("the feature cache cannot be used", exc_info=True)
                    return None
            return self._feature_cache

    def analyze(self, paths, jobs: int | None = None, progress: Progress | None = None,
                cancel: threading.Event | None = None, window: str = "full"):
        """Analyse files and folders (cached by content), storing each ok result in the library.

        Yields one AnalysisResult per file as it finishes; bad files are error results."""
        import logging

        from musicrec_engine.analysis.pipeline import analyze_paths

        for result in analyze_paths(paths, jobs=jobs, progress=progress, cancel=cancel, cache=self.feature_cache,
                                    window=window, models_dir=self.paths.models):
            if result.status == "ok":
                try:
                    self.library.store_analysis(result)
                except Exception as e:  # not in the library is not ok; the analysis stays cached for a re-run
                    logging.getLogger("musicrec.engine").exception("could not store %s", result.path)
                    from dataclasses import replace

                    from musicrec_engine.errors import MusicRecError

                    why = str(e) if isinstance(e, MusicRecError) else f"{type(e).__name__}: {e}"
                    result = replace(result, status="error", error=f"analysed, but not stored in the library: {why}")
            yield result

    def track_tags(self, file_or_id, analyse: bool = True) -> dict:
        """What the listening model heard in a library track (by id or path), or in a file, which is
        analysed and added to the library first when it is not there yet (`analyse`): {"track_id",
        "path", "tags": {"msd": {tag: prob}, "mtt": {...}}, "schema", "error"}. Raises MusicRecError
        when the file cannot be analysed."""
        from musicrec_engine.errors import MusicRecError
        from musicrec_engine.library import heard_tags as tagstore

        t = self.library.track(file_or_id)
        error = None
        if (t is None or t["status"] != "ok" or not tagstore.track_tags(self.library, t["id"])) and analyse \
                and not isinstance(file_or_id, int):
            result = next(iter(self.analyze([file_or_id], jobs=1)), None)
            if result is None:
                raise MusicRecError(f"{file_or_id}: not an audio file")
            if result.status != "ok":
                raise MusicRecError(f"{file_or_id}: {result.error}")
            error = result.listening_error
            t = self.library.track(result.path)
        if t is None:
            raise MusicRecError(f"{file_or_id}: not in the library; analyse it first (musicrec analyze PATH)")
        return {"track_id": t["id"], "path": t["path"], "tags": tagstore.track_tags(self.library, t["id"]),
                "schema": tagstore.listening_schema(self.library, t["id"]), "error": error}

    @staticmethod
    def listening_model_info() -> dict:
        """The shipped listening model's manifest (name, version, upstream, licence, licence_text),
        {} when it is missing: for credits."""
        import json

        from musicrec_engine.paths import SHIPPED_MODELS

        try:
            return json.loads((SHIPPED_MODELS / "musicnn" / "manifest.json").read_text())
        except (OSError, ValueError):
            return {}

    def tag_vocabulary(self) -> dict[str, list[str]]:
        """Every tag the listening model can give, per vocabulary ("msd", "mtt")."""
        from musicrec_engine.library import heard_tags as tagstore

        return tagstore.vocabulary()

    def features(self, path, pipeline: str = "mfcc", window: str = "full") -> dict:
        """One file's named feature vector: {"pipeline", "version", "schema_hash", "names", "values"}."""
        from musicrec_engine.analysis.pipeline import file_features

        return file_features(path, pipeline, window=window, cache=self.feature_cache)


    # --- similarity (issue 6) ----------------------------------------------------------
    @property
    def similarity(self):
        with self._lock:
            if getattr(self, "_similarity", None) is None:
                from musicrec_engine.search.similarity import Similarity

                self._similarity = Similarity(self.library, self.paths.data / "index",
                                              getattr(self, "_similarity_weights", None))
            return self._similarity

    def set_similarity_weights(self, weights: dict[str, float] | None) -> None:
        """Per-attribute weights of the attribute space (seed 000's feature weighting); unknown
        names are ignored. Catalog indexes are cached per weighting, so switching back is cheap."""
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
                from musicrec_engine.library.scan import read_tags

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

    # --- taste (issue 7) ---------------------------------------------------------------
    TASTE_SLOT = "library"

    @property
    def taste_store(self):
        from musicrec_engine.taste.model import ModelStore

        return ModelStore(self.paths.models)

    def rate(self, path_or_id, value) -> dict:
        """Like (1), dislike (0) or clear (None) a library track by path or id. A rating makes the
        taste model stale; taste_status() says so until train_taste() runs."""
        from musicrec_engine.errors import MusicRecError, UsageError

        if value not in (1, 0, None) or isinstance(value, float):
            raise UsageError("a rating is like (1), dislike (0) or clear (None)")
        t = self.library.track(path_or_id)
        if t is None:
            raise MusicRecError(f"{path_or_id}: not in the library; analyse it first (musicrec analyze PATH)")
        self.library.set_rating(t["id"], value)
        return {**t, "rating": value}

    def _taste_training_rows(self):
        """Rated library and catalog tracks in the taste space, their labels, artists and fingerprint."""
        from musicrec_engine.taste.features import encode_taste_rows
        from musicrec_engine.taste.model import ratings_fingerprint

        rows = self.library.rating_rows()
        lib_ids = [r["id"] for r in rows if r["source"] == "library"]
        cat_ids = [r["id"] for r in rows if r["source"] == "catalog"]
        years = {("library", t["id"]): t.get("year") for t in self.library.tracks(include_missing=True, ids=lib_ids)}
        if cat_ids:
            years.update({("catalog", t["id"]): t.get("year") for t in self.library.catalog_tracks(ids=cat_ids)})
        enc = encode_taste_rows(rows, [years.get((r["source"], r["id"])) for r in rows])
        fp = ratings_fingerprint(f"{r['source']}:{r['id']}:{r['rating']}" for r in rows)
        return enc, [r["rating"] for r in rows], [r.get("artist") for r in rows], fp

    def train_taste(self, progress: Progress | None = None, cancel: threading.Event | None = None,
                    params: dict | None = None) -> dict:
        """Train on every rating (library and catalog), save, and refresh the library's predictions.
        A failed or cancelled training raises and leaves the last good model in place."""
        from musicrec_engine.taste.model import TasteModel

        with self._lock:
            if getattr(self, "_taste_training", False):
                from musicrec_engine.errors import MusicRecError

                raise MusicRecError("the taste model is already being trained")
            self._taste_training = True
        try:
            enc, y, artists, fp = self._taste_training_rows()
            model = TasteModel.train(enc, y, params, artists=artists, fingerprint=fp, source="library+catalog",
                                     progress=progress, cancel=cancel)
            self.taste_store.save(model, self.TASTE_SLOT)
            self._taste_model = model
            predicted = self.predict_like()
            # catalog rows too, so album suggestions follow the new model (cancel stops only this part)
            catalog = self.predict_catalog(progress=progress, cancel=cancel)
            return {"mode": model.mode, "description": model.describe(), "accuracy": model.accuracy,
                    "ratings": len(y), "predicted": len(predicted), "catalog_predicted": catalog,
                    "seconds": model.manifest["training"]["seconds"]}
        finally:
            self._taste_training = False

    def taste_model(self):
        """The saved taste model (None before the first training)."""
        with self._lock:
            m = getattr(self, "_taste_model", None)
            if m is None:
                m = self._taste_model = self.taste_store.load(self.TASTE_SLOT)
            return m

    def taste_status(self) -> dict:
        """{"state": untrained|training|stale|cold-start|ready, "accuracy" (cross-validated, for artists
        the user has rated and for artists they have not), "description", "ratings"}."""
        from musicrec_engine.taste.model import TasteModel, ratings_fingerprint

        rows = self.library.rating_rows()
        out = {"ratings": len(rows), "likes": sum(r["rating"] == 1 for r in rows),
               "accuracy": {"rated_artists": None, "new_artists": None},
               "description": None}
        if getattr(self, "_taste_training", False):
            return {**out, "state": "training"}
        model = getattr(self, "_taste_model", None)
        manifest = model.manifest if model is not None else self.taste_store.manifest(self.TASTE_SLOT)
        if manifest is None:
            return {**out, "state": "untrained", "description": "no taste model yet: rate some tracks, then train"}
        described = TasteModel(manifest)  # the manifest alone describes it; weights stay on disk
        out.update(accuracy=described.accuracy, description=described.describe(), mode=manifest["mode"])
        fp = ratings_fingerprint(f"{r['source']}:{r['id']}:{r['rating']}" for r in rows)
        if fp != manifest["training"].get("ratings_fingerprint"):
            return {**out, "state": "stale"}
        return {**out, "state": "cold-start" if manifest["mode"] == "cold-start" else "ready"}

    def explain_taste(self, out_dir=None):
        """The model's Explanation; with `out_dir`, also seed 004's CSV files written there."""
        from musicrec_engine.errors import MusicRecError

        model = self.taste_model()
        if model is None:
            raise MusicRecError("no taste model yet: rate some tracks, then run 'musicrec taste train'")
        expl = model.explain()
        if out_dir is not None:
            expl.write_csvs(out_dir)
        return expl

    def predict_like(self, track_ids=None) -> dict[int, float]:
        """p(like) for library tracks (all by default), also stored as their predicted_like."""
        from musicrec_engine.taste.features import encode_taste_rows

        model = self.taste_model()
        if model is None:
            return {}
        tracks = self.library.tracks(ids=track_ids) if track_ids is not None else self.library.tracks()
        tracks = [t for t in tracks if t.get("attributes")]
        if not tracks:
            return {}
        p = model.predict_proba(encode_taste_rows(tracks))
        probs = {t["id"]: float(v) for t, v in zip(tracks, p, strict=True) if v == v}
        self.library.set_predictions(probs)
        return probs

    def predict_catalog(self, catalog_id: int | None = None, progress: Progress | None = None,
                        cancel: threading.Event | None = None, chunk: int = 100_000) -> int:
        """p(like) for catalog tracks, stored as their predicted_like; returns how many were scored."""
        from musicrec_engine.taste.features import encode_taste_rows

        model = self.taste_model()
        if model is None:
            return 0
        cats = [c for c in self.library.catalogs() if catalog_id is None or c["id"] == catalog_id]
        total, done = sum(int(c["row_count"] or 0) for c in cats), 0
        for c in cats:
            offset = 0
            while not (cancel is not None and cancel.is_set()):
                rows = self.library.catalog_tracks(c["id"], limit=chunk, offset=offset)
                if not rows:
                    break
                p = model.predict_proba(encode_taste_rows(rows))
                self.library.set_catalog_predictions({r["id"]: float(v) for r, v in zip(rows, p, strict=True)
                                                      if v == v})
                offset += len(rows)
                done += len(rows)
                if progress:
                    progress(done, total, f"scored {done} catalog tracks")
        return done


    # --- albums and MusicBrainz (issue 8) ----------------------------------------------
    MB_SETTINGS_KEYS = ("host", "rate", "contact", "offline")

    def musicbrainz_settings(self, **overrides):
        """Saved settings < MUSICREC_MB_HOST/RATE/CONTACT < overrides (None = not given)."""
        import json

        from musicrec_engine.online import musicbrainz as mbz

        f = self.paths.config / "musicbrainz.json"
        saved = {}
        if f.is_file():
            try:
                saved = {k: v for k, v in json.loads(f.read_text()).items() if k in self.MB_SETTINGS_KEYS}
            except (OSError, ValueError):
                saved = {}  # a damaged settings file means defaults, not a crash
        return mbz.Settings.from_env(mbz.Settings(**saved), **overrides)

    def save_musicbrainz_settings(self, **values) -> None:
        import json
        import os

        unknown = set(values) - set(self.MB_SETTINGS_KEYS)
        if unknown:
            raise ValueError(f"unknown MusicBrainz setting(s): {', '.join(sorted(unknown))}")
        f = self.paths.config / "musicbrainz.json"
        current = json.loads(f.read_text()) if f.is_file() else {}
        current.update({k: v for k, v in values.items() if v is not None})
        f.with_suffix(".tmp").write_text(json.dumps(current, indent=1))
        os.replace(f.with_suffix(".tmp"), f)

    def musicbrainz(self, **overrides):
        from musicrec_engine.online.musicbrainz import MusicBrainz

        return MusicBrainz(self.musicbrainz_settings(**overrides), cache=self.library)

    def cover_art(self):
        with self._lock:
            if getattr(self, "_cover_art", None) is None:
                from musicrec_engine.online.coverart import CoverArt

                s = self.musicbrainz_settings()
                self._cover_art = CoverArt(self.paths.cache / "covers", interval=s.interval, contact=s.contact)
            return self._cover_art

    def albums(self, source: str = "all", thresholds=None, progress: Progress | None = None,
               cancel: threading.Event | None = None, **mb_overrides) -> dict:
        """Ranked albums from the library, catalogs and MusicBrainz. `all` never goes online: it
        adds MusicBrainz albums only from the cache; `musicbrainz` searches from your liked artists."""
        from musicrec_engine.albums import scoring as alb
        from musicrec_engine.errors import UsageError

        if source not in ("library", "catalog", "musicbrainz", "all"):
            raise ValueError(f"unknown album source {source!r}: use library, catalog, musicbrainz or all")
        th = (thresholds or alb.Thresholds()).check()
        lib_rows, (cat_rows, totals) = self._album_library_rows(), self._scored_catalog_rows()
        found = []
        if source in ("library", "all"):
            found += alb.library_albums(lib_rows)
        if source in ("catalog", "all"):
            found += alb.catalog_albums(cat_rows, totals)
        disc = None
        if source in ("musicbrainz", "all"):
            if source == "all":
                mb_overrides["offline"] = True
            seeds = alb.seed_artists(lib_rows + cat_rows, th)
            if seeds or source == "musicbrainz":
                if not seeds:
                    raise UsageError("no liked tracks to start from: like some tracks, or use 'albums search "
                                    "--artist NAME'")
                client = self.musicbrainz(**mb_overrides)
                disc = alb.discover(client, alb.TrackIndex(lib_rows + cat_rows), th, seeds=seeds,
                                    progress=progress if source == "musicbrainz" else None, cancel=cancel,
                                    rates=self.metadata_like_rates())
                found += disc.albums
        return self._album_report(found, th, disc, lib_rows + cat_rows, client if disc else None)

    def search_albums(self, artist: str | None = None, tag: str | None = None, years=None, thresholds=None,
                      progress: Progress | None = None, cancel: threading.Event | None = None,
                      **mb_overrides) -> dict:
        """MusicBrainz albums by artist/tag/years (or, with neither, your liked artists), scored."""
        from musicrec_engine.albums import scoring as alb
        from musicrec_engine.errors import UsageError

        th = (thresholds or alb.Thresholds()).check()
        rows = self._album_library_rows() + self._scored_catalog_rows()[0]
        seeds = [] if (artist or tag) else alb.seed_artists(rows, th)
        if not (artist or tag or seeds):
            raise UsageError("nothing to search for: give --artist or --tag, or like some tracks first")
        client = self.musicbrainz(**mb_overrides)
        disc = alb.discover(client, alb.TrackIndex(rows), th, seeds=seeds, artist=artist, tag=tag, years=years,
                            progress=progress, cancel=cancel, rates=self.metadata_like_rates())
        return self._album_report(disc.albums, th, disc, rows, client)

    def _scored_catalog_rows(self):
        from musicrec_engine.albums.scoring import scored_catalog_rows

        return scored_catalog_rows(self.library.iter_catalog_tracks())

    def _album_library_rows(self) -> list[dict]:
        """Library tracks with like-probabilities: tracks analysed since the taste model was trained
        get theirs now (catalog predictions come from predict_catalog). Loading the model imports
        torch (seconds), so it happens only when a track lacks a prediction and a model was saved."""
        rows = self.library.tracks()
        missing = [t["id"] for t in rows if t.get("attributes") and t.get("predicted_like") is None]
        slot = getattr(self, "TASTE_SLOT", None)  # the taste section (issue 7) and its ModelStore layout
        if missing and slot and (self.paths.models / f"taste-{slot}" / "current.json").is_file():
            self.predict_like(missing)
            rows = self.library.tracks()
        return rows

    def _album_report(self, found, th, disc, rows, client=None) -> dict:
        from musicrec_engine.albums import scoring as alb

        scores = alb.rank(alb.without_duplicates(found), th)
        covers = self.cover_art()
        albums = [s.to_dict() for s in scores]
        for a in albums:
            a["cover_url"] = covers.url(a["release_id"]) if a.get("release_id") else None
        out = {"albums": albums,
               "thresholds": {k: getattr(th, k) for k in th.__dataclass_fields__},
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


    # --- learned attributes (issue 5) ---------------------------------------------------
    def attribute_models(self) -> list[dict]:
        """Learned-attribute models found: used (attributes, metrics) or refused (one-sentence reason)."""
        from musicrec_engine import features
        from musicrec_engine.attributes import learned

        return learned.status({p: features.schema(p).hash for p in features.PIPELINES}, self.paths.models)

    def train_attributes(self, labels_csv: str | Path, audio_dir: str | Path | None = None, budget: int | None = None,
                         progress: Progress | None = None, cancel: threading.Event | None = None,
                         report_dir: str | Path | None = None, warn: Callable[[str], None] | None = None) -> dict:
        """Train seed 000's stacking ensemble on a label file; returns the manifest plus the model path,
        warnings and report files. A bad label file raises MusicRecError with its reason; the last
        good model stays in place. `warn(sentence)` hears each warning as it comes."""
        from musicrec_engine.analysis.pipeline import analyze_file
        from musicrec_engine.attributes import learned
        from musicrec_engine.attributes.training import train as training

        # training reads rows named by artist + title from the analysed library, if there is one
        library = self.library if self.paths.library_db.exists() else None
        result, path, warnings = training.train_from_labels(
            Path(labels_csv), self.paths.models, analyze_file, library, Path(audio_dir) if audio_dir else None,
            training.DEFAULT_BUDGET if budget is None else budget,
            Path(report_dir) if report_dir else self.paths.data / "reports" / "attributes", progress, cancel, warn)
        learned.forget_loaded()
        return dict(result.manifest, model=str(path), warnings=warnings, report=result.report_files)

    # --- demo library (issue 9) ----------------------------------------------------------
    def make_demo_library(self, progress: Progress | None = None, cancel: threading.Event | None = None):
        """Generate a few short tagged tracks in the data folder and analyse them (yields results)."""
        from musicrec_engine.library import demo

        return demo.make_library(self, progress=progress, cancel=cancel)
