"""Music this project did not compose: scores by people, from music21's offline corpus, rendered
with a SoundFont of their own, for measuring key with ground truth from the notation.

The generated corpus (compose.py) shares its author's habits on both of its parts, however the
parts are split; these pieces share none of them. Two halves, split by composer or collection so
that no composer is on both sides, and each rendered with a SoundFont the other never hears:
  repertoire-tune     Haydn, Corelli, Handel, Schubert, C. P. E. Bach, Weber, Verdi, Clara
                      Schumann, Amy Beach; fiddle tunes from Ryan's Mammoth Collection (FluidR3_GM)
  repertoire-heldout  Mozart, Beethoven, Robert Schumann, Chopin, Joplin, Liliuokalani,
                      J. R. Johnson, lead sheets; Scottish airs (Aird), O'Neill's Irish tunes and
                      the Essen folk songs (TimGM6mb, a SoundFont neither the generated corpus
                      nor the tuning half hears)
Ground truth is the key signature confirmed by the final bass note (scores.truth), so modal
pieces and pieces that end away from their signature's keys are left out. A piece is its first
20..30 s, clean and degraded as in the generated corpus, played with its notated beat (a dotted
quarter in 6/8 and 3/8, a half note in 2/2) at a tempo drawn from 60..140 BPM, and that beat is
its tempo truth. Draws built before 2026-12-03 drew the QUARTER note's tempo from that range
(TEMPO_OF "quarter", still available to rebuild them): a reel in 2/2 then played at a half note
of 30..70 BPM and a jig's dotted quarter at 40..93, a half or a third of the speed such tunes are
danced at, so the truth lay below the range listeners tap in and their running eighths were the
only pulse in it. Modal and
atonal collections (Palestrina, Monteverdi, the Trecento, Webern, Schoenberg) are not used: a
major/minor key is not their truth. Bach is not used: his chorales are the generated corpus's
second set.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

SOURCES = {
    "repertoire-tune": ["haydn", "corelli", "handel", "schubert", "cpebach", "weber", "verdi", "schumann_clara",
                        "beach", "ryansMammoth"],
    "repertoire-heldout": ["mozart", "beethoven", "schumann_robert", "chopin", "joplin", "liliuokalani",
                           "johnson_j_r", "leadSheet", "airdsAirs", "oneills1850", "essenFolksong"],
}
FONTS = {"repertoire-tune": "FluidR3_GM", "repertoire-heldout": "TimGM6mb"}
# At most this many pieces from one composer, or from one collection of folk tunes, so that the
# thousands of tunes do not crowd out the quartets.
PER_SOURCE = 8
PER_COLLECTION = 16
COLLECTIONS = {"ryansMammoth", "airdsAirs", "oneills1850", "essenFolksong"}
BPM_RANGE = (60.0, 140.0)
# What BPM_RANGE is drawn for: the notated beat (the default), or the quarter note (earlier draws).
TEMPO_OF = ("beat", "quarter")
SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn", ".abc")


def source_paths(name: str) -> list[Path]:
    from music21 import corpus

    root = Path(corpus.__file__).parent / name
    return sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES)


def tune_numbers(path: Path) -> list[int]:
    """The X: numbers of the tunes in an ABC file (empty for other formats)."""
    if path.suffix != ".abc":
        return []
    import re

    text = path.read_text(encoding="latin-1")
    return [int(n) for n in re.findall(r"^X:\s*(\d+)", text, flags=re.M)]


def scores_of(path: Path, rng: np.random.Generator | None = None, most: int = 2):
    """Up to `most` (name, score) of a file: one tune of an ABC collection is parsed alone (a
    collection of a thousand tunes takes minutes to parse whole)."""
    from music21 import converter, stream

    numbers = tune_numbers(path)
    if len(numbers) > 1:
        chosen = [numbers[i] for i in (rng.permutation(len(numbers)) if rng is not None else range(len(numbers)))]
        out = []
        for n in chosen[:most]:
            parsed = converter.parse(str(path), number=n)
            out.append((f"{path.stem}-{n}", parsed.scores[0] if isinstance(parsed, stream.Opus) else parsed))
        return out
    parsed = converter.parse(str(path))
    if isinstance(parsed, stream.Opus):
        return [(f"{path.stem}-{i}", s) for i, s in enumerate(parsed.scores)][:most]
    return [(path.stem, parsed)]


def score_named(path: Path, name: str):
    """The score `scores_of` called `name` in that file, parsed again."""
    from music21 import converter, stream

    if len(tune_numbers(path)) > 1:
        parsed = converter.parse(str(path), number=int(name.rsplit("-", 1)[1]))
        return parsed.scores[0] if isinstance(parsed, stream.Opus) else parsed
    return dict(scores_of(path, most=10**6))[name]


def source_name(src: str, path: Path, name: str) -> str:
    """How truth.csv's `source` column names a piece: "collection/file#score"."""
    return f"{src}/{path.name}#{name}"


def picks(part: str, seed: int, count: int, exclude: Collection[str] = ()):
    """(source, path, name, score, truth) for up to `count` pieces of the part, at most PER_SOURCE
    from each composer (PER_COLLECTION from a folk collection), drawn in a seeded order; pieces
    without reliable truth, and those named in `exclude` (as source_name names them), are passed
    over."""
    from tools.corpus import scores

    rng = np.random.default_rng([seed, 7])
    queues = []
    for src in SOURCES[part]:
        paths = source_paths(src)
        queues.append((src, [paths[i] for i in rng.permutation(len(paths))]))
    taken = {src: 0 for src, _ in queues}

    def room(src: str) -> bool:
        return taken[src] < (PER_COLLECTION if src in COLLECTIONS else PER_SOURCE)

    out = []
    # Round-robin over the sources, so a short build still spans composers.
    while len(out) < count and any(q and room(s) for s, q in queues):
        for src, q in queues:
            if len(out) >= count or not q or not room(src):
                continue
            path = q.pop(0)
            try:
                found = scores_of(path, rng)
            except Exception:  # music21 raises many kinds of errors on odd files; draw another
                continue
            for name, score in found:
                if not room(src) or len(out) >= count:
                    break
                if source_name(src, path, name) in exclude:
                    continue
                try:
                    t = scores.truth(score, name, any_metre=True)
                except Exception:
                    continue
                out.append((src, path, name, score, t))
                taken[src] += 1
    return out
