"""Album scoring by metadata: how well the user's like-rates per artist, label and tag
(musicrec_engine/albums/metadata.py, what judges a MusicBrainz album none of whose recordings we
can hear) predict a rating, next to the taste net on sound (+year) only and on sound plus context.

    python benchmarks/bench_metadata_scoring.py [--data DIR] [--folds 5] [--repeats 3] [--skip-nets]

Seed 004's file (the album recommender's AcousticBrainz CSV with MusicBrainz artist, label and
genre), each recording once. Repeated cross-validation (taste.cv, 95% intervals by the corrected
resampled t) in the two senses the product reports: folds grouped by primary artist ("new
artists": the artist's own like-rate can never help) and stratified folds scored on test rows
whose artist has training ratings ("artists already rated"). Every fold fits the like-rates (and
the nets) on its training rows only. Each fold's p(like) is thresholded at 0.5 for accuracy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.provenance import announce  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "album-recommender"
FEATURES = "liked_and_disliked_tracks_with_acoustic_and_music_brainz_features.csv"


def metadata_fit_predict(Xtr, ytr, Xte, _groups=None) -> np.ndarray:
    """albums/metadata.py's scorer, one test track at a time (its artist, label and genre tag)."""
    from musicrec_engine.albums import metadata

    tr, te = Xtr.context, Xte.context

    def rows(ctx, n, y=None):
        return [{"rating": None if y is None else int(y[i]), "artist": ctx["artist"][i], "label": ctx["label"][i],
                 "genre": ctx["genre"][i]} for i in range(n)]

    def clean(v):
        return None if v is None or (isinstance(v, float) and v != v) else str(v)

    rates = metadata.LikeRates.from_rows(
        {k: clean(v) if k != "rating" else v for k, v in r.items()} for r in rows(tr, len(ytr), ytr))
    out = []
    for r in rows(te, len(Xte)):
        genre = clean(r["genre"]) or ""
        tags = [t for t in metadata.row_tags({"genre": genre})]
        out.append(metadata.score(rates, clean(r["artist"]), None, clean(r["label"]), tags).probability)
    return np.array(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-nets", action="store_true", help="only the metadata scorer (seconds, not minutes)")
    args = ap.parse_args()
    announce(args)
    if not (args.data / FEATURES).is_file():
        print(f"the album recommender's file is not in {args.data}; nothing to measure")
        return 1
    from musicrec_engine.taste.bench import bench

    from musicrec_engine.taste.cv import cross_validate
    from musicrec_engine.taste.net import TasteParams
    from musicrec_engine.taste.ratings import load_ab_training

    d = load_ab_training(args.data / FEATURES)
    X = d.enc.rows()
    print(f"# {len(d.y)} rated recordings ({int(d.y.sum())} liked); context columns: {sorted(X.context or {})}")
    print("\n| model | kind | accuracy [95% interval] | ROC AUC [95% interval] | majority | rows scored | CPU s |")
    print("|---|---|---|---|---|---|---:|")
    for kind in ("artist", "stratified"):
        todo = [("metadata only (artist, label, genre like-rates)", None)]
        if not args.skip_nets:
            todo += [("net, sound + year only", TasteParams(context=())), ("net, sound + context", TasteParams())]
        for name, params in todo:
            c0 = time.process_time()
            if params is None:
                m = cross_validate(X, d.y, metadata_fit_predict, kind, args.folds, d.artists, repeats=args.repeats,
                                   seen_artists_only=kind == "stratified").summary()
            else:
                import torch

                torch.set_num_threads(1)
                m = bench(X, d.y, d.artists, kind, args.folds, params, baseline=False,
                          repeats=args.repeats)["net"]
            lo, hi = m["accuracy_ci95"]
            rlo, rhi = m["roc_auc_ci95"]
            print(f"| {name} | {m['kind']} | {m['accuracy_mean']:.3f} [{lo:.3f}, {hi:.3f}] | "
                  f"{m['roc_auc_mean']:.3f} [{rlo:.3f}, {rhi:.3f}] | {m['majority_accuracy']:.3f} | "
                  f"{m['rows_scored']} | {time.process_time() - c0:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
