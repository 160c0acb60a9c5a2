"""Procedurally composed pieces with exact key, mode and tempo, as General MIDI files.

A piece is a chord progression in its key, a bass line, an accompaniment figure, a melody of
chord tones on strong beats and scale steps between, and optionally drums. It is written so a
key or tempo finder cannot get by on one habit of the generator:
  - meters 4/4, 3/4 and 6/8 (the beat of 6/8 is the dotted quarter, three eighths), straight or
    swung subdivisions;
  - progressions that start or end away from the tonic and often dwell on the subdominant or
    dominant; phrase-end cadences only on some pieces;
  - minor keys as natural, harmonic or melodic minor (the raised sixth and seventh only where a
    real piece would use them: dominant chord, rising melody);
  - melody, chords and bass each in a drawn register, so the loudest line is not always the tonic's;
  - drums none, sparse (a kick on the bar, a rim click on some beats) or a full kit whose kick
    and snare mark the beats.
Two generator FAMILIES share the key and metre machinery but have their own progressions,
accompaniment figures, drum patterns and timbres: "a" is the tuning family, "b" is held out
(never used while choosing a method or a constant). The tempo is the notated beat: the quarter
note in 4/4 and 3/4, the dotted quarter in 6/8.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import mido
import numpy as np

MAJOR = [0, 2, 4, 5, 7, 9, 11]
NATURAL_MINOR = [0, 2, 3, 5, 7, 8, 10]
HARMONIC_MINOR = [0, 2, 3, 5, 7, 8, 11]
MELODIC_MINOR = [0, 2, 3, 5, 7, 9, 11]  # ascending form; descending lines use the natural form
TPB = 480  # MIDI ticks per quarter note
METERS = {"4/4": (4, 1.0, 2), "3/4": (3, 1.0, 2), "6/8": (2, 1.5, 3)}  # beats/bar, beat length (quarters), subdivisions

# Degrees are 0-based scale steps (0 = I, 3 = IV, 4 = V). Each family has its own tables.
PROGRESSIONS = {
    "a": {
        1: [[0, 3, 4, 0], [0, 5, 3, 4], [0, 3, 0, 4], [3, 3, 0, 4], [3, 4, 0, 0], [5, 3, 0, 4],
            [0, 3, 3, 0], [3, 0, 3, 4], [0, 4, 5, 3]],
        0: [[0, 3, 4, 0], [0, 5, 3, 4], [0, 3, 6, 2], [3, 3, 0, 4], [5, 6, 0, 0], [3, 0, 3, 4],
            [0, 6, 5, 4], [5, 3, 0, 4]],
    },
    "b": {
        1: [[0, 1, 4, 0], [3, 4, 2, 5], [1, 4, 0, 5], [3, 0, 3, 4], [0, 3, 5, 4], [4, 3, 0, 3],
            [3, 3, 0, 0], [5, 3, 4, 0], [0, 2, 3, 4]],
        0: [[0, 3, 4, 0], [3, 4, 0, 5], [5, 2, 4, 0], [3, 3, 0, 4], [0, 6, 5, 6], [3, 6, 2, 4],
            [5, 3, 0, 0], [0, 3, 3, 4]],
    },
}
ACCOMPANIMENTS = {"a": ["block", "arpeggio", "alberti", "pad"], "b": ["strum", "oompah", "broken", "pad"]}
# GM programs (0-based) that sound like the part they play: keys and organs, plucks, pads,
# mallets and bells (percussive, some with inharmonic partials), strings, winds.
PROGRAMS = {
    "a": {"chords": [0, 4, 16, 19, 24, 46, 48, 88, 89, 11, 12],
          "melody": [0, 11, 24, 40, 56, 64, 71, 73, 80, 13, 105],
          "bass": [32, 33, 34, 38, 43]},
    "b": {"chords": [1, 2, 5, 17, 25, 27, 45, 49, 50, 90, 91, 94, 8, 14],
          "melody": [6, 9, 26, 41, 57, 65, 68, 72, 74, 79, 81, 108, 10],
          "bass": [35, 36, 37, 39, 42, 58]},
}
# Kept for other tools that drew from the single old family.
CHORD_PROGRAMS, MELODY_PROGRAMS, BASS_PROGRAMS = (PROGRAMS["a"][p] for p in ("chords", "melody", "bass"))
# A 6/8 beat (dotted quarter) above this is three eighths faster than any jig is played.
MAX_BPM_6_8 = 140.0
DRUM = {"kick": 36, "snare": 38, "rim": 37, "hat": 42, "open_hat": 46, "ride": 51, "shaker": 70, "tom": 45}


@dataclass
class PieceSpec:
    key: int  # 0..11
    mode: int  # 1 major, 0 minor
    bpm: float  # beats per minute (quarter in 4/4 and 3/4, dotted quarter in 6/8)
    seconds: float
    beats_per_bar: int
    drums: bool
    chord_program: int
    melody_program: int
    bass_program: int
    accompaniment: str
    meter: str = "4/4"
    family: str = "a"
    swing: float = 0.5  # where the second subdivision falls, as a fraction of the beat (0.5 straight)
    drum_style: str = "full"  # none | sparse | full
    minor_kind: str = "harmonic"  # natural | harmonic | melodic (minor only)
    progression: list[int] = field(default_factory=lambda: [0, 3, 4, 0])
    cadence: bool = True  # phrase ends on V-I every 8 bars
    melody_octave: int = 0  # melody register relative to one octave above the chords
    chord_octave: int = 0
    bass_octave: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def random_spec(rng: np.random.Generator, key: int | None = None, mode: int | None = None,
                bpm_range=(60.0, 190.0), seconds_range=(15.0, 45.0), family: str = "a",
                bpm: float | None = None) -> PieceSpec:
    key = int(rng.integers(0, 12)) if key is None else key
    mode = int(rng.integers(0, 2)) if mode is None else mode
    bpm = round(float(rng.uniform(*bpm_range)), 1) if bpm is None else float(bpm)
    meter = str(rng.choice(["4/4", "4/4", "3/4", "6/8"]))
    if meter == "6/8" and bpm > MAX_BPM_6_8:
        meter = str(rng.choice(["4/4", "3/4"]))
    bpb = METERS[meter][0]
    drum_style = str(rng.choice(["full", "full", "sparse", "none"]))
    progs = PROGRESSIONS[family][mode]
    return PieceSpec(
        key=key, mode=mode,
        bpm=bpm,
        seconds=round(float(rng.uniform(*seconds_range)), 1),
        beats_per_bar=bpb, drums=drum_style != "none",
        chord_program=int(rng.choice(PROGRAMS[family]["chords"])),
        melody_program=int(rng.choice(PROGRAMS[family]["melody"])),
        bass_program=int(rng.choice(PROGRAMS[family]["bass"])),
        accompaniment=str(rng.choice(ACCOMPANIMENTS[family])),
        meter=meter, family=family,
        swing=float(rng.choice([0.5, 0.5, 0.62, 0.67])) if meter != "6/8" else 0.5,
        drum_style=drum_style,
        minor_kind=str(rng.choice(["natural", "harmonic", "melodic"])),
        progression=[int(d) for d in progs[int(rng.integers(0, len(progs)))]],
        cadence=bool(rng.random() < 0.5),
        melody_octave=int(rng.choice([-1, 0, 0, 1])),
        chord_octave=int(rng.choice([-1, 0, 0, 1])),
        bass_octave=int(rng.choice([0, 0, 1])),
    )


def scale_of(mode: int, minor_kind: str = "natural") -> list[int]:
    if mode == 1:
        return MAJOR
    return {"natural": NATURAL_MINOR, "harmonic": HARMONIC_MINOR, "melodic": MELODIC_MINOR}[minor_kind]


def pitch_classes(spec: PieceSpec) -> set[int]:
    """Every pitch class the piece may sound (the minor forms add their raised 6th/7th)."""
    pcs = {(spec.key + s) % 12 for s in (MAJOR if spec.mode == 1 else NATURAL_MINOR)}
    if spec.mode == 0:
        pcs.add((spec.key + 11) % 12)  # raised 7th of the dominant chord, in every minor form
        if spec.minor_kind == "melodic":
            pcs.add((spec.key + 9) % 12)
    return pcs


def _chord(mode: int, degree: int) -> list[int]:
    """Semitones above the tonic of the triad on `degree` (0-based), in root position."""
    sc = MAJOR if mode == 1 else NATURAL_MINOR
    notes = [sc[(degree + i) % 7] + 12 * ((degree + i) // 7) for i in (0, 2, 4)]
    if mode == 0 and degree == 4:
        notes[1] += 1  # the dominant has the leading tone in every minor form, as real music does
    return notes


class _Track:
    """Absolute-time note events (in quarter notes), turned into a MIDI track at the end."""

    def __init__(self, channel: int, program: int | None):
        self.channel = channel
        self.program = program
        self.events: list[tuple[int, int, mido.Message]] = []

    def note(self, pitch: int, start: float, length: float, velocity: int) -> None:
        t0, t1 = int(round(start * TPB)), int(round((start + length) * TPB))
        pitch = int(np.clip(pitch, 0, 127))
        velocity = int(np.clip(velocity, 1, 127))
        self.events.append((t0, 1, mido.Message("note_on", note=pitch, velocity=velocity, channel=self.channel)))
        self.events.append((max(t1 - 1, t0 + 1), 0, mido.Message("note_off", note=pitch, velocity=0,
                                                                  channel=self.channel)))

    def to_midi(self) -> mido.MidiTrack:
        track = mido.MidiTrack()
        if self.program is not None:
            track.append(mido.Message("program_change", program=self.program, channel=self.channel, time=0))
        now = 0
        for t, _, msg in sorted(self.events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=t - now))
            now = t
        return track


PARTS = ("chords", "melody", "bass", "drums")


class _Grid:
    """Positions in quarter notes for bar / beat / subdivision, with swing on simple meters."""

    def __init__(self, spec: PieceSpec):
        self.bpb, self.beat, self.sub = METERS[spec.meter]
        self.swing = spec.swing if self.sub == 2 else 0.5

    def at(self, bar: int, beat: int, sub: int = 0) -> float:
        frac = (0.0, self.swing)[sub] if self.sub == 2 else sub / 3
        return (bar * self.bpb + beat + frac) * self.beat

    def sub_len(self, sub: int) -> float:
        if self.sub == 3:
            return self.beat / 3
        return self.beat * (self.swing if sub == 0 else 1 - self.swing)


def compose(spec: PieceSpec, rng: np.random.Generator, parts: tuple[str, ...] = PARTS) -> mido.MidiFile:
    """The piece as a type-1 MIDI file; its length covers `spec.seconds` (trim after rendering).

    `parts` keeps only some of the parts, e.g. ("drums",) for a drum track with no key at all.
    """
    g = _Grid(spec)
    tonic = (60 + spec.key if spec.key < 6 else 48 + spec.key) + 12 * spec.chord_octave
    n_bars = int(np.ceil(spec.seconds * spec.bpm / 60.0 / g.bpb)) + 1
    natural = MAJOR if spec.mode == 1 else NATURAL_MINOR
    rising = scale_of(spec.mode, spec.minor_kind)
    prog = spec.progression

    chords = _Track(0, spec.chord_program)
    melody = _Track(1, spec.melody_program)
    bass = _Track(2, spec.bass_program)
    drums = _Track(9, None)
    mel_base = tonic + 12 + 12 * (spec.melody_octave - spec.chord_octave)
    mel_pitch = mel_base + natural[int(rng.choice([0, 2, 4]))]
    beat_q = g.beat

    for bar in range(n_bars):
        degree = prog[bar % len(prog)]
        if spec.cadence and bar % 8 in (6, 7):  # phrase end: V then I
            degree = 4 if bar % 8 == 6 else 0
        rel = _chord(spec.mode, degree)
        triad = [tonic + c for c in rel]
        bass_root = tonic - 24 + rel[0] + 12 * spec.bass_octave - 12 * spec.chord_octave
        vel = int(rng.integers(60, 80))
        _accompany(chords, spec.accompaniment, g, bar, triad, vel)
        for b in range(g.bpb):
            p = bass_root + (7 if (b % 2 == 1 and rng.random() < 0.4) else 0)
            bass.note(p, g.at(bar, b), beat_q * 0.95, 85 if b == 0 else 72)

        # Melody: per beat one long note, or its subdivisions; chord tones on the beat.
        for b in range(g.bpb):
            choice = rng.random()
            if choice < 0.45:
                slots = [(g.at(bar, b), beat_q)]
            else:
                slots = [(g.at(bar, b, s), g.sub_len(s)) for s in range(g.sub)]
            for j, (start, length) in enumerate(slots):
                if j == 0:
                    opts = [p + 12 * o for p in (mel_base - 12 + c for c in rel) for o in (0, 1, 2)]
                    mel_pitch = min(opts, key=lambda p: abs(p - mel_pitch) + rng.random() * 3)
                else:
                    step = int(rng.choice([-1, 1]))
                    sc = rising if step > 0 else natural
                    pcs = {(tonic + s) % 12 for s in sc}
                    cand = mel_pitch + step
                    while cand % 12 not in pcs:
                        cand += step
                    mel_pitch = cand
                melody.note(mel_pitch, start, length * 0.95, int(rng.integers(75, 100)) + (10 if j == 0 else 0))

        if spec.drums:
            _drum_bar(drums, spec, g, bar, rng)

    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(spec.bpm * beat_q), time=0))
    num, den = (6, 8) if spec.meter == "6/8" else (g.bpb, 4)
    meta.append(mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0))
    mid.tracks.append(meta)
    tracks = {"chords": chords, "melody": melody, "bass": bass, "drums": drums if spec.drums else None}
    for name in PARTS:
        if name in parts and tracks[name] is not None:
            mid.tracks.append(tracks[name].to_midi())
    return mid


def _accompany(track: _Track, kind: str, g: _Grid, bar: int, triad: list[int], vel: int) -> None:
    lo, mid, hi = triad
    bar_len = g.bpb * g.beat
    if kind == "pad":  # one sustained chord per bar: no onsets between bar lines
        for p in triad:
            track.note(p, g.at(bar, 0), bar_len * 0.98, vel - 10)
    elif kind == "block":
        for b in range(g.bpb):
            for p in triad:
                track.note(p, g.at(bar, b), g.beat * 0.9, vel - (0 if b == 0 else 12))
    elif kind in ("arpeggio", "alberti", "broken"):
        seq = {"arpeggio": triad + [lo + 12] + [hi, mid], "alberti": [lo, hi, mid, hi],
               "broken": [lo, mid, hi, lo + 12, hi, mid]}[kind]
        i = 0
        for b in range(g.bpb):
            for s in range(g.sub):
                track.note(seq[i % len(seq)], g.at(bar, b, s), g.sub_len(s) * 0.95, vel - (0 if s == 0 else 15))
                i += 1
    elif kind == "strum":  # guitar-like: the chord's notes a few ms apart, down on beats, up on offbeats
        for b in range(g.bpb):
            for s in range(g.sub):
                notes = triad + [lo + 12] if s == 0 else [lo + 12, hi, mid]
                for j, p in enumerate(notes):
                    track.note(p, g.at(bar, b, s) + j * 0.02, g.sub_len(s) * 0.9, vel - (0 if s == 0 else 18))
    elif kind == "oompah":  # bass-chord-chord: low root on the bar's first beat, chords after
        for b in range(g.bpb):
            if b == 0:
                track.note(lo - 12, g.at(bar, 0), g.beat * 0.9, vel)
            else:
                for p in (mid, hi):
                    track.note(p, g.at(bar, b), g.beat * 0.6, vel - 10)
    else:
        raise ValueError(f"unknown accompaniment '{kind}'")


def _drum_bar(track: _Track, spec: PieceSpec, g: _Grid, bar: int, rng: np.random.Generator) -> None:
    """Drums whose kick and snare mark the beats; sparse kits only hint at the bar."""
    bpb = g.bpb
    if spec.drum_style == "sparse":
        track.note(DRUM["kick"], g.at(bar, 0), 0.25, 100)
        for b in range(1, bpb):
            if rng.random() < 0.5:
                track.note(DRUM["rim"] if spec.family == "a" else DRUM["shaker"], g.at(bar, b), 0.2, 60)
        return
    fast = spec.bpm * g.beat >= 150  # quarter notes per minute: drummers thin the hats when fast
    for b in range(bpb):
        if spec.meter == "4/4":
            kick = b in (0, 2) if spec.family == "a" else True  # "b": four on the floor
            snare = b in (1, 3)
        elif spec.meter == "3/4":
            kick, snare = b == 0, b in (1, 2)
        else:  # 6/8: kick on the first dotted quarter, snare on the second
            kick, snare = b == 0, b == 1
        if kick:
            track.note(DRUM["kick"], g.at(bar, b), 0.25, 110)
        if snare:
            track.note(DRUM["snare"], g.at(bar, b), 0.25, 95 if spec.family == "a" else 100)
        cym = DRUM["hat"] if spec.family == "a" else DRUM["ride"]
        if fast and g.sub == 2:
            track.note(cym, g.at(bar, b), 0.2, 70)
        else:
            for s in range(g.sub):
                track.note(cym, g.at(bar, b, s), 0.2, 70 if s == 0 else 50)
        if spec.family == "b" and spec.meter == "4/4" and b == 3 and bar % 4 == 3:
            track.note(DRUM["open_hat"], g.at(bar, b, 1), 0.3, 60)
