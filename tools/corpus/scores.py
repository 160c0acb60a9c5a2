"""Scores from music21's offline corpus (Bach chorales) with keys read from the notation.

Ground truth never comes from a key-finding algorithm: the key is the key signature (or the
encoded <key> with its mode) confirmed by the final bass note, which in a chorale is the tonic.
A signature that is one flat short of a minor key (Baroque "Dorian" notation, e.g. G minor with
one flat) counts as minor when the final bass note says so; pieces whose final note fits none
of these readings (modal chorales) or whose signature changes are left out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

# GM programs that suit four-part chorale textures.
VOICE_PROGRAMS = [0, 6, 19, 20, 21, 40, 41, 42, 48, 49, 52, 56, 68, 70, 71, 73]


class ScoreSkipped(ValueError):
    """A score with no reliable ground truth or no usable metre; the reason is the message."""


@dataclass
class ScoreTruth:
    name: str
    key: int
    mode: int
    beats_per_bar: int
    quarter_length: float  # whole piece, in quarter notes
    metre: str = ""  # as notated, e.g. "6/8"
    beat_ql: float = 1.0  # quarter notes per beat: 1.5 in 6/8, 2 in 2/2


def available() -> str | None:
    try:
        import music21  # noqa: F401
    except ImportError:
        return "music21 is not installed (it is in the 'dev' extra)"
    return None


def chorale_paths() -> list[Path]:
    from music21 import corpus

    return sorted(p for p in corpus.getComposer("bach") if p.suffix in (".mxl", ".xml", ".krn"))


def chorale_id(path: Path) -> int:
    """A stable number for a chorale from its file name alone (not its position in the corpus list)."""
    return int.from_bytes(hashlib.sha256(Path(path).name.encode()).digest()[:4], "big")


def chorale_half(path: Path) -> int:
    """0 or 1: which half of the chorales a file belongs to (tuning 0, held-out 1), by its name's hash.

    Hashing the name, not drawing per seed, keeps the halves disjoint whatever seeds or counts
    are asked for, and stable when music21 adds files.
    """
    return chorale_id(path) % 2


def truth(score, name: str, any_metre: bool = False) -> ScoreTruth:
    """The key (signature confirmed by the final bass note) and metre of a score; ScoreSkipped
    when either is unreliable. Only x/4 metres unless `any_metre` (then the beat may be a dotted
    quarter or a half note: see beat_ql)."""
    from music21 import key as m21key
    from music21 import meter

    sigs = list(score.parts[0].recurse().getElementsByClass(m21key.KeySignature))
    if not sigs:
        raise ScoreSkipped("no key signature")
    if len({s.sharps for s in sigs}) > 1:
        raise ScoreSkipped("key signature changes")
    sig = sigs[0]
    times = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not times or len({t.ratioString for t in times}) > 1 or (times[0].denominator != 4 and not any_metre):
        raise ScoreSkipped("metre is not a fixed x/4" if not any_metre else "metre changes")
    bass_notes = list(score.parts[-1].flatten().notes)
    if not bass_notes:
        raise ScoreSkipped("empty bass part")
    last = bass_notes[-1]
    final_pc = (min(last.pitches).pitchClass if hasattr(last, "pitches") else last.pitch.pitchClass)
    major_tonic = (7 * sig.sharps) % 12
    if isinstance(sig, m21key.Key) and sig.mode in ("major", "minor") and sig.tonic.pitchClass == final_pc:
        k, m = sig.tonic.pitchClass, 1 if sig.mode == "major" else 0
    elif final_pc == major_tonic:
        k, m = final_pc, 1
    elif final_pc in ((major_tonic + 9) % 12, (major_tonic + 2) % 12):
        k, m = final_pc, 0
    else:
        raise ScoreSkipped("final bass note fits no major or minor reading of the signature (modal)")
    beat = float(times[0].beatDuration.quarterLength) if any_metre else 1.0
    return ScoreTruth(name, int(k), int(m), int(times[0].beatCount if any_metre else times[0].numerator),
                      float(score.highestTime), times[0].ratioString, beat)


def to_midi(path: Path, out: Path, bpm: float, rng: np.random.Generator) -> ScoreTruth:
    """Parse a corpus score, write it as MIDI at `bpm` (quarter notes) with random GM voices."""
    from music21 import converter

    score = converter.parse(str(path))
    t = truth(score, Path(path).stem)
    write_midi(score, out, bpm, rng)
    return t


def write_midi(score, out: Path, bpm: float, rng: np.random.Generator) -> None:
    """A parsed score as MIDI at `bpm` quarter notes a minute with random GM voices."""
    score.write("midi", fp=str(out))
    _retime_and_voice(out, bpm, rng)


def _retime_and_voice(midi_path: Path, bpm: float, rng: np.random.Generator) -> None:
    """One tempo for the whole file and one GM program per channel (music21 writes piano)."""
    mid = mido.MidiFile(str(midi_path))
    programs: dict[int, int] = {}
    for i, track in enumerate(mid.tracks):
        kept, carry = [], 0
        for msg in track:
            if msg.type in ("set_tempo", "program_change"):
                carry += msg.time  # dropping a message must not shift the ones after it
                continue
            kept.append(msg.copy(time=msg.time + carry))
            carry = 0
        channels = sorted({m.channel for m in kept if m.type == "note_on"} - {9})
        head = []
        if i == 0:
            head.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
        for ch in channels:
            programs.setdefault(ch, int(rng.choice(VOICE_PROGRAMS)))
            head.append(mido.Message("program_change", channel=ch, program=programs[ch], time=0))
        track[:] = head + kept
    mid.save(str(midi_path))
