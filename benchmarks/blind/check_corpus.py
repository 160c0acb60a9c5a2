#!/usr/bin/env python3
"""Ground-truth checks for a synth_corpus.py build (no key/tempo detector involved).

Uses only the generator's own note lists (notes/*.json), truth.csv and the decoded FLACs.
"""
import collections
import csv
import json
import math
import os
import sys

import numpy as np
import soundfile as sf
from scipy import signal

COLS = ['path', 'part', 'set', 'piece', 'variant', 'key', 'mode', 'key_label', 'tempo', 'tempo_bin', 'duration', 'drums',
        'meter', 'soundfont', 'reverb_s', 'gain_db', 'snr_db', 'source']
MAJ = [0, 2, 4, 5, 7, 9, 11]
NMIN = [0, 2, 3, 5, 7, 8, 10]


def main(out):
    with open(os.path.join(out, 'truth.csv')) as fh:
        rd = csv.DictReader(fh)
        assert rd.fieldnames == COLS, rd.fieldnames
        rows = list(rd)
    fails = collections.defaultdict(list)
    warns = collections.defaultdict(list)
    stats = collections.defaultdict(list)
    hf = {0: [], 1: []}
    for r in rows:
        pid = r['piece']
        key, mode, tempo = int(r['key']), int(r['mode']), float(r['tempo'])
        d = json.load(open(os.path.join(out, 'notes', pid + '.json')))
        assert d['key'] == key and d['mode'] == mode and abs(d['tempo'] - tempo) < 1e-9 and d['meter'] == r['meter']
        60.0 / tempo
        # ---------------- audio
        x, sr = sf.read(os.path.join(out, r['path']), always_2d=True)
        dur = len(x) / sr
        peak = np.max(np.abs(x))
        nclip = int(np.sum(np.abs(x) >= 0.999))
        mono = x.mean(axis=1)
        win = int(2.0 * sr)
        wr = [20 * math.log10(np.sqrt(np.mean(mono[k:k + win] ** 2)) + 1e-12) for k in range(0, len(mono) - win, win)]
        stats['peak_db'].append(20 * math.log10(peak))
        stats['dur'].append(dur)
        if not (sr == 44100 and 20.0 <= dur <= 30.0):
            fails['duration'].append((pid, dur))
        if abs(dur - float(r['duration'])) > 0.01:
            fails['duration_csv'].append(pid)
        if nclip or peak > 0.95 or peak < 0.8:
            fails['peak'].append((pid, peak, nclip))
        if min(wr[:-1]) < -45:
            fails['silent_window'].append((pid, min(wr)))
        # high-band onset energy (drum audibility proxy)
        sos = signal.butter(4, 6000, 'high', fs=sr, output='sos')
        h = signal.sosfilt(sos, mono)
        hf[int(r['drums'])].append(20 * math.log10(np.sqrt(np.mean(h ** 2)) / np.sqrt(np.mean(mono ** 2))))
        if int(r['drums']):
            ddb = d['stem_db'].get('drums', -99)
            stats['drum_stem_db'].append(ddb)
            nd = sum(1 for n in d['notes'] if n['role'] == 'drums')
            if ddb < -15 or nd < 20:
                fails['drums_inaudible'].append((pid, ddb, nd))
        else:
            if any(n['role'] == 'drums' for n in d['notes']):
                fails['drums_flag'].append(pid)
        # ---------------- beat grid
        notes = d['notes']
        offgrid = [n for n in notes if abs(n['beat'] * 12 - round(n['beat'] * 12)) > 1e-3]
        if offgrid:
            fails['offgrid'].append((pid, len(offgrid)))
        ib = [n for n in notes if n['role'] in ('drums', 'bass') and abs(n['beat'] - round(n['beat'])) < 1e-6]
        if len(ib) < 8:
            ib = [n for n in notes if abs(n['beat'] - round(n['beat'])) < 1e-6]
        b = np.array([n['beat'] for n in ib])
        s = np.array([n['sec'] for n in ib])
        slope, icpt = np.polyfit(b, s, 1)
        est = 60.0 / slope
        resid = s - (slope * b + icpt)
        stats['tempo_err_pct'].append(100 * abs(est - tempo) / tempo)
        stats['grid_resid_ms'].append(1000 * np.median(np.abs(resid)))
        if abs(est - tempo) / tempo > 0.002 or np.median(np.abs(resid)) > 0.01:
            fails['tempo_grid'].append((pid, tempo, est))
        # beat coverage: fraction of notated beats (before final chord) with some onset
        last_beat = d['chords'][-1]['beat']
        onb = set(int(round(n['beat'])) for n in notes if abs(n['beat'] - round(n['beat'])) < 1e-6)
        cov = np.mean([k in onb for k in range(int(last_beat))])
        stats['beat_cov'].append(cov)
        if cov < 0.6:
            fails['beat_coverage'].append((pid, round(cov, 2)))
        # bar-downbeat coverage
        bpb = d['beats_per_bar']
        dbc = np.mean([k in onb for k in range(0, int(last_beat), bpb)])
        if dbc < 0.95:
            fails['downbeat_coverage'].append((pid, dbc))
        # ---------------- key
        pit = [n for n in notes if n['role'] != 'drums']
        hist = np.zeros(12)
        for n in pit:
            hist[n['pitch'] % 12] += n['dur_sec']
        rel = np.roll(hist, -key) / hist.sum()
        order = list(np.argsort(-rel))
        rt, rd_ = order.index(0), order.index(7)
        stats['tonic_rank'].append(rt)
        stats['dom_rank'].append(rd_)
        scale = set(MAJ) if mode == 1 else set(NMIN) | {11}
        inscale = sum(rel[k] for k in scale)
        stats['in_scale'].append(inscale)
        relk = 9 if mode == 1 else 3
        if rt > 1 or rd_ > 4 or inscale < 0.9 or rel[0] + rel[7] <= rel[relk] + rel[(relk + 7) % 12]:
            fails['pc_hist'].append((pid, r['key_label'], rt, rd_, round(inscale, 3), np.round(rel, 3).tolist()))
        if rel[0] <= rel[relk]:
            warns['relative_tonic_heavier'].append((pid, r['key_label'], round(rel[0], 3), round(rel[relk], 3),
                                                     'tonic+dom %.3f vs rel tonic+dom %.3f' % (rel[0] + rel[7], rel[relk] + rel[(relk + 7) % 12])))
        if cov < 0.8:
            warns['beat_coverage_low'].append((pid, d['style'], r['meter'], tempo, round(float(cov), 2)))
        # V chords must contain the leading tone among the notes sounding in them
        lt = (key + 11) % 12
        ch = d['chords']
        nV, nVok = 0, 0
        for c in ch:
            if c['rn'] in ('V', 'V7'):
                nV += 1
                t0, t1 = c['beat'], c['beat'] + c['beats']
                pcs = set(n['pitch'] % 12 for n in pit if n['beat'] < t1 - 1e-6 and n['beat'] + n['beats'] > t0 + 1e-6)
                nVok += lt in pcs
        if nV == 0 or nVok < nV:
            fails['V_leading_tone'].append((pid, nV, nVok))
        # V(7) -> I cadences and final tonic
        cad = sum(1 for a, b2 in zip(ch, ch[1:], strict=False) if a['rn'] in ('V', 'V7') and b2['rn'] in ('I', 'i', 'I7', 'Imaj7', 'I6', 'im7'))
        stats['cadences'].append(cad)
        if cad < 1 or ch[-1]['root'] != key:
            fails['cadence'].append(pid)
        mel = [n for n in notes if n['role'] == 'melody']
        bas = [n for n in notes if n['role'] == 'bass']
        if mel[-1]['pitch'] % 12 != key or bas[-1]['pitch'] % 12 != key:
            fails['final_tonic'].append(pid)
        if mel[0]['pitch'] % 12 not in ch[0]['pcs']:
            fails['first_note'].append(pid)
        # phrase ends: melody note at each closed phrase end on tonic
        for ph in d['phrases']:
            endb = ph['start'] + ph['beats'] - d['slot_beats']
            m = [n for n in mel if abs(n['beat'] - endb) < 1e-6]
            if not m:
                fails['phrase_end_missing'].append(pid)
            elif ph['cad'] == 'closed' and m[0]['pitch'] % 12 != key:
                fails['phrase_end_tonic'].append(pid)
    print('pieces:', len(rows))
    for k, v in stats.items():
        v = np.array(v, float)
        print('%-15s min %.4g  median %.4g  max %.4g' % (k, v.min(), np.median(v), v.max()))
    print('tonic rank histogram', collections.Counter(stats['tonic_rank']))
    print('dominant rank histogram', collections.Counter(stats['dom_rank']))
    print('HF(>6k) level rel. mix, dB: drums=1 median %.1f (min %.1f) | drums=0 median %.1f (max %.1f)' % (
        np.median(hf[1]), np.min(hf[1]), np.median(hf[0]), np.max(hf[0])))
    c = collections.Counter
    print('style', dict(c(r['source'].split(':')[1] for r in rows)))
    print('meter', dict(c(r['meter'] for r in rows)))
    print('mode', dict(c(r['mode'] for r in rows)), 'drums', dict(c(r['drums'] for r in rows)),
          'reverb>0', sum(float(r['reverb_s']) > 0 for r in rows))
    print('keys', dict(sorted(c(int(r['key']) for r in rows).items())))
    t = [float(r['tempo']) for r in rows]
    print('tempo min %.1f max %.1f mean %.1f' % (min(t), max(t), np.mean(t)))
    print('FAILURES:', {k: len(v) for k, v in fails.items()} or 'none')
    for k, v in fails.items():
        print(k, v[:6])
    print('WARNINGS (informational):', {k: len(v) for k, v in warns.items()} or 'none')
    for k, v in warns.items():
        for x in v:
            print('  ', k, x)


if __name__ == '__main__':
    main(sys.argv[1])
