"""The repertoire pieces earlier draws used, written as a truth file for `tools.corpus build --not-in`,
when those draws' folders are gone.

    PYTHONPATH=. .venv/bin/python benchmarks/repertoire_replay.py OUT.csv --part repertoire-heldout \
        --plain 0-16 --unheard 17 [--count 96] [--extra OLD/truth.csv ...]

A draw's pieces depend only on its part, seed and count (repertoire.picks), not on its tempo or
rendering, so they can be drawn again without rendering anything. `--plain` seeds were built
without exclusions; each `--unheard` seed was built with `--not-in` everything before it (the plain
seeds and the unheard seeds before it), and is replayed the same way, then also as a plain draw (a
superset: leaving out too much is harmless, too little is not). `--extra` truth files (draws built
since, whose folders exist) are added as they are. Parsing the folk collections takes a few minutes
per seed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools import corpus  # noqa: E402
from tools.corpus import repertoire  # noqa: E402


def seeds(text: str) -> list[int]:
    """"0-16" or "3" or "1,4-6" as a list of seeds."""
    out: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--part", choices=list(repertoire.SOURCES), default="repertoire-heldout")
    ap.add_argument("--plain", type=seeds, default=[], help="seeds built without --not-in, e.g. 0-16")
    ap.add_argument("--unheard", type=seeds, default=[], help="seeds built with --not-in all before them")
    ap.add_argument("--count", type=int, default=96)
    ap.add_argument("--extra", type=Path, nargs="*", default=[], help="truth.csv files to add as they are")
    args = ap.parse_args()
    used: set[str] = set()
    rows: list[dict] = []

    def add(source: str, piece: str, key: int = 0, mode: int = 1, meter: str = "") -> None:
        """One truth row naming a used piece; only `source` matters to --not-in, the rest is what
        read_truth needs to read the file (no audio exists for it)."""
        used.add(source)
        rows.append(dict(path=f"replay/{len(rows)}", part=args.part, set="repertoire", piece=piece, variant="clean",
                         key=key, mode=mode, key_label="", tempo=0, tempo_bin=0, duration=0, drums=0, meter=meter,
                         soundfont="", reverb_s=0, gain_db=0, snr_db="", source=source))

    def draw(seed: int, exclude: set[str]) -> None:
        for src, path, name, _score, t in repertoire.picks(args.part, seed, args.count, frozenset(exclude)):
            source = repertoire.source_name(src, path, name)
            if source not in used:
                add(source, name, t.key, t.mode, t.metre)
        print(f"seed {seed}: {len(used)} pieces so far", file=sys.stderr, flush=True)

    for seed in args.plain:
        draw(seed, set())
    for seed in args.unheard:
        draw(seed, set(used))
        draw(seed, set())
    for extra in corpus.used_scores(args.extra) - used:
        add(extra, extra)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, corpus.FIELDS)
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} pieces in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
