"""`musicrec tags FILE`: what the listening model (MusiCNN, MSD and MTT vocabularies) hears in a file.

The file is analysed (and added to the library) first when the library does not know it yet.
"""

from __future__ import annotations

from musicrec_engine.cli.common import emit_json
from musicrec_engine.errors import UsageError

LABELS = {"msd": "MSD (Last.fm tags)", "mtt": "MTT (MagnaTagATune tags)"}


def register(sub) -> None:
    p = sub.add_parser("tags", help="Tags the listening model hears in FILE",
                       description="Tag probabilities from MusiCNN's two models: MSD (Last.fm tags: genres, moods, "
                                   "vocals) and MTT (MagnaTagATune: instruments, voice, tempo, loudness). Analyses "
                                   "FILE first if it is not in the library.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--top", type=int, default=10, metavar="N", help="most probable tags per vocabulary (default 10)")
    p.add_argument("--json", action="store_true", help="every tag's probability, both vocabularies, as JSON")
    p.set_defaults(func=run)


def run(args, where) -> int:
    if args.top < 1:
        raise UsageError("--top must be at least 1")
    from musicrec_engine.engine import Engine

    eng = Engine(args.home)
    try:
        found = eng.track_tags(args.file)
    finally:
        eng.close()
    tags = found["tags"]
    if args.json:
        top = {v: dict(sorted(p.items(), key=lambda kv: -kv[1])[: args.top]) for v, p in tags.items()}
        emit_json({"path": found["path"], "track_id": found["track_id"], "schema": found["schema"],
                   "top": top, "tags": tags, "error": found["error"]})
    else:
        if not tags:
            print(f"no tags for {found['path']}: {found['error'] or 'the listening model did not run'}")
            return 1
        for vocab, probs in tags.items():
            print(LABELS.get(vocab, vocab))
            for tag, p in sorted(probs.items(), key=lambda kv: -kv[1])[: args.top]:
                print(f"  {p:5.2f}  {'#' * int(round(p * 20)):<20}  {tag}")
    return 0 if tags else 1
