"""The taste area of the facade: ratings, the taste model, and its predictions."""

from __future__ import annotations

import threading
from collections.abc import Callable

from musicrec_engine.jobs import Progress


class TasteArea:
    TASTE_SLOT = "library"  # the model trained on the library's ratings (taste.model.ModelStore slot)
    AB_SLOT = "acousticbrainz"  # the model trained on the album recommender's AcousticBrainz feature CSV

    @staticmethod
    def parse_taste_context(text: str) -> tuple[str, ...]:
        """The context a taste net may learn from besides the sound, as written on a command line:
        some of artist,label,genre (comma-separated), or 'none'. Anything else raises UsageError."""
        from musicrec_engine.errors import UsageError
        from musicrec_engine.taste.context import FIELDS

        ctx = () if text.strip().lower() == "none" else tuple(c.strip().lower() for c in text.split(",") if c.strip())
        if set(ctx) - set(FIELDS):
            raise UsageError(f"--context takes some of {','.join(FIELDS)} or 'none', not '{text}'")
        return ctx

    @staticmethod
    def tempo_bands() -> list[tuple[float | None, float | None]]:
        """The tempo bands the taste and attribute spaces use ("tempo_bin=N" is band N), each as
        (lowest BPM, BPM where the next band starts); None where a band is open-ended."""
        from musicrec_engine.attributes import TEMPO_BIN_EDGES

        edges = [None, *TEMPO_BIN_EDGES, None]
        return list(zip(edges[:-1], edges[1:], strict=True))

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

    def rate_catalog_track(self, catalog_track_id: int, value) -> None:
        """Like (1), dislike (0) or clear (None) a catalog track."""
        from musicrec_engine.errors import UsageError

        if value not in (1, 0, None) or isinstance(value, float):
            raise UsageError("a rating is like (1), dislike (0) or clear (None)")
        self.library.set_catalog_rating(int(catalog_track_id), value)

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
        from musicrec_engine.errors import MusicRecError
        from musicrec_engine.taste.model import TasteModel

        with self._lock:
            if self._taste_training:
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

    def train_taste_on_ab_csv(self, features_csv, ratings_csv=None, params: dict | None = None,
                              progress: Progress | None = None, cancel: threading.Event | None = None,
                              warn: Callable[[str], None] | None = None) -> dict:
        """Train the taste variant of the album recommender's AcousticBrainz feature CSV, labelled
        by `ratings_csv` (mbid, liked) or by the file's own liked column; saved in its own slot,
        apart from the library's model. Each row left out is reported through `warn` first."""
        from musicrec_engine.taste.model import TasteModel
        from musicrec_engine.taste.ratings import load_ab_training

        data = load_ab_training(features_csv, ratings_csv)
        for msg in data.problems:
            if warn is not None:
                warn(msg)
        model = TasteModel.train(data.enc, data.y, params, artists=data.artists, source=str(features_csv),
                                 progress=progress, cancel=cancel)
        folder = self.taste_store.save(model, self.AB_SLOT)
        return {"mode": model.mode, "description": model.describe(), "accuracy": model.accuracy,
                "ratings": int(len(data.y)), "model": str(folder), "left_out": len(data.problems)}

    def taste_model(self):
        """The saved taste model (None before the first training)."""
        with self._lock:
            if self._taste_model is None:
                self._taste_model = self.taste_store.load(self.TASTE_SLOT)
            return self._taste_model

    def has_taste_model(self) -> bool:
        """Whether a taste model was saved (without loading it: that imports torch)."""
        return self._taste_model is not None or self.taste_store.manifest(self.TASTE_SLOT) is not None

    def taste_status(self) -> dict:
        """{"state": untrained|training|stale|cold-start|ready, "accuracy" (cross-validated, for artists
        the user has rated and for artists they have not), "description", "ratings"}."""
        from musicrec_engine.taste.model import TasteModel, ratings_fingerprint

        rows = self.library.rating_rows()
        out = {"ratings": len(rows), "likes": sum(r["rating"] == 1 for r in rows),
               "accuracy": {"rated_artists": None, "new_artists": None},
               "description": None}
        if self._taste_training:
            return {**out, "state": "training"}
        model = self._taste_model
        manifest = model.manifest if model is not None else self.taste_store.manifest(self.TASTE_SLOT)
        if manifest is None:
            return {**out, "state": "untrained", "description": "no taste model yet: rate some tracks, then train"}
        described = TasteModel(manifest)  # the manifest alone describes it; weights stay on disk
        out.update(accuracy=described.accuracy, description=described.describe(), mode=manifest["mode"])
        fp = ratings_fingerprint(f"{r['source']}:{r['id']}:{r['rating']}" for r in rows)
        if fp != manifest["training"].get("ratings_fingerprint"):
            return {**out, "state": "stale"}
        return {**out, "state": "cold-start" if manifest["mode"] == "cold-start" else "ready"}

    def explain_taste(self, out_dir=None, slot: str | None = None):
        """The model's Explanation; with `out_dir`, also its CSV files (the taste study's layout)
        written there. `slot`: AB_SLOT for the AcousticBrainz variant (default: the library's model)."""
        from musicrec_engine.errors import MusicRecError

        if slot in (None, self.TASTE_SLOT):
            model = self.taste_model()
            if model is None:
                raise MusicRecError("no taste model yet: rate some tracks, then run 'musicrec taste train'")
        else:
            model = self.taste_store.load(slot)
            if model is None:
                raise MusicRecError("no AcousticBrainz taste model yet: run 'musicrec taste train --ab-csv FILE'")
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

    @staticmethod
    def describe_taste_accuracy(summary: dict, who: str) -> str:
        """One accuracy figure of taste_status()["accuracy"] in words: "78% (95% interval 71-84%) for
        artists you have not rated, over 240 ratings"."""
        from musicrec_engine.taste.model import describe_accuracy

        return describe_accuracy(summary, who)

    @staticmethod
    def taste_self_check() -> float:
        """Train a tiny taste net on a made-up separable problem and return its training accuracy:
        proves the bundle's torch training works (the app's --self-test)."""
        import numpy as np

        from musicrec_engine.taste.features import Encoded
        from musicrec_engine.taste.model import TasteModel

        rng = np.random.default_rng(0)
        X = rng.normal(size=(80, 6)).astype(np.float32)
        y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
        names = [f"f{i}" for i in range(X.shape[1])]
        enc = Encoded(X=X, names=names, groups={"all": list(range(len(names)))}, schema="selftest")
        model = TasteModel.train(enc, y, params={"epochs": 60}, cv_folds=1)  # no CV: just prove it learns
        if model.mode != "net":
            return 0.0
        return float(((model.predict_proba(X) > 0.5).astype(int) == y).mean())
