#!/usr/bin/env python3
"""Self-check of a blind corpus: ground truth vs the MIDI written, audio sanity, drum audibility proxy.
No key or tempo detector is used: only the written MIDI notes / meta events and simple signal stats."""
import collections
import csv
import os
import sys

import mido
import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, 'truth.csv'))))
info = {r['piece']: r for r in csv.DictReader(open(os.path.join(out, 'mix_info.csv')))}
COMPOUND = {'6/8', '12/8'}
sos = butter(4, [40, 130], btype='band', fs=44100, output='sos')
fails = collections.Counter()
summary = collections.defaultdict(list)

for r in rows:
    stem = r['piece']
    key, mode, tempo, meter = int(r['key']), int(r['mode']), float(r['tempo']), r['meter']
    mid = mido.MidiFile(os.path.join(out, 'midi', stem + '.mid'))
    # ---- tempo meta-event and time signature
    tempos = [m.tempo for tr in mid.tracks for m in tr if m.type == 'set_tempo']
    ts = [(m.numerator, m.denominator) for tr in mid.tracks for m in tr if m.type == 'time_signature']
    q_bpm = 60e6 / tempos[0]
    expect_q = tempo * (1.5 if meter in COMPOUND else 1.0)
    t_ok = len(tempos) == 1 and abs(q_bpm - expect_q) < 0.01
    ts_ok = len(ts) == 1 and '%d/%d' % ts[0] == meter
    # ---- notes: pitch-class histogram (duration weighted), per channel, with absolute seconds
    notes = []  # (ch, start_s, end_s, pitch)
    on = {}
    t = 0.0
    for msg in mid:  # playback order, times in seconds
        t += msg.time
        if msg.type == 'note_on' and msg.velocity > 0:
            on[(msg.channel, msg.note)] = t
        elif msg.type in ('note_off', 'note_on') and (msg.channel, msg.note) in on:
            notes.append((msg.channel, on.pop((msg.channel, msg.note)), t, msg.note))
    hist = np.zeros(12)
    for ch, s, e, p in notes:
        if ch != 9:
            hist[p % 12] += e - s
    order = list(np.argsort(-hist))
    rank_t, rank_d = order.index(key), order.index((key + 7) % 12)
    third = (key + (4 if mode else 3)) % 12
    wrong_third = (key + (3 if mode else 4)) % 12
    # ---- leading tone in V chords: from chord file (beats) -> pitch classes sounding during V/V7 chords
    chords = [l.split('\t') for l in open(os.path.join(out, 'chords', stem + '.txt')).read().strip().split('\n')]
    beat_s = 60.0 / tempo
    t0 = min(s for _, s, _, _ in notes)
    lt = (key + 11) % 12
    nV = 0; nV_lt = 0
    for st, du, num in chords:
        if num.strip() in ('V', 'V7'):
            nV += 1
            a, b = float(st) * beat_s, (float(st) + float(du)) * beat_s
            pcs = {p % 12 for ch, s, e, p in notes if ch != 9 and s - t0 < b - 0.02 and e - t0 > a + 0.02}
            nV_lt += lt in pcs
    last_chord = chords[-1][2].strip()
    mel = sorted([n for n in notes if n[0] == 2], key=lambda n: n[1])
    bass = sorted([n for n in notes if n[0] == 0], key=lambda n: n[1])
    mel_end_tonic = mel[-1][3] % 12 == key
    bass_end_tonic = bass[-1][3] % 12 == key
    key_ok = rank_t <= 1 and rank_d <= 3 and hist[third] > hist[wrong_third] and nV >= 1 and nV_lt == nV \
        and mel_end_tonic and bass_end_tonic and last_chord in ('I', 'i')
    # ---- audio
    y, sr = sf.read(os.path.join(out, r['path']), always_2d=True)
    m = y.mean(1)
    dur = len(y) / sr
    peak = np.abs(y).max()
    nclip = int(np.sum(np.abs(y) >= 0.9999))
    rms = np.sqrt(np.mean(m ** 2))
    a_ok = sr == 44100 and 20.0 <= dur <= 30.0 and peak < 0.95 and nclip == 0 and rms > 10 ** (-40 / 20) \
        and abs(dur - float(r['duration'])) < 0.01
    # ---- drum audibility: low band (40-130 Hz) energy right after kick onsets vs. the track's median
    kick_db = float('nan')
    drum_db = info[stem].get('stem9_db') or ''
    kicks = [s for ch, s, e, p in notes if ch == 9 and p == 36]
    lead = float(info[stem]['lead_trim_s'])
    d_ok = True
    if kicks:
        low = sosfiltfilt(sos, m)
        hop = 441
        env = np.sqrt(np.convolve(low ** 2, np.ones(hop) / hop, mode='same'))[::hop]
        vals = []
        for k in kicks:
            i = int((k - lead) * 100)
            if 0 <= i < len(env) - 8:
                vals.append(env[i:i + 8].max())
        kick_db = 20 * np.log10(np.mean(vals) / (np.median(env) + 1e-12))
        d_ok = (int(r['drums']) == 1) and float(drum_db) > -15 and kick_db > 1.0
    else:
        d_ok = int(r['drums']) == 0
    for name, ok in (('tempo_meta', t_ok), ('timesig', ts_ok), ('key_hist', key_ok), ('audio', a_ok), ('drums', d_ok)):
        if not ok:
            fails[name] += 1
    summary['rank_t'].append(rank_t); summary['rank_d'].append(rank_d)
    print('%-16s %-5s %-10s T=%8.3f midiQ=%8.3f %s ts=%s | tonic#%d dom#%d V:%d/%d lt | end mel=%s bass=%s | %.2fs pk=%.2fdB clip=%d rms=%.1fdB | drums=%s stem9=%s kick=%+.1fdB %s' % (
        stem, meter, r['key_label'], tempo, q_bpm, 'OK' if t_ok else 'BAD', 'OK' if ts_ok else 'BAD',
        rank_t + 1, rank_d + 1, nV_lt, nV, mel_end_tonic, bass_end_tonic, dur, 20 * np.log10(peak), nclip,
        20 * np.log10(rms), r['drums'], drum_db or '-', kick_db, '' if (t_ok and ts_ok and key_ok and a_ok and d_ok) else '<<< CHECK'))

print('\nfailures by check:', dict(fails) or 'none', 'of', len(rows), 'pieces')
print('tonic rank distribution:', collections.Counter(x + 1 for x in summary['rank_t']))
print('dominant rank distribution:', collections.Counter(x + 1 for x in summary['rank_d']))
