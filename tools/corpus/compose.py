"""Procedurally composed pieces with exact key, mode and tempo, as General MIDI files.

A piece is a chord progression in its key (minor keys take the harmonic-minor dominant, as real
music does), a bass line, an accompaniment (block chords, arpeggios or an Alberti figure), a
melody of chord tones on strong beats and scale steps between, and optionally a drum kit.
Timbres are General MIDI programs, rendered later by fluidsynth. The tempo is the notated
quarter-note beat; the piece is in 4/4 or 3/4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import mido
import numpy as np

MAJOR = [0, 2, 4, 5, 7, 9, 11]
NATURAL_MINOR = [0, 2, 3, 5, 7, 8, 10]
TPB = 480  # MIDI ticks per quarter note

# GM programs (0-based) that sound like the part they play.
CHORD_PROGRAMS = [0, 1, 4, 5, 16, 19, 24, 25, 48, 49, 52, 61, 88, 89]
MELODY_PROGRAMS = [0, 11, 24, 26, 40, 56, 64, 65, 68, 71, 73, 80, 81]
BASS_PROGRAMS = [32, 33, 34, 35, 38, 42, 43]
PROGRESSIONS_MAJOR = [[0, 3, 4, 0], [0, 5, 3, 4], [0, 3, 0, 4], [0, 1, 4, 0], [0, 5, 1, 4], [0, 4, 5, 3]]
PROGRESSIONS_MINOR = [[0, 3, 4, 0], [0, 5, 3, 4], [0, 3, 6, 2], [0, 1, 4, 0], [0, 5, 2, 4], [0, 6, 5, 4]]
DRUM = {"kick": 36, "snare": 38, "hat": 42, "ride": 51}


@dataclass
class PieceSpec:
    key: int  # 0..11
    mode: int  # 1 major, 0 minor
    bpm: float  # quarter notes per minute
    seconds: float
    beats_per_bar: int
    drums: bool
    chord_program: int
    melody_program: int
    bass_program: int
    accompaniment: str  # block | arpeggio | alberti

    def to_dict(self) -> dict:
        return asdict(self)


def random_spec(rng: np.random.Generator, key: int | None = None, mode: int | None = None,
                bpm_range=(60.0, 190.0), seconds_range=(15.0, 45.0)) -> PieceSpec:
    return PieceSpec(
        key=int(rng.integers(0, 12)) if key is None else key,
        mode=int(rng.integers(0, 2)) if mode is None else mode,
        bpm=round(float(rng.uniform(*bpm_range)), 1),
        seconds=round(float(rng.uniform(*seconds_range)), 1),
        beats_per_bar=int(rng.choice([4, 4, 4, 3])),
        drums=bool(rng.random() < 0.5),
        chord_program=int(rng.choice(CHORD_PROGRAMS)),
        melody_program=int(rng.choice(MELODY_PROGRAMS)),
        bass_program=int(rng.choice(BASS_PROGRAMS)),
        accompaniment=str(rng.choice(["block", "arpeggio", "alberti"])),
    )


def _scale(mode: int) -> list[int]:
    return MAJOR if mode == 1 else NATURAL_MINOR


def _chord(mode: int, degree: int) -> list[int]:
    """Semitones above the tonic of the triad on `degree` (0-based), in root position."""
    sc = _scale(mode)
    notes = [sc[(degree + i) % 7] + 12 * ((degree + i) // 7) for i in (0, 2, 4)]
    if mode == 0 and degree == 4:
        notes[1] += 1  # harmonic minor: the dominant has the leading tone
    return notes


class _Track:
    """Absolute-time note events, turned into a MIDI track at the end."""

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


def compose(spec: PieceSpec, rng: np.random.Generator, parts: tuple[str, ...] = PARTS) -> mido.MidiFile:
    """The piece as a type-1 MIDI file; its length covers `spec.seconds` (trim after rendering).

    `parts` keeps only some of the parts, e.g. ("drums",) for a drum track with no key at all.
    """
    sc = _scale(spec.mode)
    tonic = 60 + spec.key if spec.key < 6 else 48 + spec.key  # keep the harmony around middle C
    bpb = spec.beats_per_bar
    n_bars = int(np.ceil(spec.seconds * spec.bpm / 60.0 / bpb)) + 1
    progs = PROGRESSIONS_MAJOR if spec.mode == 1 else PROGRESSIONS_MINOR
    prog = progs[int(rng.integers(0, len(progs)))]

    chords = _Track(0, spec.chord_program)
    melody = _Track(1, spec.melody_program)
    bass = _Track(2, spec.bass_program)
    drums = _Track(9, None)
    mel_pitch = tonic + 12 + sc[int(rng.choice([0, 2, 4]))]

    for bar in range(n_bars):
        start = bar * bpb
        # Phrase ends cadence on the tonic; the last bar of every 8 is I, the one before it V.
        degree = 0 if bar % 8 == 7 else 4 if bar % 8 == 6 else prog[bar % len(prog)]
        triad = [tonic + c for c in _chord(spec.mode, degree)]
        bass_root = tonic - 24 + _chord(spec.mode, degree)[0]
        vel = int(rng.integers(60, 80))
        if spec.accompaniment == "block":
            for b in range(bpb):
                for p in triad:
                    chords.note(p, start + b, 0.9, vel - (0 if b == 0 else 12))
        elif spec.accompaniment == "arpeggio":
            seq = triad + [triad[0] + 12] + triad[::-1][1:]
            for i in range(bpb * 2):
                chords.note(seq[i % len(seq)], start + i * 0.5, 0.5, vel - (0 if i % 2 == 0 else 15))
        else:  # Alberti: low-high-middle-high in eighths
            lo, mid, hi = triad
            for i in range(bpb * 2):
                chords.note([lo, hi, mid, hi][i % 4], start + i * 0.5, 0.5, vel - (0 if i % 2 == 0 else 15))
        for b in range(bpb):
            p = bass_root + (7 if (b % 2 == 1 and rng.random() < 0.4) else 0)
            bass.note(p, start + b, 0.95, 85 if b == 0 else 72)

        # Melody: on each beat one quarter, two eighths or (sometimes) a half note.
        beat = 0.0
        while beat < bpb:
            choice = rng.random()
            if choice < 0.15 and beat + 2 <= bpb:
                durs = [2.0]
            elif choice < 0.55:
                durs = [1.0]
            else:
                durs = [0.5, 0.5]
            for d in durs:
                strong = float(beat).is_integer()
                if strong:  # chord tone nearest the current pitch
                    opts = [p + 12 * o for p in triad for o in (0, 1)]
                    mel_pitch = min(opts, key=lambda p: abs(p - mel_pitch) + rng.random() * 3)
                else:  # a scale step up or down
                    pcs = sorted({(tonic + s) % 12 for s in sc})
                    step = int(rng.choice([-1, 1]))
                    cand = mel_pitch + step
                    while cand % 12 not in pcs:
                        cand += step
                    mel_pitch = cand
                melody.note(mel_pitch, start + beat, d * 0.95, int(rng.integers(75, 100)) + (10 if strong else 0))
                beat += d

        if spec.drums:
            for b in range(bpb):
                t = start + b
                if b == 0 or (bpb == 4 and b == 2):
                    drums.note(DRUM["kick"], t, 0.25, 110)
                if (bpb == 4 and b in (1, 3)) or (bpb == 3 and b in (1, 2)):
                    drums.note(DRUM["snare"], t, 0.25, 95)
                # Hats in eighths up to ~140 BPM, then quarters, as drummers do.
                if spec.bpm < 140:
                    drums.note(DRUM["hat"], t, 0.2, 70)
                    drums.note(DRUM["hat"], t + 0.5, 0.2, 50)
                else:
                    drums.note(DRUM["ride"], t, 0.2, 70)

    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(spec.bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=bpb, denominator=4, time=0))
    mid.tracks.append(meta)
    tracks = {"chords": chords, "melody": melody, "bass": bass, "drums": drums if spec.drums else None}
    for name in PARTS:
        if name in parts and tracks[name] is not None:
            mid.tracks.append(tracks[name].to_midi())
    return mid
