#!/usr/bin/env python3
"""Independent ("blind") test-audio generator with exact key / mode / tempo.

Usage:  python blind_corpus.py OUT_DIR --seed N --count K

Writes OUT_DIR/audio/*.flac, OUT_DIR/midi/*.mid, OUT_DIR/chords/*.txt and OUT_DIR/truth.csv.

Tempo convention
  truth tempo = BPM of the counted beat: quarter note in 4/4, 3/4, 2/4; dotted quarter in 6/8, 12/8.
  MIDI encoding: PPQ 480.  Simple meters: one counted beat = 480 ticks, set_tempo = 60e6/bpm.
  Compound meters (6/8, 12/8): one counted beat (dotted quarter) = 720 ticks and
  set_tempo = 60e6/(1.5*bpm), i.e. the MIDI quarter-note tempo is 1.5x the truth tempo.
"""
import argparse
import csv
import math
import os
import random
import shutil
import subprocess
import tempfile

import mido
import numpy as np
import soundfile as sf

SOUNDFONTS = {
    'sf_GMbank': '/usr/share/sounds/sf2/sf_GMbank.sf2',
    'OPL-3_FM': '/usr/share/sounds/sf2/OPL-3_FM_128M.sf2',
}
PPQ = 480
SR = 44100
# Pieces last this many times their usual 22-27 s (--length): the app reads a track over 90 s in stretches.
LENGTH = 1.0

MAJ_NAMES = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B']
MIN_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'G#', 'A', 'Bb', 'B']

# meter -> (counted beats per bar, compound?, ts numerator, ts denominator)
METERS = {
    '4/4': (4, False, 4, 4),
    '3/4': (3, False, 3, 4),
    '2/4': (2, False, 2, 4),
    '6/8': (2, True, 6, 8),
    '12/8': (4, True, 12, 8),
}

# ----------------------------------------------------------------------------- harmony
Q = {
    'maj': [0, 4, 7], 'min': [0, 3, 7], 'dim': [0, 3, 6],
    'dom7': [0, 4, 7, 10], 'maj7': [0, 4, 7, 11], 'm7': [0, 3, 7, 10],
}
# numeral -> (root offset from tonic in semitones, quality)
NUM_MAJOR = {
    'I': (0, 'maj'), 'ii': (2, 'min'), 'iii': (4, 'min'), 'IV': (5, 'maj'), 'V': (7, 'maj'),
    'V7': (7, 'dom7'), 'vi': (9, 'min'), 'Imaj7': (0, 'maj7'), 'ii7': (2, 'm7'),
    'iii7': (4, 'm7'), 'IVmaj7': (5, 'maj7'), 'vi7': (9, 'm7'),
}
NUM_MINOR = {
    'i': (0, 'min'), 'ii°': (2, 'dim'), 'III': (3, 'maj'), 'iv': (5, 'min'), 'V': (7, 'maj'),
    'V7': (7, 'dom7'), 'VI': (8, 'maj'), 'VII': (10, 'maj'), 'i7': (0, 'm7'), 'iv7': (5, 'm7'),
    'IIImaj7': (3, 'maj7'), 'VImaj7': (8, 'maj7'),
}
SEVENTH_MAP = {'I': 'Imaj7', 'ii': 'ii7', 'iii': 'iii7', 'IV': 'IVmaj7', 'V': 'V7', 'vi': 'vi7',
               'i': 'i7', 'iv': 'iv7', 'III': 'IIImaj7', 'VI': 'VImaj7'}

LOOPS_MAJOR = [
    ['I', 'IV', 'I', 'V'], ['I', 'V', 'vi', 'IV'], ['vi', 'IV', 'I', 'V'], ['I', 'vi', 'IV', 'V'],
    ['ii', 'V', 'I', 'I'], ['IV', 'V', 'iii', 'vi'], ['I', 'IV', 'I', 'IV'], ['IV', 'I', 'IV', 'V'],
    ['I', 'iii', 'IV', 'V'], ['I', 'IV', 'V', 'IV'], ['I', 'ii', 'V', 'I'], ['I', 'V', 'IV', 'V'],
    ['I', 'I', 'IV', 'V'], ['I', 'vi', 'ii', 'V'], ['IV', 'I', 'V', 'I'],
]
LOOPS_MINOR = [
    ['i', 'VI', 'III', 'VII'], ['i', 'iv', 'V', 'i'], ['i', 'VII', 'VI', 'V'], ['i', 'iv', 'i', 'V'],
    ['i', 'VI', 'iv', 'V'], ['iv', 'V', 'i', 'i'], ['i', 'iv', 'VII', 'III'], ['i', 'VI', 'VII', 'i'],
    ['i', 'i', 'iv', 'V'], ['VI', 'VII', 'i', 'i'], ['i', 'ii°', 'V', 'i'], ['i', 'III', 'iv', 'V'],
]
CAD_MAJOR = [['IV', 'V'], ['IV', 'V7'], ['ii', 'V7'], ['ii', 'V'], ['V'], ['V7'], ['vi', 'IV', 'V']]
CAD_MINOR = [['iv', 'V'], ['iv', 'V7'], ['VI', 'V7'], ['ii°', 'V7'], ['V7'], ['VI', 'iv', 'V']]


def chord_info(numeral, tonic, mode):
    table = NUM_MAJOR if mode == 1 else NUM_MINOR
    off, qual = table[numeral]
    root = (tonic + off) % 12
    ivs = Q[qual]
    pcs = [(root + i) % 12 for i in ivs]
    if mode == 1:
        scale = [0, 2, 4, 5, 7, 9, 11]
    elif off == 7 or numeral == 'ii°':
        scale = [0, 2, 3, 5, 7, 8, 11]  # harmonic minor over the dominant
    else:
        scale = [0, 2, 3, 5, 7, 8, 10]
    scale = [(tonic + s) % 12 for s in scale]
    return dict(numeral=numeral, root=root, qual=qual, ivs=ivs, pcs=pcs, scale=scale)


def build_progression(rng, mode, m, jazzy):
    """m body chords followed by the final tonic. Body ends with a cadential approach to V."""
    loops = LOOPS_MAJOR if mode == 1 else LOOPS_MINOR
    cads = CAD_MAJOR if mode == 1 else CAD_MINOR
    loopA = rng.choice(loops)
    loopB = rng.choice(loops) if rng.random() < 0.35 else loopA
    cad = list(rng.choice([c for c in cads if len(c) <= max(1, m)]))
    nb = m - len(cad)
    body = []
    k = 0
    while len(body) < nb:
        lp = loopA if (k // 2) % 2 == 0 or loopB is loopA else loopB
        body.extend(lp)
        k += 1
    body = body[:nb]
    if nb >= 8 and rng.random() < 0.5:
        body[7] = 'V'                       # half cadence at the end of the first 8-chord phrase
    if nb >= 12 and rng.random() < 0.4:
        body[8] = 'I' if mode == 1 else 'i'  # new phrase restarts on the tonic
    prog = body + cad + (['I'] if mode == 1 else ['i'])
    if jazzy:
        prog = [SEVENTH_MAP.get(p, p) if i < len(prog) - 1 and rng.random() < (0.35 if p in ('I', 'i') else 0.8) else p
                for i, p in enumerate(prog)]
        prog = [('V7' if p == 'V' else p) for p in prog]
    return prog


# ----------------------------------------------------------------------------- GM programs
P = dict(
    piano=[0, 1, 2], epiano=[4, 5], organ=[16, 17, 18], church=[19], accordion=[21],
    nylon=[24], steel=[25], jazzgtr=[26], cleangtr=[27], mutedgtr=[28], odgtr=[29], distgtr=[30],
    abass=[32], ebass=[33, 34], fretless=[35], slap=[36, 37], synbass=[38, 39],
    strings=[48, 49], synstrings=[50, 51], pizz=[45], harp=[46], choir=[52, 53],
    trumpet=[56], trombone=[57], tuba=[58], horn=[60], brass=[61], synbrass=[62, 63],
    sax=[64, 65, 66], oboe=[68], clarinet=[71], flute=[73], piccolo=[72], recorder=[74],
    panflute=[75], whistle=[78], ocarina=[79], leads=[80, 81, 82, 84, 87], pads=[88, 89, 90, 91, 94],
    vibes=[11], marimba=[12], xylo=[13], harmonica=[22], violin=[40], cello=[42], fiddle=[110],
    banjo=[105], harpsichord=[6], clav=[7], celesta=[8], bassoon=[70],
)


def pick(rng, *groups):
    pool = []
    for g in groups:
        pool.extend(P[g])
    return rng.choice(pool)


LOW_MELODY = {57, 42, 70, 66, 58}     # instruments that should play the tune an octave lower
HIGH_MELODY = {72, 78, 13, 8}        # piccolo, whistle, xylophone, celesta an octave higher

# ----------------------------------------------------------------------------- styles
# Each style: meters (weighted), drums flag, and program pools for bass / comp / lead.
STYLES = {
    'rock':      dict(meters=['4/4'], drums=True),
    'pop':       dict(meters=['4/4'], drums=True),
    'dance':     dict(meters=['4/4'], drums=True),
    'ballad':    dict(meters=['4/4'], drums=True),      # half-time feel
    'shuffle':   dict(meters=['12/8'], drums=True),
    'swing':     dict(meters=['4/4'], drums=True),
    'waltz':     dict(meters=['3/4'], drums=True),
    'ballad68':  dict(meters=['6/8'], drums=True),
    'bossa':     dict(meters=['4/4'], drums=True),
    'reggae':    dict(meters=['4/4'], drums=True),
    'march':     dict(meters=['2/4'], drums=True),
    'polka':     dict(meters=['2/4'], drums=True),
    'funk':      dict(meters=['4/4'], drums=True),
    'piano':     dict(meters=['4/4', '4/4', '3/4'], drums=False),
    'guitar':    dict(meters=['4/4', '4/4', '6/8'], drums=False),
    'strings':   dict(meters=['4/4', '3/4'], drums=False),
    'brass':     dict(meters=['4/4', '4/4', '3/4'], drums=False),
    'solo':      dict(meters=['4/4', '3/4', '6/8'], drums=False),
    'jig':       dict(meters=['6/8'], drums=False),
    'bluesbal':  dict(meters=['12/8'], drums=False),
    'pwaltz':    dict(meters=['3/4'], drums=False),
}


def choose_programs(style, rng):
    s = style
    if s == 'rock':
        return pick(rng, 'ebass', 'synbass'), pick(rng, 'odgtr', 'distgtr', 'cleangtr', 'piano', 'organ'), \
            pick(rng, 'leads', 'sax', 'trumpet', 'odgtr', 'piano', 'organ', 'harmonica')
    if s == 'pop':
        return pick(rng, 'ebass', 'synbass', 'fretless'), pick(rng, 'piano', 'epiano', 'steel', 'cleangtr', 'synstrings'), \
            pick(rng, 'leads', 'flute', 'sax', 'vibes', 'choir', 'trumpet', 'whistle', 'marimba')
    if s == 'dance':
        return pick(rng, 'synbass', 'ebass'), pick(rng, 'pads', 'synstrings', 'piano', 'epiano', 'synbrass'), \
            pick(rng, 'leads', 'synbrass', 'piano', 'choir')
    if s == 'ballad':
        return pick(rng, 'ebass', 'fretless', 'abass'), pick(rng, 'piano', 'epiano', 'nylon', 'steel', 'harp'), \
            pick(rng, 'flute', 'clarinet', 'sax', 'violin', 'oboe', 'choir', 'panflute', 'harmonica', 'ocarina')
    if s == 'shuffle':
        return pick(rng, 'ebass', 'abass'), pick(rng, 'piano', 'organ', 'jazzgtr', 'cleangtr', 'epiano'), \
            pick(rng, 'sax', 'harmonica', 'jazzgtr', 'trumpet', 'organ', 'odgtr')
    if s == 'swing':
        return pick(rng, 'abass'), pick(rng, 'piano', 'jazzgtr', 'epiano', 'vibes'), \
            pick(rng, 'sax', 'trumpet', 'trombone', 'clarinet', 'vibes', 'flute')
    if s == 'waltz':
        return pick(rng, 'abass', 'tuba', 'ebass'), pick(rng, 'accordion', 'piano', 'pizz', 'nylon', 'harpsichord'), \
            pick(rng, 'violin', 'flute', 'accordion', 'clarinet', 'oboe', 'celesta')
    if s == 'ballad68':
        return pick(rng, 'ebass', 'fretless', 'abass'), pick(rng, 'piano', 'steel', 'nylon', 'epiano', 'harp'), \
            pick(rng, 'flute', 'violin', 'sax', 'choir', 'recorder', 'clarinet', 'leads')
    if s == 'bossa':
        return pick(rng, 'abass', 'fretless'), pick(rng, 'nylon', 'piano', 'epiano'), \
            pick(rng, 'flute', 'sax', 'vibes', 'clarinet', 'choir', 'ocarina', 'trumpet')
    if s == 'reggae':
        return pick(rng, 'ebass', 'synbass'), pick(rng, 'cleangtr', 'mutedgtr', 'organ', 'epiano'), \
            pick(rng, 'trumpet', 'sax', 'leads', 'harmonica', 'organ', 'trombone')
    if s == 'march':
        return pick(rng, 'tuba'), pick(rng, 'brass', 'horn', 'trombone'), \
            pick(rng, 'trumpet', 'piccolo', 'clarinet', 'flute')
    if s == 'polka':
        return pick(rng, 'tuba', 'abass'), pick(rng, 'accordion', 'brass', 'piano'), \
            pick(rng, 'clarinet', 'accordion', 'trumpet', 'violin', 'xylo')
    if s == 'funk':
        return pick(rng, 'slap', 'ebass', 'synbass'), pick(rng, 'cleangtr', 'mutedgtr', 'clav', 'epiano'), \
            pick(rng, 'synbrass', 'brass', 'sax', 'leads', 'trumpet')
    if s == 'piano':
        p = pick(rng, 'piano', 'epiano')
        lead = p if rng.random() < 0.6 else pick(rng, 'flute', 'violin', 'clarinet', 'oboe', 'cello')
        return p, p, lead
    if s == 'guitar':
        g = pick(rng, 'nylon', 'steel', 'jazzgtr', 'cleangtr')
        return pick(rng, 'abass', 'ebass', 'fretless'), g, \
            pick(rng, 'flute', 'harmonica', 'violin', 'recorder', 'whistle', 'sax', 'ocarina', 'banjo')
    if s == 'strings':
        c = pick(rng, 'strings', 'synstrings', 'pizz')
        return pick(rng, 'cello'), c, pick(rng, 'violin', 'oboe', 'flute', 'clarinet', 'horn')
    if s == 'brass':
        return pick(rng, 'tuba', 'trombone'), pick(rng, 'brass', 'horn', 'synbrass'), pick(rng, 'trumpet', 'horn', 'sax')
    if s == 'solo':
        return pick(rng, 'abass', 'cello', 'piano', 'fretless'), pick(rng, 'pads', 'church', 'choir', 'harp', 'piano', 'strings', 'organ'), \
            pick(rng, 'flute', 'clarinet', 'oboe', 'violin', 'sax', 'panflute', 'ocarina', 'harmonica', 'trumpet', 'leads', 'bassoon')
    if s == 'jig':
        c = pick(rng, 'accordion', 'steel', 'nylon', 'piano', 'harpsichord')
        return pick(rng, 'abass', 'cello', 'piano'), c, pick(rng, 'fiddle', 'violin', 'flute', 'whistle', 'recorder', 'banjo', 'accordion')
    if s == 'bluesbal':
        p = pick(rng, 'piano', 'epiano', 'organ')
        return pick(rng, 'abass', 'piano', 'fretless'), p, pick(rng, 'sax', 'jazzgtr', 'trumpet', 'harmonica', 'clarinet', 'piano')
    if s == 'pwaltz':
        p = pick(rng, 'piano', 'harpsichord', 'epiano')
        return p, p, (p if rng.random() < 0.5 else pick(rng, 'violin', 'flute', 'cello', 'clarinet'))
    raise ValueError(s)


# ----------------------------------------------------------------------------- patterns
# bass pattern: list of (pos_in_bar, dur, token); tokens R 5 8 3 7 A(approach) L5(5th below)
# comp pattern: list of (pos_in_bar, dur, kind, vel); kinds: V(block) D/U(strum down/up) a<i>(arp index) L(low) T(top) P(pad)
# drum pattern: list of (pos_in_bar, note, vel)
KICK, SNARE, SIDE, CLAP, CHH, PHH, OHH, CRASH, RIDE, BELL = 36, 38, 37, 39, 42, 44, 46, 49, 51, 53
TOM_H, TOM_M, TOM_L, TOM_F, TAMB, COWB, SHAKER, CABASA = 50, 47, 45, 41, 54, 56, 70, 69


def trip(b, k):  # compound-meter eighth position: beat b, eighth k (0..2)
    return b + k / 3.0


class Piece:
    pass


def style_patterns(pc, rng):
    """Return functions bass_pat(bar), comp_pat(bar), drum_pat(bar) for the piece."""
    s, bpb, _comp, bpm = pc.style, pc.bpb, pc.compound, pc.bpm
    fast = bpm > 150
    V = rng.choice  # shorthand

    # ---------------- bass
    if s in ('rock', 'pop'):
        opts = [[(i * 0.5, 0.45, 'R') for i in range(8)],
                [(0, 1, 'R'), (1, 1, 'R'), (2, 1, '5'), (3, 1, 'A')],
                [(0, 1.5, 'R'), (1.5, 0.5, 'R'), (2, 1, '5'), (3, 0.5, '8'), (3.5, 0.5, 'A')],
                [(0, 0.75, 'R'), (0.75, 0.75, 'R'), (1.5, 0.5, 'R'), (2, 0.75, '5'), (2.75, 0.75, '5'), (3.5, 0.5, 'A')]]
        if fast:
            opts = opts[1:3] + [[(0, 2, 'R'), (2, 1.5, '5'), (3.5, 0.5, 'A')]]
        bass = V(opts)
    elif s == 'dance':
        bass = V([[(i + 0.5, 0.4, 'R' if i % 2 == 0 else '8') for i in range(4)],
                  [(i * 0.5, 0.4, 'R' if i % 2 == 0 else '8') for i in range(8)],
                  [(0, 0.5, 'R'), (0.5, 0.5, 'R'), (1.5, 0.5, 'R'), (2, 0.5, '8'), (2.5, 0.5, 'R'), (3.5, 0.5, '5')]])
    elif s == 'ballad':
        bass = V([[(0, 2, 'R'), (2, 1.5, '5'), (3.5, 0.5, 'A')], [(0, 3, 'R'), (3, 1, 'A')],
                  [(0, 1.5, 'R'), (1.5, 0.5, 'R'), (2, 2, '5')]])
    elif s == 'shuffle':
        bass = V([[(trip(b, 0), 0.6, t) for b, t in zip(range(4), ['R', '3', '5', '6'], strict=False)] +
                  [(trip(b, 2), 0.3, t) for b, t in zip(range(4), ['R', '3', '5', '6'], strict=False)],
                  [(b, 0.95, t) for b, t in zip(range(4), ['R', '5', '8', '5'], strict=False)],
                  [(0, 0.6, 'R'), (trip(0, 2), 0.3, 'R'), (1, 0.95, '5'), (2, 0.6, '8'), (trip(2, 2), 0.3, '7'), (3, 0.95, 'A')]])
    elif s == 'swing':
        bass = 'walk'
    elif s in ('waltz', 'pwaltz'):
        bass = V([[(0, 0.95, 'R')], [(0, 0.95, 'R'), (2, 0.9, '5')]])
    elif s == 'ballad68':
        bass = V([[(0, 0.95, 'R'), (1, 0.95, '5')], [(0, 1.6, 'R'), (trip(1, 2), 0.3, 'A')],
                  [(0, 2 / 3, 'R'), (trip(0, 2), 1 / 3, '5'), (1, 0.95, '8')]])
    elif s == 'bossa':
        bass = [(0, 1.4, 'R'), (1.5, 0.45, '5'), (2, 1.4, '5'), (3.5, 0.45, 'R')]
    elif s == 'reggae':
        bass = V([[(0, 0.9, 'R'), (1.5, 0.4, 'R'), (2, 0.9, '3'), (2.75, 0.25, '5'), (3, 0.9, '8')],
                  [(0.5, 0.5, 'R'), (1, 0.9, 'R'), (2, 0.5, '5'), (2.5, 0.5, '8'), (3, 0.5, '5'), (3.5, 0.5, '3')]])
    elif s in ('march', 'polka'):
        bass = [(0, 0.6, 'R'), (1, 0.6, 'L5')]
    elif s == 'funk':
        bass = V([[(0, 0.25, 'R'), (0.75, 0.25, '8'), (1.5, 0.25, 'R'), (1.75, 0.25, '7'), (2.5, 0.25, 'R'), (3, 0.25, '5'), (3.5, 0.25, '8'), (3.75, 0.2, 'A')],
                  [(0, 0.5, 'R'), (0.75, 0.25, 'R'), (1.25, 0.25, '8'), (2, 0.25, 'R'), (2.5, 0.5, '5'), (3.25, 0.25, '7'), (3.5, 0.25, '8')]])
    elif s == 'piano':
        bass = V([[(0, bpb - 0.05, 'R')], [(0, bpb / 2, 'R'), (bpb / 2, bpb / 2, '5')]]) if bpb == 4 else [(0, 2.9, 'R')]
    elif s == 'guitar':
        bass = [(0, 1.9, 'R'), (2, 1.9, '5')] if bpb == 4 else [(0, 0.95, 'R'), (1, 0.95, '5')]
    elif s in ('strings', 'brass'):
        bass = V([[(0, bpb, 'R')], [(0, bpb / 2, 'R'), (bpb / 2, bpb / 2, '5')]] if bpb == 4 else [[(0, bpb, 'R')], [(0, 2, 'R'), (2, 1, '5')]])
    elif s == 'solo':
        bass = [(0, bpb, 'R')]
    elif s == 'jig':
        bass = [(0, 0.6, 'R'), (1, 0.6, '5')]
    elif s == 'bluesbal':
        bass = V([[(0, 0.95, 'R'), (1, 0.95, '5'), (2, 0.95, '8'), (3, 0.95, '5')], [(0, 1.9, 'R'), (2, 1.9, '5')]])
    else:
        raise ValueError(s)

    # ---------------- comp
    if s == 'rock':
        comp_kind = V(['strum8', 'quarters', 'pad'])
        if comp_kind == 'strum8':
            cp = [(i * 0.5, 0.45, 'D' if i % 2 == 0 else 'U', 90 if i % 2 == 0 else 70) for i in range(8)]
        elif comp_kind == 'quarters':
            cp = [(i, 0.9, 'V', 85) for i in range(4)]
        else:
            cp = [(0, 2, 'P', 80), (2, 2, 'P', 75)]
    elif s == 'pop':
        cp = V([[(i * 0.5, 0.45, 'a%d' % k, 75) for i, k in enumerate([0, 1, 2, 3, 2, 1, 2, 3])],
                [(0, 1.5, 'V', 85), (1.5, 1, 'V', 75), (2.5, 1.5, 'V', 80)],
                [(0, 0.5, 'D', 85), (1, 0.5, 'D', 80), (1.5, 0.5, 'U', 70), (2.5, 0.5, 'U', 70), (3, 0.5, 'D', 80), (3.5, 0.5, 'U', 70)]])
    elif s == 'dance':
        cp = V([[(i + 0.5, 0.35, 'V', 85) for i in range(4)], [(0, 4, 'P', 80)],
                [(0, 0.5, 'V', 90), (0.75, 0.5, 'V', 75), (1.5, 0.5, 'V', 80), (2.5, 0.5, 'V', 80), (3.25, 0.5, 'V', 70)]])
    elif s == 'ballad':
        cp = V([[(i * 0.5, 0.9, 'a%d' % k, 65) for i, k in enumerate([0, 1, 2, 3, 4, 3, 2, 1])],
                [(0, 2, 'V', 70), (2, 2, 'V', 65)], [(0, 4, 'P', 70)]])
    elif s == 'shuffle':
        cp = V([[(trip(b, 0), 0.6, 'T', 70) for b in range(4)] + [(trip(b, 2), 0.3, 'T', 80) for b in range(4)],
                [(1, 0.6, 'V', 80), (3, 0.6, 'V', 80), (trip(3, 2), 0.3, 'V', 70)],
                [(0, 4, 'P', 70)]])
    elif s == 'swing':
        cp = V([[(0, 0.6, 'T', 75), (1 + 2 / 3, 0.6, 'T', 85)], [(1, 0.4, 'T', 70), (3, 0.4, 'T', 70)],
                [(0, 1, 'T', 70), (2 + 2 / 3, 1, 'T', 80)]])
    elif s in ('waltz', 'pwaltz'):
        cp = V([[(1, 0.6, 'T', 70), (2, 0.6, 'T', 65)], [(1, 0.9, 'T', 70), (2, 0.9, 'T', 70)]])
    elif s == 'ballad68':
        cp = V([[(k / 3.0, 0.6, 'a%d' % a, 65) for k, a in enumerate([0, 1, 2, 3, 2, 1])],
                [(0, 0.9, 'V', 70), (1, 0.9, 'V', 60)], [(0, 2, 'P', 70)]])
    elif s == 'bossa':
        cp = V([[(0, 0.45, 'T', 70), (0.5, 0.45, 'T', 60), (1.5, 0.45, 'T', 70), (2.5, 0.45, 'T', 65), (3, 0.45, 'T', 60)],
                [(0, 0.9, 'T', 70), (1.5, 0.5, 'T', 65), (2.5, 1, 'T', 70)]])
    elif s == 'reggae':
        cp = V([[(1, 0.25, 'T', 85), (3, 0.25, 'T', 85)],
                [(0.5, 0.25, 'T', 80), (1.5, 0.25, 'T', 80), (2.5, 0.25, 'T', 80), (3.5, 0.25, 'T', 80)]])
    elif s == 'march':
        cp = [(0.5, 0.35, 'T', 75), (1.5, 0.35, 'T', 75)]
    elif s == 'polka':
        cp = [(0.5, 0.3, 'T', 80), (1.5, 0.3, 'T', 80)]
    elif s == 'funk':
        cp = V([[(0.25, 0.15, 'T', 80), (0.75, 0.15, 'T', 70), (1.5, 0.15, 'T', 85), (2.25, 0.15, 'T', 70), (2.75, 0.15, 'T', 80), (3.5, 0.15, 'T', 75)],
                [(0, 0.2, 'T', 85), (0.5, 0.2, 'T', 70), (1.25, 0.2, 'T', 70), (2, 0.2, 'T', 80), (3, 0.2, 'T', 70), (3.75, 0.2, 'T', 75)]])
    elif s == 'piano':
        if bpb == 4:
            cp = V([[(i * 0.5, 0.9, 'a%d' % k, 62) for i, k in enumerate([1, 2, 3, 2, 1, 2, 3, 2])],
                    [(0, 1, 'T', 65), (1, 1, 'T', 58), (2, 1, 'T', 62), (3, 1, 'T', 58)],
                    [(i * 0.5, 0.45, 'a%d' % k, 60) for i, k in enumerate([1, 3, 2, 3, 1, 3, 2, 3])]])
        else:
            cp = V([[(i * 0.5, 0.9, 'a%d' % k, 60) for i, k in enumerate([1, 2, 3, 4, 3, 2])],
                    [(1, 0.9, 'T', 62), (2, 0.9, 'T', 58)]])
    elif s == 'guitar':
        if bpb == 4:
            cp = V([[(0, 1, 'D', 85), (1, 0.5, 'D', 75), (1.5, 0.5, 'U', 65), (2.5, 0.5, 'U', 65), (3, 0.5, 'D', 75), (3.5, 0.5, 'U', 65)],
                    [(i * 0.5, 0.9, 'g%d' % k, 65) for i, k in enumerate([0, 2, 3, 4, 1, 3, 4, 5])],
                    [(0, 1, 'D', 85), (1, 1, 'D', 70), (2, 1, 'D', 80), (3, 0.5, 'D', 70), (3.5, 0.5, 'U', 60)]])
        else:
            cp = V([[(k / 3.0, 0.6, 'g%d' % a, 65) for k, a in enumerate([0, 2, 3, 4, 3, 2])],
                    [(0, 0.6, 'D', 85), (2 / 3, 0.3, 'U', 60), (1, 0.6, 'D', 75), (5 / 3, 0.3, 'U', 60)]])
    elif s == 'strings':
        if pc.progs[1] == 45:  # pizzicato: rhythmic
            cp = [(b, 0.5, 'T', 75) for b in range(bpb)]
        else:
            cp = V([[(0, bpb, 'P', 70)], [(0, bpb / 2, 'P', 70), (bpb / 2, bpb / 2, 'P', 62)]] if bpb == 4 else [[(0, 3, 'P', 70)]])
    elif s == 'brass':
        cp = V([[(0, bpb, 'P', 72)], [(0, 1.5, 'V', 75), (1.5, 0.5, 'V', 65), (2, 2, 'V', 70)]] if bpb == 4 else
               [[(0, 3, 'P', 72)], [(0, 2, 'V', 72), (2, 1, 'V', 62)]])
    elif s == 'solo':
        cp = [(0, bpb, 'P', 58)]
    elif s == 'jig':
        cp = [(trip(0, 2), 0.3, 'T', 65), (trip(1, 2), 0.3, 'T', 65)] if rng.random() < 0.5 else \
             [(trip(0, 1), 0.3, 'T', 55), (trip(0, 2), 0.3, 'T', 65), (trip(1, 1), 0.3, 'T', 55), (trip(1, 2), 0.3, 'T', 65)]
    elif s == 'bluesbal':
        cp = [(trip(b, k), 0.6, 'a%d' % a, 58) for b in range(4) for k, a in enumerate([1, 2, 3])]
    else:
        raise ValueError(s)

    # ---------------- drums
    drum = None
    hat = CHH
    if s in ('rock', 'pop'):
        kick = V([[0, 2], [0, 2, 2.5], [0, 1.5, 2], [0, 0.5, 2, 2.5]])
        sn = SNARE
        hat = V([CHH, CHH, RIDE]) if s == 'rock' else CHH
        hsub = 0.25 if (bpm < 90 and s == 'pop') or bpm < 70 else (1.0 if bpm > 185 else 0.5)
        drum = [(k, KICK, 105) for k in kick] + [(1, sn, 100), (3, sn, 105)] + \
               [(i * hsub, hat, 80 if (i * hsub) % 1 == 0 else 60) for i in range(int(4 / hsub))]
        if s == 'pop' and rng.random() < 0.5:
            drum += [(1, CLAP, 70), (3, CLAP, 70)]
    elif s == 'dance':
        drum = [(b, KICK, 110) for b in range(4)] + [(1, V([CLAP, SNARE]), 95), (3, CLAP, 95)] + \
               [(b + 0.5, OHH, 75) for b in range(4)]
        if bpm < 140:
            drum += [(b + 0.25, CHH, 50) for b in range(4)] + [(b + 0.75, CHH, 50) for b in range(4)]
    elif s == 'ballad':
        kick = V([[0], [0, 2.5], [0, 1.5], [0, 0.75, 2.5]])
        sn = V([SNARE, SIDE])
        hsub = 0.5 if bpm < 150 else 1.0
        drum = [(k, KICK, 95) for k in kick] + [(2, sn, 95)] + \
               [(i * hsub, CHH, 70 if (i * hsub) % 1 == 0 else 50) for i in range(int(4 / hsub))]
    elif s == 'shuffle':
        cym = V([CHH, RIDE])
        drum = [(0, KICK, 100), (2, KICK, 95), (1, SNARE, 100), (3, SNARE, 100)] + \
               [(trip(b, 0), cym, 80) for b in range(4)] + [(trip(b, 2), cym, 60) for b in range(4)]
        if rng.random() < 0.5:
            drum += [(trip(1, 2), KICK, 70)]
    elif s == 'swing':
        drum = [(0, RIDE, 85), (1, RIDE, 90), (1 + 2 / 3, RIDE, 65), (2, RIDE, 85), (3, RIDE, 90), (3 + 2 / 3, RIDE, 65),
                (1, PHH, 70), (3, PHH, 70)] + [(b, KICK, 45) for b in range(4)]
    elif s == 'waltz':
        drum = [(0, KICK, 95), (1, V([SIDE, SNARE]), 70), (2, SIDE if rng.random() < 0.5 else SNARE, 65)] + \
               [(b, V([CHH, RIDE]), 65) for b in range(3)]
    elif s == 'ballad68':
        drum = [(0, KICK, 100), (1, V([SNARE, SIDE]), 95)] + [(k / 3.0, CHH, 75 if k % 3 == 0 else 55) for k in range(6)]
        if rng.random() < 0.5:
            drum += [(trip(1, 2), KICK, 75)]
    elif s == 'bossa':
        shk = V([CHH, SHAKER, CABASA])
        drum = [(0, KICK, 90), (1.5, KICK, 70), (2, KICK, 90), (3.5, KICK, 70)] + \
               [(i * 0.5, shk, 65 if i % 2 == 0 else 50) for i in range(8)]
        clave = V([[0, 1.5, 3, 5, 6.5], [0, 0.75, 1.5, 2.5, 3.5]])
        drum = [('bossa2', drum, clave)]
    elif s == 'reggae':
        drum = [(2, KICK, 105), (2, SIDE, 100)] + [(i * 0.5, CHH, 70 if i % 2 else 55) for i in range(8)]
        if rng.random() < 0.5:
            drum += [(3.5, OHH, 60)]
    elif s == 'march':
        drum = [(0, KICK, 100), (1, KICK, 90), (0.5, SNARE, 70), (1.5, SNARE, 80), (1.75, SNARE, 60), (0, CRASH, 60)]
    elif s == 'polka':
        drum = [(0, KICK, 100), (1, KICK, 95), (0.5, SNARE, 85), (1.5, SNARE, 85), (0.5, CHH, 60), (1.5, CHH, 60)]
    elif s == 'funk':
        kick = V([[0, 0.75, 2.5], [0, 1.75, 2.5], [0, 0.5, 1.75, 2.75], [0, 0.75, 2.25, 3.5]])
        drum = [(k, KICK, 105) for k in kick] + [(1, SNARE, 105), (3, SNARE, 105)] + \
               [(g, SNARE, 32) for g in V([[1.75, 2.25], [0.5, 2.75, 3.25], [1.25, 3.75]])]
        hsub = 0.25 if bpm < 130 else 0.5
        drum += [(i * hsub, CHH, 80 if (i * hsub) % 0.5 == 0 else 55) for i in range(int(4 / hsub)) if i * hsub != 3.5] + [(3.5, OHH, 70)]

    return bass, cp, drum


# ----------------------------------------------------------------------------- helpers
def nearest_pitch(pc, ref, lo, hi):
    best = None
    for p in range(lo, hi + 1):
        if p % 12 == pc % 12 and (best is None or abs(p - ref) < abs(best - ref)):
            best = p
    if best is None:
        best = lo + ((pc - lo) % 12)
    return best


def voicing_close(chord, prev, lo=52, hi=74, nvoices=None):
    """Close-position voicing (all inversions) nearest to the previous voicing."""
    pcs = list(chord['pcs'])
    if nvoices == 4 and len(pcs) == 3:
        pcs = pcs + [pcs[0]]
    cands = []
    n = len(pcs)
    for inv in range(n):
        order = pcs[inv:] + pcs[:inv]
        for base in range(lo, lo + 12):
            if base % 12 != order[0]:
                continue
            v = [base]
            for pcx in order[1:]:
                p = v[-1] + 1
                while p % 12 != pcx:
                    p += 1
                v.append(p)
            if v[-1] <= hi:
                cands.append(v)
    if not cands:
        cands = [[lo + ((pc - lo) % 12) for pc in pcs]]
    if prev is None:
        mid = (lo + hi) / 2
        return min(cands, key=lambda v: abs(np.mean(v) - mid))
    return min(cands, key=lambda v: sum(min(abs(a - b) for b in prev) for a in v) + 0.3 * abs(np.mean(v) - np.mean(prev)))


def arp_voicing(chord, lo=43):
    r = lo + ((chord['root'] - lo) % 12)
    ivs = chord['ivs']
    third, fifth = ivs[1], ivs[2]
    v = [r, r + fifth, r + 12, r + 12 + third, r + 12 + fifth]
    if len(ivs) == 4:
        v[4] = r + 12 + ivs[3]  # keep the doubled root, put the seventh on top
    return v


def guitar_voicing(chord):
    r = 40 + ((chord['root'] - 40) % 12)  # low string E2..D#3
    ivs = chord['ivs']
    v = [r, r + ivs[2], r + 12, r + 12 + ivs[1], r + 12 + ivs[2], r + 24]
    if len(ivs) == 4:
        v[2] = r + ivs[3]
    return sorted(set(v))


# ----------------------------------------------------------------------------- composition
def compose(pc, rng):
    bpb, compound, bpm = pc.bpb, pc.compound, pc.bpm
    beat_s = 60.0 / bpm
    bar_s = bpb * beat_s
    # harmonic rhythm (beats per chord)
    cands = [bpb * f for f in (0.5, 1, 2, 4) if (f != 0.5 or bpb == 4)]
    ok = [c for c in cands if 1.1 <= c * beat_s <= 5.0]
    if not ok:
        ok = [min(cands, key=lambda c: abs(c * beat_s - 2.5))]
    weights = [3.0 if c == bpb else 1.0 for c in ok]
    cl = rng.choices(ok, weights)[0]
    final_len = max(cl, bpb)
    if final_len * beat_s < 1.6:
        final_len = bpb * math.ceil(1.6 / bar_s)
    target = rng.uniform(22.0, 27.0) * LENGTH
    m = max(2, int(round((target - final_len * beat_s) / (cl * beat_s))))
    while (m * cl) % bpb != 0:
        m += 1
    while (m * cl + final_len) * beat_s > 27.8 and m > 2:
        m -= 1
        while (m * cl) % bpb != 0:
            m -= 1
    while (m * cl + final_len) * beat_s < 21.0 * LENGTH:
        m += 1
        while (m * cl) % bpb != 0:
            m += 1
    jazzy = pc.style in ('bossa', 'swing') or (pc.style in ('funk', 'bluesbal') and rng.random() < 0.5)
    prog = build_progression(rng, pc.mode, m, jazzy)
    chords = []
    t = 0.0
    for i, num in enumerate(prog):
        d = cl if i < len(prog) - 1 else final_len
        c = chord_info(num, pc.tonic, pc.mode)
        c['start'], c['dur'] = t, d
        chords.append(c)
        t += d
    pc.chords = chords
    pc.total_beats = t
    pc.final_start = chords[-1]['start']
    pc.n_bars = int(round(t / bpb))
    pc.cl = cl

    def chord_at(x):
        for c in chords:
            if c['start'] - 1e-6 <= x < c['start'] + c['dur'] - 1e-6:
                return c
        return chords[-1]

    notes = []  # (ch, start_beat, dur_beat, pitch, vel, extra_delay_s)
    bass_pat, comp_pat, drum_pat = style_patterns(pc, rng)
    body_end = pc.final_start
    body_bars = int(round(body_end / bpb))

    # ---------------- bass
    blo, bhi = (36, 47) if pc.style in ('piano', 'pwaltz', 'solo') and pc.progs[0] in (0, 1, 2, 4, 5, 6) else (31, 43)
    if pc.progs[0] in (42, 57):  # cello / trombone a bit higher
        blo, bhi = 36, 48
    prev_root = None

    def bass_root(c):
        nonlocal prev_root
        ref = prev_root if prev_root is not None else (blo + bhi) // 2
        r = nearest_pitch(c['root'], ref, blo, bhi)
        prev_root = r
        return r

    root_cache = {}

    def croot(c):
        k = id(c)
        if k not in root_cache:
            root_cache[k] = bass_root(c)
        return root_cache[k]

    def bass_tok(tok, c, pos_abs, dur):
        r = croot(c)
        ivs = c['ivs']
        if tok == 'R':
            return r
        if tok == '5':
            return r + ivs[2]
        if tok == '8':
            return r + 12
        if tok == '3':
            return r + ivs[1]
        if tok == '6':
            return r + (9 if ivs[1] == 4 and len(ivs) == 3 else ivs[2])
        if tok == '7':
            return r + (ivs[3] if len(ivs) == 4 else 12)
        if tok == 'L5':
            return r + ivs[2] - 12 if r + ivs[2] - 12 >= 28 else r + ivs[2]
        if tok == 'A':
            nxt = chord_at(pos_abs + dur + 1e-3)
            if nxt is c:
                return r + ivs[2]
            nr = nearest_pitch(nxt['root'], r, blo - 2, bhi + 5)
            if nr == r:
                return r + ivs[2]
            step = rng.choice([-1, 1, -2 if (nr - 2) % 12 in [x % 12 for x in c['scale']] else -1])
            return nr + step
        return r

    bass_vel = 92
    if bass_pat == 'walk':
        for bar in range(body_bars):
            for b in range(bpb):
                x = bar * bpb + b
                c = chord_at(x)
                r = croot(c)
                nxt = chord_at(x + 1)
                if abs(x - c['start']) < 1e-6:
                    p = r
                elif nxt is not c or x + 1 >= body_end:
                    nr = nearest_pitch(nxt['root'], r, blo - 2, bhi + 5)
                    p = nr + rng.choice([-1, 1])
                else:
                    p = r + rng.choice([c['ivs'][1], c['ivs'][2], c['ivs'][2], 12 if r + 12 <= 52 else c['ivs'][1]])
                notes.append((0, x, 0.9, p, bass_vel + (6 if b % 2 == 0 else 0)))
    else:
        for bar in range(body_bars):
            for pos, dur, tok in bass_pat:
                x = bar * bpb + pos
                if x >= body_end - 1e-6:
                    continue
                c = chord_at(x)
                dur = min(dur, c['start'] + c['dur'] - x) if tok != 'A' else dur
                p = bass_tok(tok, c, x, dur)
                acc = 8 if abs(pos) < 1e-6 else (3 if abs(pos - round(pos)) < 1e-6 else 0)
                notes.append((0, x, max(0.1, dur), p, bass_vel + acc))
                # a long note that outlasts its chord: re-articulate the new chord's root
                full_end = min(x + [d_ for p_, d_, t_ in bass_pat if p_ == pos][0], body_end)
                ce = c['start'] + c['dur']
                while tok != 'A' and full_end - ce >= 0.5 - 1e-6:
                    c2 = chord_at(ce + 1e-6)
                    d2 = min(full_end, c2['start'] + c2['dur']) - ce
                    notes.append((0, ce, d2, croot(c2), bass_vel + 4))
                    ce += d2
    fc = chords[-1]
    notes.append((0, fc['start'], fc['dur'] * 0.97, croot(fc), 100))

    # ---------------- comp
    prev_v = None
    voicings = {}
    comp_lo, comp_hi = (52, 74)
    if pc.progs[1] in (48, 49, 50, 51, 61, 60, 62, 63, 19, 52, 53, 88, 89, 90, 91, 94):
        comp_lo, comp_hi = 50, 72
    for c in chords:
        prev_v = voicing_close(c, prev_v, comp_lo, comp_hi, nvoices=4 if pc.style in ('strings', 'brass', 'solo') else None)
        voicings[id(c)] = prev_v

    def comp_notes(kind, c):
        if kind in ('V', 'P'):
            return voicings[id(c)], 0.0
        if kind == 'T':
            v = voicings[id(c)]
            return v, 0.0
        if kind in ('D', 'U'):
            gv = guitar_voicing(c)
            if kind == 'U':
                gv = list(reversed(gv[-4:]))
            return gv, 0.012 if kind == 'D' else 0.009
        if kind[0] == 'a':
            av = arp_voicing(c, 43 if pc.style in ('bluesbal', 'piano', 'pwaltz') else 48)
            return [av[int(kind[1:]) % len(av)]], 0.0
        if kind[0] == 'g':
            gv = guitar_voicing(c)
            return [gv[int(kind[1:]) % len(gv)]], 0.0
        raise ValueError(kind)

    for bar in range(body_bars):
        for pos, dur, kind, vel in comp_pat:
            x = bar * bpb + pos
            if x >= body_end - 1e-6:
                continue
            c = chord_at(x)
            end = c['start'] + c['dur']
            d = min(dur, end - x) if kind in ('P',) or dur > (end - x) else dur
            ps, stagger = comp_notes(kind, c)
            acc = 6 if abs(pos) < 1e-6 else 0
            for j, p in enumerate(ps):
                notes.append((1, x, max(0.08, d), p, vel + acc - (j * 2 if kind == 'U' else 0), j * stagger))
            # sustained chords that outlast their chord: re-voice on the new chord
            full_end = min(x + dur, body_end)
            ce = end
            while kind in ('P', 'V', 'T', 'D') and dur >= 1.0 and full_end - ce >= 0.5 - 1e-6:
                c2 = chord_at(ce + 1e-6)
                d2 = min(full_end, c2['start'] + c2['dur']) - ce
                ps2, stagger2 = comp_notes(kind, c2)
                for j, p in enumerate(ps2):
                    notes.append((1, ce, d2, p, vel - 4, j * stagger2))
                ce += d2
    # final chord: sustained
    fv, _ = (voicings[id(fc)], 0)
    if pc.style in ('guitar',) or pc.progs[1] in (24, 25, 26, 27, 29, 30):
        fv = guitar_voicing(fc)
        for j, p in enumerate(fv):
            notes.append((1, fc['start'], fc['dur'] * 0.97, p, 85, j * 0.015))
    else:
        for p in fv:
            notes.append((1, fc['start'], fc['dur'] * 0.97, p, 80, 0.0))

    # ---------------- melody
    melody_notes = make_melody(pc, rng, chord_at)
    notes.extend(melody_notes)

    # ---------------- drums
    if pc.drums:
        drum_hits = []
        phrase_bars = 4 if bar_s * 4 < 14 else 2
        for bar in range(body_bars):
            last_in_phrase = (bar % phrase_bars == phrase_bars - 1) or bar == body_bars - 1
            fill = last_in_phrase and (bar == body_bars - 1 or rng.random() < 0.55)
            fill_start = bpb - (1 if bpb >= 3 or bar_s > 1.6 else 2) if fill else 99
            if fill and bpb == 2:
                fill_start = 1
            pat = drum_pat
            if pat and pat[0][0] == 'bossa2':  # two-bar rim-click clave
                _, base, clave = pat[0]
                pat = list(base) + [(cp_ - (bar % 2) * 4, SIDE, 80) for cp_ in clave if 0 <= cp_ - (bar % 2) * 4 < 4]
            for pos, note, vel in pat:
                if pos >= fill_start - 1e-6:
                    continue
                v = vel
                if abs(pos) < 1e-6:
                    v += 6
                drum_hits.append((bar * bpb + pos, note, v))
            if fill:
                sub = 1 / 3.0 if compound or pc.style == 'swing' else (0.25 if beat_s > 0.32 else 0.5)
                n = int(round((bpb - fill_start) / sub))
                toms = rng.choice([[SNARE] * n, [TOM_H, TOM_H, TOM_M, TOM_M, TOM_L, TOM_L, TOM_F, TOM_F],
                                   [SNARE, SNARE, TOM_H, TOM_M, TOM_L, TOM_F, TOM_F, TOM_F], [TOM_H, TOM_M, TOM_L, TOM_F] * 2])
                for k in range(n):
                    drum_hits.append((bar * bpb + fill_start + k * sub, toms[min(k, len(toms) - 1)], 75 + int(20 * k / max(1, n))))
            if bar == 0 or (bar % phrase_bars == 0 and (bar - 1) >= 0 and rng.random() < 0.7):
                drum_hits.append((bar * bpb, CRASH, 95))
                drum_hits.append((bar * bpb, KICK, 105))
        drum_hits.append((fc['start'], CRASH, 110))
        drum_hits.append((fc['start'], KICK, 110))
        seen = set()
        for x, note, v in drum_hits:
            key = (round(x, 4), note)
            if key in seen or note is None:
                continue
            seen.add(key)
            notes.append((9, x, 0.25 if note not in (CRASH,) else 1.5, note, v))
    return notes


def make_melody(pc, rng, chord_at):
    bpb, compound, bpm = pc.bpb, pc.compound, pc.bpm
    beat_s = 60.0 / bpm
    bar_s = bpb * beat_s
    tonic = pc.tonic
    prog = pc.progs[2]
    # register
    T = 60 + tonic if tonic <= 7 else 48 + tonic  # melody tonic between G#3 and G4
    if prog in LOW_MELODY:
        T -= 12
    if prog in HIGH_MELODY:
        T += 12
    lo, hi = T - 5, T + 14
    ch = 2
    # rhythmic unit
    if compound:
        cells = [[1.0], [2 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3], [1 / 3, 2 / 3], [2.0], [1.0]]
        if pc.style == 'jig':
            cells = [[1 / 3, 1 / 3, 1 / 3]] * 4 + [[2 / 3, 1 / 3], [1.0]]
        if beat_s / 3 < 0.12:
            cells = [[1.0], [2 / 3, 1 / 3], [2.0], [1.0], [1 / 3, 2 / 3]]
        unit_long = 1.0
    else:
        target = rng.uniform(0.28, 0.55)
        units = [0.5, 1.0, 2.0] if beat_s < 0.9 else [0.25, 0.5, 1.0]
        u = min(units, key=lambda x: abs(x * beat_s - target))
        if bpb == 3 and u == 2.0:
            u = 1.0
        cells = [[2 * u], [u, u], [u, u], [1.5 * u, 0.5 * u], [u, 0.5 * u, 0.5 * u], [0.5 * u, 0.5 * u, u], [u], [u]]
        if 0.5 * u * beat_s < 0.11:
            cells = [c for c in cells if min(c) >= u - 1e-9]
        if pc.style in ('swing', 'shuffle') and u == 0.5:
            cells.append([2 / 3, 1 / 3])
        unit_long = max(u, 1.0)

    def fill_rhythm(length):
        out, pos = [], 0.0
        guard = 0
        while pos < length - 1e-6 and guard < 200:
            guard += 1
            fits = [c for c in cells if sum(c) <= length - pos + 1e-6]
            if not fits:
                out.append((pos, length - pos))
                break
            c = rng.choice(fits)
            for d in c:
                out.append((pos, d))
                pos += d
        return out

    # phrase layout in bars
    body_end = pc.final_start
    body_bars = int(round(body_end / bpb))
    pb = 4 if bar_s * 4 <= 13 else 2
    if bar_s * 2 > 13:
        pb = 1
    if bar_s * 4 < 5 and body_bars >= 8:
        pb = 8 if body_bars % 8 == 0 or body_bars > 12 else 4
    phrases = []
    b = 0
    while b < body_bars:
        e = min(b + pb, body_bars)
        phrases.append((b * bpb, e * bpb))
        b = e
    if len(phrases) >= 2 and phrases[-1][1] - phrases[-1][0] < pb * bpb / 2:
        last = phrases.pop()
        phrases[-1] = (phrases[-1][0], last[1])
    start_phr = 1 if (len(phrases) >= 4 and rng.random() < 0.45) else 0

    def is_strong(x):
        return abs(x - round(x)) < 1e-6

    def scale_pitches(c):
        return [p for p in range(lo - 2, hi + 3) if p % 12 in c['scale']]

    def chord_tones(c):
        return [p for p in range(lo - 2, hi + 3) if p % 12 in c['pcs']]

    notes = []
    cur = nearest_pitch(tonic, T + rng.choice([0, 4, 7]), lo, hi)
    motif = None  # (rhythm of first half, intervals)
    staccato = pc.style in ('polka', 'march', 'jig', 'reggae', 'funk')
    base_vel = 96 if pc.style not in ('ballad', 'solo', 'piano', 'pwaltz', 'strings') else 86
    for pi, (ps, pe) in enumerate(phrases):
        if pi < start_phr:
            continue
        L = pe - ps
        last_phrase = pi == len(phrases) - 1
        half = L / 2 if 2 * bpb <= L else L
        # first half: motif (re-used in alternate phrases), second half: variation + cadence note
        if motif is not None and rng.random() < 0.65 and abs(motif[2] - half) < 1e-6:
            r1, ints, _ = motif
            reuse = True
        else:
            r1 = fill_rhythm(half)
            ints = None
            reuse = False
        if half + 1e-6 < L:
            end_len = min(max(unit_long, 1.0 if not compound else 1.0) * (2 if L - half >= 4 else 1), L - half)
            if last_phrase:
                r2 = fill_rhythm(L - half)  # lead straight into the final tonic
                end_len = 0
            else:
                r2 = fill_rhythm(L - half - end_len) + [(L - half - end_len, end_len)]
            rhythm = r1 + [(half + p, d) for p, d in r2]
        else:
            if last_phrase:
                rhythm = r1
                end_len = 0
            else:
                end_len = min(unit_long, L / 2)
                rhythm = fill_rhythm(L - end_len) + [(L - end_len, end_len)]
        new_ints = []
        n = len(rhythm)
        for k, (p, d) in enumerate(rhythm):
            x = ps + p
            c = chord_at(x)
            frac = p / L
            is_end = (k == n - 1 and not last_phrase and end_len > 0)
            # occasional rest on a weak note (not at phrase start/end)
            if 0 < k < n - 1 and not is_strong(x) and rng.random() < 0.06:
                new_ints.append(0)
                continue
            if is_end:
                if c['root'] == tonic:
                    tgt = rng.choices([tonic, (tonic + (4 if pc.mode else 3)) % 12, (tonic + 7) % 12], [0.6, 0.25, 0.15])[0]
                elif c['root'] == (tonic + 7) % 12:
                    tgt = rng.choice([(tonic + 7) % 12, (tonic + 2) % 12, (tonic + 11) % 12])
                else:
                    tgt = rng.choice(c['pcs'][:3])
                pitch = nearest_pitch(tgt, cur, lo, hi)
            elif last_phrase and k == n - 1:
                # penultimate note of the piece: over V, 2nd degree or leading tone
                tgt = rng.choice([(tonic + 2) % 12, (tonic + 11) % 12]) if (tonic + 11) % 12 in c['pcs'] else rng.choice(c['pcs'][:3])
                pitch = nearest_pitch(tgt, cur, lo, hi)
            elif reuse and ints is not None and k < len(ints) and k < len(r1):
                cand = cur + ints[k]
                pool = chord_tones(c) if is_strong(x) else scale_pitches(c)
                pitch = min(pool, key=lambda q: abs(q - cand))
            else:
                up = 1 if frac < 0.45 else -1
                if rng.random() < 0.35:
                    up = -up
                if cur > hi - 3:
                    up = -1
                if cur < lo + 3:
                    up = 1
                if is_strong(x) or d >= 1.0:
                    pool = [q for q in chord_tones(c) if q != cur or rng.random() < 0.3]
                    pool = [q for q in pool if abs(q - cur) <= 7 and lo <= q <= hi] or chord_tones(c)
                    w = [(3.0 if (q - cur) * up > 0 else 1.0) / (1 + abs(q - cur) / 2.5) for q in pool]
                    pitch = rng.choices(pool, w)[0]
                else:
                    sp = scale_pitches(c)
                    idx = min(range(len(sp)), key=lambda i: abs(sp[i] - cur))
                    r = rng.random()
                    step = 1 if r < 0.72 else (2 if r < 0.88 else 0)
                    j = max(0, min(len(sp) - 1, idx + up * step))
                    pitch = sp[j]
            pitch = max(lo - 2, min(hi + 2, pitch))
            new_ints.append(pitch - cur)
            cur = pitch
            vel = base_vel + (8 if abs(x % bpb) < 1e-6 else (3 if is_strong(x) else -6)) + rng.randint(-5, 5)
            dd = d * (0.55 if staccato and d <= 1 else 0.92)
            if is_end:
                dd = d * 0.85
            notes.append((ch, x, dd, pitch, vel))
        if not reuse:
            motif = (r1, new_ints[:len(r1)], half)
    # final tonic
    fin = nearest_pitch(tonic, cur, lo, hi)
    notes.append((ch, pc.final_start, pc.chords[-1]['dur'] * 0.95, fin, base_vel + 4))
    return notes


# ----------------------------------------------------------------------------- MIDI
def write_midi(pc, notes, path, rng):
    beat_ticks = PPQ * 3 // 2 if pc.compound else PPQ
    us_per_q = int(round(60e6 / (pc.bpm * (1.5 if pc.compound else 1.0))))
    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    meta = mido.MidiTrack()
    mid.tracks.append(meta)
    num, den = METERS[pc.meter][2], METERS[pc.meter][3]
    meta.append(mido.MetaMessage('time_signature', numerator=num, denominator=den,
                                 clocks_per_click=36 if pc.compound else 24, notated_32nd_notes_per_beat=8, time=0))
    meta.append(mido.MetaMessage('key_signature', key=pc.key_sig, time=0))
    meta.append(mido.MetaMessage('set_tempo', tempo=us_per_q, time=0))
    ticks_per_s = beat_ticks * pc.bpm / 60.0
    end_tick = int(pc.total_beats * beat_ticks) + int(2 * ticks_per_s)
    meta.append(mido.MetaMessage('end_of_track', time=end_tick))

    chans = sorted(set(n[0] for n in notes))
    for ch in chans:
        tr = mido.MidiTrack()
        mid.tracks.append(tr)
        ev = []
        if ch != 9:
            ev.append((0, 0, mido.Message('program_change', channel=ch, program=pc.progs[ch])))
        else:
            ev.append((0, 0, mido.Message('program_change', channel=9, program=pc.drum_kit)))
        vol = {0: 100, 1: 82, 2: 108, 9: 100}[ch]
        pan = {0: 64, 1: rng.choice([44, 52, 76, 84]), 2: rng.choice([58, 64, 70]), 9: 64}[ch]
        ev.append((0, 0, mido.Message('control_change', channel=ch, control=7, value=vol)))
        ev.append((0, 0, mido.Message('control_change', channel=ch, control=10, value=pan)))
        ev.append((0, 0, mido.Message('control_change', channel=ch, control=91, value=pc.rev_send if pc.reverb > 0 else 0)))
        ev.append((0, 0, mido.Message('control_change', channel=ch, control=93, value=pc.cho_send if pc.chorus else 0)))
        chn = [n for n in notes if n[0] == ch]
        items = []
        for n in chn:
            _, x, d, p, v = n[:5]
            extra = n[5] if len(n) > 5 else 0.0
            jit = max(-0.012, min(0.012, rng.gauss(0, 0.004 if ch != 9 else 0.003)))
            t0 = int(round(x * beat_ticks + (jit + extra) * ticks_per_s)) + int(0.03 * ticks_per_s)
            t1 = t0 + max(10, int(round(d * beat_ticks)))
            v = int(max(1, min(127, v + rng.randint(-5, 5))))
            p = int(max(0, min(127, p)))
            items.append([t0, t1, p, v])
        # remove overlaps of identical pitches
        items.sort()
        lastidx = {}
        for it in items:
            p = it[2]
            if p in lastidx:
                prev = lastidx[p]
                if prev[1] > it[0] - 1:
                    prev[1] = max(prev[0] + 5, it[0] - 1)
            lastidx[p] = it
        for t0, t1, p, v in items:
            ev.append((t0, 1, mido.Message('note_on', channel=ch, note=p, velocity=v)))
            ev.append((t1, 0, mido.Message('note_off', channel=ch, note=p, velocity=0)))
        ev.sort(key=lambda e: (e[0], e[1]))
        last = 0
        for t, _, msg in ev:
            tr.append(msg.copy(time=max(0, t - last)))
            last = max(last, t)
    mid.save(path)
    return us_per_q


# ----------------------------------------------------------------------------- render
STEM_LEVEL_DB = {0: -4.0, 1: -5.0, 2: 0.0, 9: -2.5}


def render(pc, mid_path, flac_path, tmpdir, rng):
    """Render each MIDI track (one per channel) separately, balance the stems by RMS, then mix."""
    full = mido.MidiFile(mid_path)
    stems, chans = [], []
    for k in range(1, len(full.tracks)):
        tr = full.tracks[k]
        ch = next((m.channel for m in tr if hasattr(m, 'channel')), None)
        sm = mido.MidiFile(type=1, ticks_per_beat=full.ticks_per_beat)
        sm.tracks.append(full.tracks[0])
        sm.tracks.append(tr)
        spath = os.path.join(tmpdir, 'stem%d.mid' % k)
        sm.save(spath)
        wav = os.path.join(tmpdir, 'stem%d.wav' % k)
        if os.path.exists(wav):
            os.remove(wav)
        cmd = ['fluidsynth', '-ni', '-q', '-F', wav, '-r', str(SR), '-g', '0.5', '-T', 'wav', '-O', 'float',
               '-R', '1' if pc.reverb > 0 else '0', '-C', '1' if pc.chorus else '0']
        if pc.reverb > 0:
            cmd += ['-o', f'synth.reverb.room-size={pc.reverb:.2f}', '-o', 'synth.reverb.level=0.8']
        cmd += [SOUNDFONTS[pc.soundfont], spath]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        y, sr = sf.read(wav, dtype='float64', always_2d=True)
        assert sr == SR
        if y.shape[1] == 1:
            y = np.repeat(y, 2, axis=1)
        env = np.max(np.abs(y), axis=1)
        if env.max() <= 1e-6:
            raise RuntimeError('silent stem %d in %s' % (ch, mid_path))
        act = env > env.max() * 10 ** (-40 / 20)
        rms = np.sqrt(np.mean(y[act] ** 2))
        lvl = STEM_LEVEL_DB.get(ch, -4.0) + rng.uniform(-1.5, 1.5)
        stems.append(y * (10 ** (lvl / 20) / rms))
        chans.append(ch)
    n = max(len(s_) for s_ in stems)
    y = np.zeros((n, 2))
    for s_ in stems:
        y[:len(s_)] += s_
    env = np.max(np.abs(y), axis=1)
    peak = env.max()
    if peak <= 0:
        raise RuntimeError('silent render')
    on = np.nonzero(env > peak * 10 ** (-55 / 20))[0]
    a = max(0, on[0] - int(0.01 * SR))
    tail = np.nonzero(env > peak * 10 ** (-50 / 20))[0]
    b = min(len(y), tail[-1] + int(0.15 * SR))
    y = y[a:b]
    maxlen = int(29.8 * LENGTH * SR)
    if len(y) > maxlen:
        y = y[:maxlen].copy()
        fl = int(1.0 * SR)
        y[-fl:] *= np.linspace(1, 0, fl)[:, None]
    fo = int(0.05 * SR)  # short fade at the end to avoid a click
    y[-fo:] *= np.linspace(1, 0, fo)[:, None]
    norm = 10 ** (-1.0 / 20) / np.max(np.abs(y))
    y = y * norm
    sf.write(flac_path, y.astype(np.float32), SR, format='FLAC', subtype='PCM_16')
    mix_rms = np.sqrt(np.mean(y ** 2))
    info = {'lead_trim_s': a / SR}
    for ch, s_ in zip(chans, stems, strict=False):
        seg = s_[a:a + len(y)] * norm
        info['stem%d_db' % ch] = 20 * np.log10(np.sqrt(np.mean(seg ** 2)) / mix_rms + 1e-12)
    return len(y) / SR, info


# ----------------------------------------------------------------------------- main
def key_sig_name(tonic, mode):
    if mode == 1:
        return MAJ_NAMES[tonic]
    return MIN_NAMES[tonic] + 'm'


def plan(seed, count):
    g = random.Random('blind-plan-%d' % seed)
    names = list(STYLES)
    styles = []
    while len(styles) < count:
        cyc = names[:]
        g.shuffle(cyc)
        styles.extend(cyc)
    styles = styles[:count]
    n_major = int(round(0.6 * count))
    modes = [1] * n_major + [0] * (count - n_major)
    g.shuffle(modes)
    tonics = []
    while len(tonics) < count:
        t = list(range(12))
        g.shuffle(t)
        tonics.extend(t)
    tonics = tonics[:count]
    strata = list(range(count))
    g.shuffle(strata)
    tempos = [round(50.0 + 160.0 * (s + g.random()) / count, 2) for s in strata]
    sfs = (['sf_GMbank', 'OPL-3_FM'] * (count // 2 + 1))[:count]
    g.shuffle(sfs)
    return list(zip(styles, modes, tonics, tempos, sfs, strict=False))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out_dir')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--count', type=int, default=96)
    ap.add_argument('--length', type=float, default=1.0, help='pieces this many times their usual length')
    args = ap.parse_args()
    global LENGTH
    LENGTH = args.length
    out = os.path.abspath(args.out_dir)
    for d in ('audio', 'midi', 'chords'):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    rows, infos = [], []
    tmpdir = tempfile.mkdtemp(prefix='blindr_')
    try:
        for i, (style, mode, tonic, bpm, sfname) in enumerate(plan(args.seed, args.count)):
            rng = random.Random('blind-piece-%d-%d' % (args.seed, i))
            pc = Piece()
            pc.style, pc.mode, pc.tonic, pc.soundfont = style, mode, tonic, sfname
            pc.meter = rng.choice(STYLES[style]['meters'])
            pc.bpb, pc.compound = METERS[pc.meter][0], METERS[pc.meter][1]
            pc.drums = STYLES[style]['drums']
            pc.progs = {}
            b, c, l = choose_programs(style, rng)
            pc.progs = {0: b, 1: c, 2: l}
            pc.drum_kit = 0
            if sfname == 'sf_GMbank' and pc.drums:
                pc.drum_kit = {'swing': rng.choice([32, 40]), 'bossa': rng.choice([0, 32, 40]), 'dance': rng.choice([24, 25, 0]),
                               'rock': rng.choice([0, 8, 16]), 'ballad': rng.choice([0, 8, 40])}.get(style, rng.choice([0, 8]))
            us_guess = int(round(60e6 / (bpm * (1.5 if pc.compound else 1.0))))
            pc.bpm = 60e6 / us_guess / (1.5 if pc.compound else 1.0)  # exactly what the MIDI encodes
            pc.reverb = round(rng.choice([0.0, 0.2, 0.4, 0.6, 0.8]), 2) if rng.random() < 0.75 else 0.0
            pc.rev_send = rng.randint(30, 80)
            pc.chorus = rng.random() < 0.35
            pc.cho_send = rng.randint(20, 60)
            pc.key_sig = key_sig_name(tonic, mode)
            stem = 'b%03d_%s' % (i, style)
            notes = compose(pc, rng)
            mid_path = os.path.join(out, 'midi', stem + '.mid')
            us = write_midi(pc, notes, mid_path, rng)
            assert us == us_guess
            flac_rel = f'audio/{stem}.flac'
            dur, info = render(pc, mid_path, os.path.join(out, flac_rel), tmpdir, rng)
            info.update(piece=stem, style=style, progs='%d/%d/%d' % (pc.progs[0], pc.progs[1], pc.progs[2]),
                        drum_kit=pc.drum_kit if pc.drums else '', chorus=int(pc.chorus), n_chords=len(pc.chords),
                        beats=pc.total_beats)
            infos.append(info)
            with open(os.path.join(out, 'chords', stem + '.txt'), 'w') as f:
                for ch_ in pc.chords:
                    f.write('{:.4f}\t{:.4f}\t{}\n'.format(ch_['start'], ch_['dur'], ch_['numeral']))
            label = (MAJ_NAMES[tonic] + ' major') if mode == 1 else (MIN_NAMES[tonic] + ' minor')
            rows.append(dict(path=flac_rel, part='blind', set='blind', piece=stem, variant='clean', key=tonic, mode=mode,
                             key_label=label, tempo=f'{pc.bpm:.3f}', tempo_bin=0, duration=f'{dur:.3f}',
                             drums=int(pc.drums), meter=pc.meter, soundfont=sfname, reverb_s=f'{pc.reverb:.2f}',
                             gain_db='0.0', snr_db='', source='blind:%s:seed%d:%d' % (style, args.seed, i)))
            print('%s %-9s %-5s %-9s %7.2f bpm %5.1fs %s prog=%s' % (stem, style, pc.meter, label, pc.bpm, dur, sfname,
                                                                    [pc.progs[0], pc.progs[1], pc.progs[2]]), flush=True)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    cols = ['path', 'part', 'set', 'piece', 'variant', 'key', 'mode', 'key_label', 'tempo', 'tempo_bin', 'duration',
            'drums', 'meter', 'soundfont', 'reverb_s', 'gain_db', 'snr_db', 'source']
    with open(os.path.join(out, 'truth.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    icols = ['piece', 'style', 'progs', 'drum_kit', 'chorus', 'n_chords', 'beats', 'lead_trim_s',
             'stem0_db', 'stem1_db', 'stem2_db', 'stem9_db']
    with open(os.path.join(out, 'mix_info.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=icols)
        w.writeheader()
        for r in infos:
            w.writerow({k: ((f'{r[k]:.3f}') if isinstance(r.get(k), float) else r.get(k, '')) for k in icols})


if __name__ == '__main__':
    main()
