#!/usr/bin/env python3
"""Independent synthetic test-music generator with exact ground truth.

Every sound is synthesised here with numpy/scipy (additive, FM, Karplus-Strong,
filtered saws, noise drums).  No SoundFonts.

Usage:  python synth_corpus.py OUT_DIR --seed N --count K
"""
import argparse
import bisect
import csv
import json
import math
import os
import time

import numpy as np
import soundfile as sf
from scipy import signal

SR = 44100
# Pieces last this many times their usual 18-28 s of music (--length): the app reads a track over
# 90 s in stretches.
LENGTH = 1.0
TWO_PI = 2.0 * np.pi
PC_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B']


def mtof(m):
    return 440.0 * 2.0 ** ((m - 69) / 12.0)


# ----------------------------------------------------------------------------
# DSP helpers
# ----------------------------------------------------------------------------
_SOS = {}


def filt(x, kind, fc, order=2):
    if kind == 'band':
        lo = min(max(fc[0], 20.0), 0.40 * SR)
        hi = min(max(fc[1], lo * 1.2), 0.45 * SR)
        key = (kind, int(lo), int(hi), order)
        wn = [lo, hi]
    else:
        fc = min(max(fc, 20.0), 0.45 * SR)
        key = (kind, int(fc), order)
        wn = fc
    sos = _SOS.get(key)
    if sos is None:
        sos = signal.butter(order, wn, btype=kind, fs=SR, output='sos')
        _SOS[key] = sos
    return signal.sosfilt(sos, x)


def env_adsr(n_on, a, d, s, r):
    n_on = max(int(n_on), 8)
    an = max(1, int(a * SR))
    rn = max(16, int(r * SR))
    t = np.arange(n_on, dtype=float)
    dec = s + (1.0 - s) * np.exp(-np.maximum(t - an, 0) / max(1.0, d * SR))
    on = np.where(t < an, t / an, dec)
    rel = on[-1] * np.exp(-np.arange(rn) / (rn / 6.0))
    k = min(rn, 64)
    rel[-k:] *= np.linspace(1, 0, k)
    return np.concatenate([on, rel])


def release_at(x, dur, rel):
    n_on = max(int(dur * SR), 16)
    if n_on >= len(x):
        return x
    rn = max(16, int(rel * SR))
    y = x[:n_on + rn].copy()
    tail = y[n_on:]
    tail *= np.exp(-np.arange(len(tail)) / (rn / 6.0))
    k = min(len(tail), 32)
    tail[-k:] *= np.linspace(1, 0, k)
    return y


def fade_end(y, n=256):
    n = min(n, len(y))
    y[-n:] *= np.linspace(1, 0, n)
    return y


def blep_saw(ph, dt):
    y = 2.0 * ph - 1.0
    m = ph < dt
    x = ph[m] / dt[m]
    y[m] -= x + x - x * x - 1.0
    m = ph > 1.0 - dt
    x = (ph[m] - 1.0) / dt[m]
    y[m] -= x * x + x + x + 1.0
    return y


# ----------------------------------------------------------------------------
# Tone generators.  fn(f, dur, vel, p, rng); dur None -> full decaying sample
# ----------------------------------------------------------------------------
def syn_piano(f, dur, vel, p, rng):
    T1 = float(np.clip(p['sus'] * (220.0 / f) ** 0.55, 0.35, 9.0))
    n = int(min(2.5 * T1, 5.0) * SR)
    t = np.arange(n) / SR
    y = np.zeros(n)
    B = p['B']
    bright = p['bright'] * (0.45 + 0.8 * vel)
    kmax = int(max(1, min(18, 9000.0 / f)))
    for k in range(1, kmax + 1):
        fk = k * f * math.sqrt(1.0 + B * k * k)
        if fk > 0.45 * SR:
            break
        a = (1.0 / k ** 0.9) * math.exp(-(k - 1) / (4.0 * bright))
        tau = T1 / (1.0 + 0.5 * (k - 1))
        e = np.exp(-t / tau)
        e = 0.6 * e ** 5 + 0.4 * e
        y += a * e * np.sin(TWO_PI * fk * t + rng.uniform(0, 6.28))
        if k <= 2:
            y += 0.35 * a * e * np.sin(TWO_PI * fk * (1 + p['det']) * t)
    hn = int(0.012 * SR)
    y[:hn] += filt(rng.standard_normal(hn), 'low', 2500) * np.exp(-np.arange(hn) / (0.002 * SR)) * 0.25 * vel
    an = int(0.002 * SR)
    y[:an] *= np.linspace(0, 1, an)
    return fade_end(y)


def syn_epiano(f, dur, vel, p, rng):
    T = float(np.clip(p['sus'] * (300.0 / f) ** 0.5, 0.4, 6.0))
    n = int(min(2.5 * T, 4.5) * SR)
    t = np.arange(n) / SR
    I = p['index'] * (0.3 + vel) * np.exp(-t / 0.35) + 0.15
    y = np.sin(TWO_PI * f * t + I * np.sin(TWO_PI * f * t))
    if 14 * f < 0.4 * SR:
        y += p['tine'] * (0.3 + vel) * np.exp(-t / 0.02) * np.sin(TWO_PI * 14 * f * t)
    y *= np.exp(-t / T)
    if p.get('trem', 0):
        y *= 1.0 - p['trem'] * 0.5 * (1 + np.sin(TWO_PI * 4.5 * t))
    an = int(0.002 * SR)
    y[:an] *= np.linspace(0, 1, an)
    return fade_end(y)


ORGAN_RATIOS = [0.5, 1.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0]


def syn_organ(f, dur, vel, p, rng):
    env = env_adsr(dur * SR, 0.006, 1.0, 1.0, 0.06)
    n = len(env)
    t = np.arange(n) / SR
    y = np.zeros(n)
    tot = 0.0
    for r, lvl in zip(ORGAN_RATIOS, p['draw'], strict=False):
        if lvl <= 0 or r * f > 11000:
            continue
        y += (lvl / 8.0) * np.sin(TWO_PI * r * f * t + rng.uniform(0, 6.28))
        tot += lvl / 8.0
    y /= max(tot, 1e-3)
    cn = int(0.004 * SR)
    y[:cn] += p['click'] * filt(rng.standard_normal(cn), 'high', 1500) * np.linspace(1, 0, cn)
    y *= 1.0 + p['trem'] * np.sin(TWO_PI * p['lrate'] * t + rng.uniform(0, 6.28))
    return y * env


def syn_ks(f, dur, vel, p, rng):
    """Karplus-Strong plucked string, exact pitch through virtual-rate resampling."""
    S = 0.5
    t60 = float(np.clip(p['t60'] * (196.0 / f) ** p.get('t60exp', 0.45), 0.12, 8.0))
    L = min(t60 * 1.05, p.get('maxlen', 4.5))
    n = int(L * SR)
    N = max(2, int(SR / f - S))
    srv = (N + S) * f
    m = int(n * srv / SR) + N + 4
    rho = 10.0 ** (-3.0 / (t60 * f))
    exc = rng.uniform(-1, 1, N)
    bc = p['bright'] * (0.4 + 0.8 * vel)
    exc = filt(np.concatenate([exc, exc]), 'low', min(0.45 * SR, f * (1.5 + 40.0 * bc ** 2)))[N:]
    sh = max(1, int(N * p.get('pos', 0.13)))
    exc = exc - np.roll(exc, sh)
    exc -= exc.mean()
    y = np.zeros(m + 1)
    y[1:N + 1] = exc
    k = N + 1
    while k < m + 1:
        e = min(k + N, m + 1)
        y[k:e] = rho * (S * y[k - N:e - N] + (1 - S) * y[k - N - 1:e - N - 1])
        k = e
    y = y[1:]
    ti = np.arange(n) * (srv / SR)
    out = np.interp(ti, np.arange(len(y)), y)
    if p.get('drive', 0):
        out = out / (np.max(np.abs(out)) + 1e-9)
        out = np.tanh(p['drive'] * out)
    if p.get('lp'):
        out = filt(out, 'low', p['lp'])
    if p.get('hp'):
        out = filt(out, 'high', p['hp'])
    return fade_end(out)


def syn_add(f, dur, vel, p, rng):
    ratios, amps = p['ratios'], p['amps']
    taus = p.get('taus')
    if dur is None:
        L = min(p.get('maxlen', 5.0), 4.5 * max(taus))
        n = int(L * SR)
        env = np.ones(n)
    else:
        a, d, s, r = p['adsr']
        env = env_adsr(dur * SR, a, d, s, r)
        n = len(env)
    t = np.arange(n) / SR
    if p.get('vib', 0):
        vb = 2.0 ** (vibrato(t, p, 0.3, 5.2, 6, rng) / 1200.0)
        base = TWO_PI * f * np.cumsum(vb) / SR
    else:
        base = TWO_PI * f * t
    y = np.zeros(n)
    for i, (r, a) in enumerate(zip(ratios, amps, strict=False)):
        if r * f > 0.45 * SR:
            continue
        part = np.sin(base * r + rng.uniform(0, 6.28))
        if taus:
            part *= np.exp(-t / taus[i])
        y += a * (0.55 + 0.6 * vel) ** i * part
    if p.get('breath', 0):
        nz = filt(rng.standard_normal(n), 'band', [max(f * 1.5, 800), min(f * 8, 9000)])
        y += p['breath'] * nz * (0.5 + 0.5 * np.exp(-t / 0.08))
    if p.get('thump', 0):
        tn = min(n, int(0.05 * SR))
        y[:tn] += p['thump'] * filt(rng.standard_normal(tn), 'low', 400) * np.exp(-np.arange(tn) / (0.01 * SR))
    if p.get('trem', 0):
        y *= 1.0 - p['trem'] * 0.5 * (1 + np.sin(TWO_PI * p.get('tremrate', 5.5) * t))
    a0 = int(p.get('a', 0.003) * SR)
    if dur is None and a0 > 1:
        y[:a0] *= np.linspace(0, 1, a0)
    y = y * env
    return fade_end(y) if dur is None else y


def vibrato(t, p, ramp, rate, phase, rng):
    """Vibrato depth in cents over time t: p['vib'] cents, fading in over `ramp` s after p['vibdel']."""
    vd = np.clip((t - p.get('vibdel', 0.2)) / ramp, 0, 1)
    return p['vib'] * vd * np.sin(TWO_PI * p.get('vibrate', rate) * t + rng.uniform(0, phase))


def syn_saw(f, dur, vel, p, rng):
    a, d, s, r = p['adsr']
    env = env_adsr(dur * SR, a, d, s, r)
    n = len(env)
    t = np.arange(n) / SR
    vib = vibrato(t, p, 0.35, 5.5, 6.28, rng) if p.get('vib', 0) else 0.0
    y = np.zeros(n)
    dets = p.get('det', [0.0])
    sq = p.get('sq', 0.0)
    for c in dets:
        fr = f * 2.0 ** ((c + vib + rng.normal(0, 1.0)) / 1200.0) * np.ones(n)
        dt = fr / SR
        ph = (rng.uniform() + np.cumsum(dt)) % 1.0
        w = blep_saw(ph, dt)
        if sq:
            w2 = blep_saw((ph + 0.5) % 1.0, dt)
            w = (1 - sq) * w + sq * 0.5 * (w - w2)
        y += w
    y /= len(dets)
    if p.get('sub', 0):
        y += p['sub'] * np.sin(TWO_PI * f * t)
    if p.get('noise', 0):
        y += p['noise'] * filt(rng.standard_normal(n), 'band', [1500, 7000])
    cut = p['cut'] * (0.65 + 0.5 * vel)
    dark = filt(y, 'low', cut, 2)
    fe = p.get('fenv', 0)
    if fe:
        bright = filt(y, 'low', min(cut * (1 + 2.5 * fe), 16000), 2)
        w = np.exp(-t / p.get('fdec', 0.15))
        y = dark + (bright - dark) * w
    else:
        y = dark
    if p.get('hp'):
        y = filt(y, 'high', p['hp'])
    return y * env


class Inst:
    def __init__(self, name, fn, p, decaying, rel=0.1):
        self.name, self.fn, self.p, self.decaying, self.rel = name, fn, p, decaying, rel
        self.cache = {}

    def note(self, midi, dur, vel, rng):
        vq = min(1.0, max(0.2, round(vel * 5) / 5.0))
        if self.decaying:
            key = (midi, vq)
            x = self.cache.get(key)
            if x is None:
                x = self.fn(mtof(midi), None, vq, self.p, rng).astype(np.float32)
                x /= (np.max(np.abs(x)) + 1e-9)
                self.cache[key] = x
            return release_at(x, dur, self.rel)
        dq = round(dur / 0.05) * 0.05 if dur < 1.5 else round(dur / 0.15) * 0.15
        dq = max(dq, 0.05)
        key = (midi, vq, round(dq, 3))
        x = self.cache.get(key)
        if x is None:
            x = self.fn(mtof(midi), dq, vq, self.p, rng).astype(np.float32)
            x /= (np.max(np.abs(x)) + 1e-9)
            self.cache[key] = x
        return x


def make_inst(name, rng):
    u = rng.uniform
    if name == 'piano':
        return Inst(name, syn_piano, dict(sus=u(1.6, 3.2), B=u(1e-4, 5e-4), bright=u(0.7, 1.3), det=u(4e-4, 1.2e-3)), True, 0.12)
    if name == 'epiano':
        return Inst(name, syn_epiano, dict(sus=u(1.2, 2.6), index=u(0.8, 2.2), tine=u(0.05, 0.2), trem=u(0, 0.25)), True, 0.1)
    if name == 'organ':
        draws = [[8, 8, 8, 0, 0, 0, 0, 0, 0], [8, 8, 8, 8, 0, 0, 0, 0, 8], [0, 0, 8, 8, 6, 4, 0, 0, 0],
                 [6, 8, 8, 6, 0, 0, 0, 0, 0], [8, 6, 8, 5, 3, 4, 0, 2, 4]]
        return Inst(name, syn_organ, dict(draw=draws[rng.integers(len(draws))], click=u(0.05, 0.2), trem=u(0.04, 0.12), lrate=u(5.5, 7.0)), False)
    if name == 'steel_gtr':
        return Inst(name, syn_ks, dict(t60=u(1.8, 3.0), bright=u(0.6, 0.85), pos=u(0.1, 0.2), hp=90), True, 0.06)
    if name == 'nylon_gtr':
        return Inst(name, syn_ks, dict(t60=u(1.4, 2.4), bright=u(0.3, 0.45), pos=u(0.15, 0.25), lp=5000, hp=80), True, 0.08)
    if name == 'clean_gtr':
        return Inst(name, syn_ks, dict(t60=u(1.2, 2.2), bright=u(0.45, 0.65), pos=u(0.08, 0.15), lp=u(3500, 6000), hp=100), True, 0.05)
    if name == 'dist_gtr':
        return Inst(name, syn_ks, dict(t60=u(2.5, 4.0), bright=u(0.6, 0.8), pos=0.12, drive=u(4, 9), lp=u(3000, 4500), hp=90), True, 0.05)
    if name == 'clean_lead':
        return Inst(name, syn_ks, dict(t60=u(2.5, 4.0), bright=u(0.55, 0.75), pos=0.15, drive=u(1.5, 3.0), lp=u(3500, 5000), hp=120), True, 0.08)
    if name == 'harp':
        return Inst(name, syn_ks, dict(t60=u(2.5, 4.0), bright=u(0.3, 0.42), pos=0.45, lp=6000), True, 0.5)
    if name == 'harpsichord':
        return Inst(name, syn_ks, dict(t60=u(1.2, 2.0), bright=u(0.95, 1.1), pos=u(0.05, 0.09), hp=150), True, 0.08)
    if name == 'clav':
        return Inst(name, syn_ks, dict(t60=u(0.5, 0.9), bright=u(0.9, 1.05), pos=0.06, hp=250, lp=6000), True, 0.03)
    if name == 'pick_bass':
        return Inst(name, syn_ks, dict(t60=u(2.0, 3.5), t60exp=0.1, bright=u(0.35, 0.5), pos=0.12, lp=u(1800, 3000)), True, 0.05)
    if name == 'finger_bass':
        s = u(0.8, 1.3)
        return Inst(name, syn_add, dict(ratios=[1, 2, 3, 4, 5, 6], amps=[1, .55, .3, .18, .1, .05],
                                        taus=[1.8 * s, 1.0 * s, .6 * s, .4 * s, .3 * s, .2 * s], thump=0.3, a=0.004), True, 0.06)
    if name == 'upright':
        s = u(0.8, 1.2)
        return Inst(name, syn_add, dict(ratios=[1, 2, 3, 4, 5], amps=[1, .7, .35, .2, .1],
                                        taus=[1.0 * s, .55 * s, .3 * s, .2 * s, .15 * s], thump=0.6, a=0.006), True, 0.08)
    if name == 'synth_bass':
        return Inst(name, syn_saw, dict(adsr=(0.004, 0.25, u(0.5, 0.8), 0.06), det=[0], sq=u(0, 0.6), cut=u(350, 800),
                                        fenv=u(1.0, 3.0), fdec=u(0.06, 0.18), sub=u(0.3, 0.7)), False)
    if name == 'sub_bass':
        return Inst(name, syn_add, dict(ratios=[1, 2, 3], amps=[1, .2, .06], adsr=(0.008, 0.6, 0.75, 0.08)), False)
    if name == 'tuba':
        return Inst(name, syn_saw, dict(adsr=(0.035, 0.3, 0.8, 0.08), det=[0], cut=u(400, 650), fenv=0.8, fdec=0.08), False)
    if name == 'strings':
        return Inst(name, syn_saw, dict(adsr=(u(0.12, 0.3), 1.0, 1.0, u(0.3, 0.5)), det=[-9, 0, 8], cut=u(2200, 3800),
                                        vib=u(8, 14), vibrate=u(5.0, 5.8), vibdel=0.15, noise=0.015), False)
    if name == 'cello':
        return Inst(name, syn_saw, dict(adsr=(u(0.08, 0.18), 1.0, 1.0, 0.3), det=[-5, 4], cut=u(1200, 1900),
                                        vib=u(8, 14), vibrate=5.2, vibdel=0.2), False)
    if name == 'pad':
        return Inst(name, syn_saw, dict(adsr=(u(0.3, 0.7), 1.0, 1.0, u(0.6, 1.0)), det=[-12, -4, 5, 12], cut=u(800, 1600)), False)
    if name == 'pluck_synth':
        return Inst(name, syn_saw, dict(adsr=(0.003, u(0.12, 0.25), 0.0, 0.08), det=[-7, 7], sq=u(0, 0.5), cut=u(1500, 3000),
                                        fenv=2.0, fdec=0.08), False)
    if name == 'lead_saw':
        return Inst(name, syn_saw, dict(adsr=(0.01, 0.3, 0.8, 0.1), det=[-6, 6], cut=u(2500, 4500), fenv=1.0, fdec=0.2,
                                        vib=u(10, 22), vibdel=0.25), False)
    if name == 'lead_square':
        return Inst(name, syn_saw, dict(adsr=(0.01, 0.2, 0.85, 0.1), det=[0, 5], sq=0.9, cut=u(1800, 3500), vib=u(10, 18)), False)
    if name == 'brass':
        return Inst(name, syn_saw, dict(adsr=(0.035, 0.3, 0.85, 0.1), det=[-5, 5], cut=u(900, 1400), fenv=u(1.5, 2.5),
                                        fdec=0.2, vib=u(5, 10)), False)
    if name == 'trumpet':
        return Inst(name, syn_saw, dict(adsr=(0.03, 0.3, 0.85, 0.08), det=[0], cut=u(1600, 2200), fenv=1.5, fdec=0.15,
                                        vib=u(8, 14), vibdel=0.25), False)
    if name == 'horn':
        return Inst(name, syn_saw, dict(adsr=(0.07, 0.4, 0.9, 0.25), det=[0, 3], cut=u(700, 1000), fenv=0.5, fdec=0.2, vib=5), False)
    if name == 'sax':
        return Inst(name, syn_saw, dict(adsr=(0.025, 0.2, 0.85, 0.08), det=[0], sq=0.3, cut=u(1500, 2200), fenv=0.8, fdec=0.1,
                                        vib=u(14, 22), vibdel=0.2, noise=0.04), False)
    if name in ('fiddle', 'violin'):
        return Inst(name, syn_saw, dict(adsr=(0.05 if name == 'fiddle' else 0.1, 0.5, 0.9, 0.15), det=[0], cut=u(3000, 4500),
                                        vib=u(15, 28), vibrate=u(5.5, 6.5), vibdel=0.12, noise=0.025), False)
    if name == 'reed':
        return Inst(name, syn_saw, dict(adsr=(0.03, 0.2, 0.9, 0.08), det=[-7, 0, 6], sq=0.5, cut=u(2000, 3000),
                                        vib=0), False)
    if name == 'flute':
        return Inst(name, syn_add, dict(ratios=[1, 2, 3, 4], amps=[1, .25, .1, .04], adsr=(0.05, 0.2, 0.9, 0.1),
                                        vib=u(8, 16), vibrate=5.0, breath=u(0.05, 0.1)), False)
    if name == 'clarinet':
        return Inst(name, syn_add, dict(ratios=[1, 2, 3, 5, 7, 9], amps=[1, .04, .45, .25, .12, .06], adsr=(0.04, 0.2, 0.9, 0.08),
                                        vib=u(0, 5), breath=0.03), False)
    if name == 'vibes':
        return Inst(name, syn_add, dict(ratios=[1, 4, 10], amps=[1, .25, .05], taus=[u(1.8, 2.8), .5, .15], trem=u(0.2, 0.4),
                                        tremrate=u(4.5, 6.0), a=0.002, maxlen=4.0), True, 0.25)
    if name == 'marimba':
        return Inst(name, syn_add, dict(ratios=[1, 3.93, 9.24], amps=[1, .3, .08], taus=[.5, .12, .04], a=0.001), True, 0.1)
    if name == 'celesta':
        return Inst(name, syn_add, dict(ratios=[1, 2, 3, 4.1], amps=[1, .3, .1, .05], taus=[1.2, .4, .2, .1], a=0.001), True, 0.3)
    if name == 'musicbox':
        return Inst(name, syn_add, dict(ratios=[1, 2.0, 4.1, 6.3], amps=[1, .35, .2, .08], taus=[1.6, .6, .25, .12], a=0.001), True, 0.6)
    raise ValueError(name)


# ----------------------------------------------------------------------------
# Drum synthesis
# ----------------------------------------------------------------------------
def metallic(n, base, rng):
    t = np.arange(n) / SR
    y = np.zeros(n)
    for r in [1.0, 1.4826, 1.8004, 2.5462, 2.6303, 3.8968]:
        y += np.sign(np.sin(TWO_PI * base * r * t + rng.uniform(0, 6.28)))
    return y


def drum_sound(name, p, rng):
    def nz(n):
        return rng.standard_normal(n)
    if name == 'kick':
        n = int(0.6 * SR); t = np.arange(n) / SR
        f = p['k_lo'] + (p['k_hi'] - p['k_lo']) * np.exp(-t / p['k_pd'])
        body = np.sin(TWO_PI * np.cumsum(f) / SR) * np.exp(-t / p['k_dec'])
        click = filt(nz(n), 'high', 2000) * np.exp(-t / 0.0025) * p['k_click']
        y = np.tanh((body + click) * p['k_drive'])
    elif name == 'snare':
        n = int(0.45 * SR); t = np.arange(n) / SR
        fs = p['s_f'] * (1 + 0.3 * np.exp(-t / 0.01))
        ph = TWO_PI * np.cumsum(fs) / SR
        tone = (np.sin(ph) + 0.5 * np.sin(1.6 * ph)) * np.exp(-t / 0.045)
        noise = filt(nz(n), 'band', [1200, 9000]) * np.exp(-t / p['s_dec'])
        y = p['s_tone'] * tone + 1.6 * noise
    elif name == 'brush':
        n = int(0.35 * SR); t = np.arange(n) / SR
        e = np.minimum(t / 0.012, 1.0) * np.exp(-t / 0.12)
        y = filt(nz(n), 'band', [1500, 7000]) * e
    elif name in ('hat', 'hat_open', 'hat_pedal'):
        dec = {'hat': p['h_dec'], 'hat_open': p['h_open'], 'hat_pedal': 0.025}[name]
        n = int(min(dec * 6, 1.2) * SR) + 64; t = np.arange(n) / SR
        y = 0.6 * filt(metallic(n, p['h_base'], rng), 'high', 7000) + 0.5 * filt(nz(n), 'high', 8000)
        y *= np.exp(-t / dec)
        if name == 'hat_pedal':
            y = filt(y, 'low', 9000)
    elif name in ('ride', 'ride_bell'):
        n = int(2.0 * SR); t = np.arange(n) / SR
        y = 0.4 * filt(metallic(n, p['h_base'] * 1.31, rng), 'high', 4500) * np.exp(-t / p['r_dec'])
        y += 0.3 * filt(nz(n), 'high', 6000) * np.exp(-t / (0.6 * p['r_dec']))
        bell = np.sin(TWO_PI * p['r_bell'] * t) + 0.6 * np.sin(TWO_PI * p['r_bell'] * 2.76 * t)
        y += (0.15 if name == 'ride' else 0.6) * bell * np.exp(-t / 0.5)
        y[:int(0.004 * SR)] += filt(nz(int(0.004 * SR)), 'high', 3000) * 0.5
    elif name == 'crash':
        n = int(2.5 * SR); t = np.arange(n) / SR
        y = filt(nz(n), 'high', 3500) * np.exp(-t / p['c_dec'])
        y += 0.5 * filt(metallic(n, p['h_base'] * 0.77, rng), 'high', 5000) * np.exp(-t / (0.6 * p['c_dec']))
        y[:int(0.002 * SR)] *= np.linspace(0, 1, int(0.002 * SR))
    elif name == 'rim':
        n = int(0.12 * SR); t = np.arange(n) / SR
        y = filt(nz(n), 'band', [700, 5000]) * np.exp(-t / 0.006) + 0.6 * np.sin(TWO_PI * p['rim_f'] * t) * np.exp(-t / 0.012)
        y += 0.3 * np.sin(TWO_PI * p['rim_f'] * 0.31 * t) * np.exp(-t / 0.02)
    elif name == 'clap':
        n = int(0.35 * SR); t = np.arange(n) / SR
        e = np.zeros(n)
        for k in range(3):
            t0 = k * 0.011
            e += np.where(t >= t0, np.exp(-(t - t0) / 0.004), 0)
        e += 0.7 * np.where(t >= 0.033, np.exp(-(t - 0.033) / p['cl_dec']), 0)
        y = filt(nz(n), 'band', [900, 3500]) * e
    elif name == 'shaker':
        n = int(0.16 * SR); t = np.arange(n) / SR
        e = np.minimum(t / 0.012, 1.0) * np.exp(-np.maximum(t - 0.012, 0) / 0.04)
        y = filt(nz(n), 'high', 5000) * e
    elif name == 'tamb':
        n = int(0.35 * SR); t = np.arange(n) / SR
        y = 0.5 * filt(nz(n), 'high', 7000) * np.exp(-t / 0.06)
        for _ in range(8):
            y += 0.15 * np.sin(TWO_PI * rng.uniform(5000, 11000) * t) * np.exp(-t / rng.uniform(0.05, 0.15))
    elif name in ('tom_hi', 'tom_mid', 'tom_lo'):
        n = int(0.6 * SR); t = np.arange(n) / SR
        f0 = p['t_f'] * {'tom_hi': 1.5, 'tom_mid': 1.2, 'tom_lo': 1.0}[name]
        f = f0 * (1 + 0.35 * np.exp(-t / 0.04))
        y = np.sin(TWO_PI * np.cumsum(f) / SR) * np.exp(-t / 0.3)
        y += 0.3 * filt(nz(n), 'band', [300, 3000]) * np.exp(-t / 0.02)
    elif name in ('conga_hi', 'conga_lo', 'conga_slap', 'bongo_hi', 'bongo_lo'):
        n = int(0.5 * SR); t = np.arange(n) / SR
        f0 = {'conga_hi': p['cg_f'] * 1.33, 'conga_lo': p['cg_f'], 'conga_slap': p['cg_f'] * 1.33,
              'bongo_hi': p['cg_f'] * 2.6, 'bongo_lo': p['cg_f'] * 2.0}[name]
        dec = 0.07 if name == 'conga_slap' else (0.09 if name.startswith('bongo') else 0.17)
        f = f0 * (1 + 0.08 * np.exp(-t / 0.02))
        ph = TWO_PI * np.cumsum(f) / SR
        y = (np.sin(ph) + 0.3 * np.sin(1.52 * ph) * np.exp(-t / 0.05)) * np.exp(-t / dec)
        sl = 1.0 if name == 'conga_slap' else 0.2
        y += sl * filt(nz(n), 'band', [1200, 6000]) * np.exp(-t / 0.012)
    elif name == 'cowbell':
        n = int(0.5 * SR); t = np.arange(n) / SR
        y = np.sign(np.sin(TWO_PI * 587 * p['cb_t'] * t)) + np.sign(np.sin(TWO_PI * 845 * p['cb_t'] * t))
        y = filt(y, 'band', [600, 3000]) * (0.7 * np.exp(-t / 0.015) + 0.3 * np.exp(-t / 0.2))
    elif name == 'claves':
        n = int(0.15 * SR); t = np.arange(n) / SR
        y = np.sin(TWO_PI * 2500 * t) * np.exp(-t / 0.035)
    else:
        raise ValueError(name)
    y = np.asarray(y, dtype=float)
    y[:8] *= np.linspace(0, 1, 8)
    return fade_end(y / (np.max(np.abs(y)) + 1e-9), 128).astype(np.float32)


DRUM_GAIN = {'kick': 1.0, 'snare': 0.75, 'brush': 0.35, 'hat': 0.28, 'hat_open': 0.28, 'hat_pedal': 0.22, 'ride': 0.3,
             'ride_bell': 0.3, 'crash': 0.4, 'rim': 0.45, 'clap': 0.6, 'shaker': 0.2, 'tamb': 0.25, 'tom_hi': 0.7,
             'tom_mid': 0.7, 'tom_lo': 0.75, 'conga_hi': 0.55, 'conga_lo': 0.55, 'conga_slap': 0.5, 'bongo_hi': 0.45,
             'bongo_lo': 0.45, 'cowbell': 0.3, 'claves': 0.35}
DRUM_PAN = {'kick': 0.0, 'snare': -0.05, 'brush': -0.05, 'hat': 0.35, 'hat_open': 0.35, 'hat_pedal': 0.35, 'ride': -0.4,
            'ride_bell': -0.4, 'crash': -0.3, 'rim': -0.05, 'clap': 0.0, 'shaker': 0.5, 'tamb': -0.5, 'tom_hi': 0.3,
            'tom_mid': 0.0, 'tom_lo': -0.35, 'conga_hi': 0.4, 'conga_lo': 0.25, 'conga_slap': 0.4, 'bongo_hi': -0.4,
            'bongo_lo': -0.3, 'cowbell': -0.25, 'claves': 0.2}


class Kit:
    def __init__(self, rng):
        u = rng.uniform
        self.p = dict(k_lo=u(42, 58), k_hi=u(120, 220), k_pd=u(0.02, 0.06), k_dec=u(0.18, 0.45), k_click=u(0.1, 0.6),
                      k_drive=u(1.0, 2.5), s_f=u(170, 250), s_dec=u(0.08, 0.2), s_tone=u(0.3, 0.9), h_base=u(300, 450),
                      h_dec=u(0.025, 0.06), h_open=u(0.2, 0.4), r_dec=u(0.9, 1.6), r_bell=u(700, 1100), c_dec=u(0.9, 1.6),
                      rim_f=u(1400, 2200), cl_dec=u(0.06, 0.12), t_f=u(95, 130), cg_f=u(180, 230), cb_t=u(0.9, 1.1))
        self.cache = {}

    def hit(self, name, rng):
        v = self.cache.get(name)
        if v is None:
            v = [drum_sound(name, self.p, rng) for _ in range(3)]
            self.cache[name] = v
        return v[rng.integers(3)]


# ----------------------------------------------------------------------------
# Harmony
# ----------------------------------------------------------------------------
MAJ = [0, 2, 4, 5, 7, 9, 11]
NMIN = [0, 2, 3, 5, 7, 8, 10]
QUAL = {'maj': [0, 4, 7], 'min': [0, 3, 7], 'dim': [0, 3, 6], '7': [0, 4, 7, 10], 'maj7': [0, 4, 7, 11],
        'm7': [0, 3, 7, 10], 'm7b5': [0, 3, 6, 10], '6': [0, 4, 7, 9], 'sus4': [0, 5, 7]}
RN = {1: {'I': (0, 'maj'), 'ii': (2, 'min'), 'iii': (4, 'min'), 'IV': (5, 'maj'), 'V': (7, 'maj'), 'vi': (9, 'min'),
          'V7': (7, '7'), 'Imaj7': (0, 'maj7'), 'I6': (0, '6'), 'ii7': (2, 'm7'), 'iii7': (4, 'm7'), 'IVmaj7': (5, 'maj7'),
          'vi7': (9, 'm7'), 'I7': (0, '7'), 'IV7': (5, '7'), 'II7': (2, '7')},
      0: {'i': (0, 'min'), 'iio': (2, 'dim'), 'III': (3, 'maj'), 'iv': (5, 'min'), 'V': (7, 'maj'), 'VI': (8, 'maj'),
          'VII': (10, 'maj'), 'V7': (7, '7'), 'im7': (0, 'm7'), 'iiø7': (2, 'm7b5'), 'iv7': (5, 'm7'),
          'VImaj7': (8, 'maj7'), 'IIImaj7': (3, 'maj7'), 'VII7': (10, '7'), 'VI7': (8, '7'), 'i7': (0, 'm7')}}

TPL = {
    (1, 'open'): ["I vi IV V", "I IV I V", "I iii IV V", "IV IV I V", "I ii IV V", "vi IV I V", "I V IV V",
                  "I IV ii V", "I vi ii V"],
    (1, 'loop'): ["I V vi IV", "I vi IV V", "IV I V vi", "I IV vi V", "I V IV I"],
    (1, 'closed'): ["I IV V I", "I ii V I", "IV V I I", "ii V I I", "vi IV V I", "IV I V I", "I vi V I", "IV ii V I",
                    "I IV V7 I", "ii V7 I I"],
    (0, 'open'): ["i VI III VII", "i iv VII III", "i VII VI V", "i iv i V", "i VI iv V", "iv i VI V", "i III iv V"],
    (0, 'loop'): ["i VI III VII", "i VII VI VII", "i iv VI V", "i VI VII i"],
    (0, 'closed'): ["i iv V i", "VI iv V i", "iv V i i", "i VI V i", "iio V i i", "iv i V i", "i iv V7 i", "VI iio V i"],
}
EIGHT = {1: ["I IV I V I IV V I", "I I IV IV I I V I", "IV IV I I IV IV V I", "I vi IV V I IV V I",
             "I V vi IV I IV V I"],
         0: ["i i iv iv i i V i", "i VI III VII i iv V i", "i iv VII III VI iio V i", "iv iv i i VI VI V i",
             "i VII VI V i iv V i"]}
FOLK_OK = {'I', 'IV', 'V', 'V7', 'ii', 'vi', 'i', 'iv', 'VI', 'VII', 'III'}
BLUES = {1: {12: ("I IV I I7 IV IV I I V7 IV I V7", "I IV I I7 IV IV I I ii7 V7 I I"),
             8: ("I I7 IV IV I V7 I V7", "I I7 IV IV I V7 I I"),
             4: ("I IV I V7", "IV IV7 V7 I")},
         0: {12: ("i iv i i iv iv i i VI V7 i V7", "i iv i i iv iv i i VI V7 i i"),
             8: ("i i iv iv i V7 i V7", "i i iv iv i V7 i i"),
             4: ("i iv i V7", "iv iv V7 i")}}
JAZZ_MAP = {1: {'I': ['Imaj7', 'I6'], 'ii': ['ii7'], 'iii': ['iii7'], 'IV': ['IVmaj7'], 'V': ['V7'], 'vi': ['vi7']},
            0: {'i': ['im7', 'i'], 'iio': ['iiø7'], 'iv': ['iv7'], 'V': ['V7'], 'VI': ['VImaj7'], 'III': ['IIImaj7'],
                'VII': ['VII7']}}
POP7_MAP = {1: {'ii': ['ii7'], 'vi': ['vi7'], 'V': ['V7']}, 0: {'iv': ['iv7'], 'V': ['V7']}}


def make_chord(rn, key, mode, bass_third=False):
    iv, q = RN[mode][rn]
    root = (key + iv) % 12
    ints = QUAL[q]
    pcs = [(root + i) % 12 for i in ints]
    base = [(key + d) % 12 for d in (MAJ if mode == 1 else NMIN)]
    scale = list(base)
    for c in pcs:
        if c not in scale:
            scale = [s for s in scale if min((s - c) % 12, (c - s) % 12) != 1]
            scale.append(c)
    bass = pcs[1] if bass_third else root
    return dict(rn=rn, root=root, q=q, pcs=pcs, third=pcs[1], fifth=(root + ints[2]) % 12 if len(ints) > 2 else root,
                bass=bass, scale=sorted(set(scale)))


# ----------------------------------------------------------------------------
# Styles
# ----------------------------------------------------------------------------
STYLES = {
    'pop_rock': dict(meters=[('4/4', 1)], drums=1.0, harm='pop', slot=(1.1, 3.5),
                     bass=[('eighths', 'pick_bass'), ('root_beats', 'finger_bass'), ('eighths', 'finger_bass')],
                     comp=[('strum', 'steel_gtr'), ('power', 'dist_gtr'), ('block', 'piano')],
                     comp2=[None, ('pad', 'organ'), ('pad', 'strings'), ('block', 'epiano')],
                     lead=['lead_saw', 'lead_square', 'sax', 'brass', 'clean_lead'], kit='rock', mel=(0.35, 0.13), verb=0.5),
    'piano_ballad': dict(meters=[('4/4', .5), ('3/4', .3), ('12/8', .2)], drums=0.0, harm='pop', slot=(1.5, 5.0),
                         bass=[('whole', 'piano')], comp=[('arp', 'piano')], comp2=[None, ('pad', 'strings'), ('pad', 'pad')],
                         lead=['piano', 'flute', 'violin', 'clarinet'], kit=None, mel=(0.5, 0.16), verb=0.85),
    'disco_house': dict(meters=[('4/4', 1)], drums=1.0, harm='pop', slot=(1.0, 3.2),
                        bass=[('octave', 'synth_bass'), ('octave', 'finger_bass')],
                        comp=[('offbeat', 'epiano'), ('offbeat', 'piano'), ('strum', 'clean_gtr')],
                        comp2=[('pad', 'strings'), ('pad', 'pad'), ('stabs', 'brass')],
                        lead=['lead_saw', 'lead_square', 'flute', 'brass'], kit='disco', mel=(0.35, 0.13), verb=0.4),
    'funk': dict(meters=[('4/4', 1)], drums=1.0, harm='pop7', slot=(1.0, 3.5),
                 bass=[('funk', 'synth_bass'), ('funk', 'finger_bass'), ('funk', 'pick_bass')],
                 comp=[('chops', 'clav'), ('chops', 'clean_gtr')], comp2=[('stabs', 'brass'), ('pad', 'organ'), None],
                 lead=['brass', 'sax', 'lead_square', 'trumpet'], kit='funk', mel=(0.3, 0.12), verb=0.3),
    'reggae_ska': dict(meters=[('4/4', 1)], drums=1.0, harm='pop', slot=(1.0, 3.5),
                       bass=[('reggae', 'finger_bass'), ('reggae', 'sub_bass')],
                       comp=[('offbeat', 'clean_gtr'), ('offbeat', 'organ'), ('offbeat', 'piano')],
                       comp2=[('pad', 'organ'), None], lead=['reed', 'lead_square', 'brass', 'trumpet'], kit='reggae',
                       mel=(0.4, 0.14), verb=0.5),
    'jazz_swing': dict(meters=[('4/4', 1)], drums=1.0, harm='jazz', slot=(0.9, 3.2), swing=(0.58, 0.66),
                       bass=[('walking', 'upright')], comp=[('swing_comp', 'piano'), ('swing_comp', 'epiano')],
                       comp2=[None], lead=['vibes', 'sax', 'trumpet', 'flute'], kit='jazz', mel=(0.3, 0.12), verb=0.6),
    'jazz_waltz': dict(meters=[('3/4', 1)], drums=0.8, harm='jazz', slot=(1.0, 4.0), swing=(0.58, 0.64),
                       bass=[('walking', 'upright')], comp=[('swing_comp', 'piano'), ('swing_comp', 'epiano')],
                       comp2=[None], lead=['vibes', 'sax', 'flute'], kit='jazzwaltz', mel=(0.35, 0.13), verb=0.6),
    'bossa_nova': dict(meters=[('4/4', .7), ('2/4', .3)], drums=0.55, harm='jazz', slot=(1.1, 4.0),
                       bass=[('bossa', 'upright'), ('bossa', 'finger_bass')], comp=[('bossa_gtr', 'nylon_gtr')],
                       comp2=[None, ('pad', 'strings')], lead=['flute', 'sax', 'vibes', 'epiano'], kit='bossa',
                       mel=(0.4, 0.14), verb=0.5),
    'salsa': dict(meters=[('4/4', 1)], drums=1.0, harm='latin', slot=(1.0, 3.5),
                  bass=[('tumbao', 'finger_bass'), ('tumbao', 'upright')], comp=[('montuno', 'piano')],
                  comp2=[('stabs', 'brass'), None], lead=['trumpet', 'flute', 'brass'], kit='salsa', mel=(0.3, 0.12), verb=0.4),
    'folk_waltz': dict(meters=[('3/4', 1)], drums=0.0, harm='folk', slot=(1.0, 4.5),
                       bass=[('waltz', 'steel_gtr'), ('waltz', 'upright'), ('waltz', 'finger_bass')],
                       comp=[('waltz_pah', 'steel_gtr'), ('waltz_pah', 'reed'), ('waltz_pah', 'piano')], comp2=[None],
                       lead=['fiddle', 'reed', 'flute'], kit=None, mel=(0.35, 0.13), verb=0.5),
    'celtic_jig': dict(meters=[('6/8', 1)], drums=0.0, harm='folk', slot=(0.9, 4.0),
                       bass=[('compound', 'upright'), ('compound', 'steel_gtr')],
                       comp=[('strum', 'steel_gtr'), ('strum', 'nylon_gtr'), ('arp', 'harp')], comp2=[None, ('pad', 'reed')],
                       lead=['fiddle', 'flute'], kit=None, mel=(0.22, 0.09), verb=0.5),
    'country': dict(meters=[('4/4', .6), ('2/4', .4)], drums=1.0, harm='folk', slot=(1.0, 3.5),
                    bass=[('root_fifth', 'finger_bass'), ('root_fifth', 'upright')], comp=[('strum', 'steel_gtr')],
                    comp2=[('offbeat', 'piano'), None, ('pad', 'organ')], lead=['fiddle', 'clean_lead', 'reed'],
                    kit='country', mel=(0.3, 0.12), verb=0.4),
    'march': dict(meters=[('2/4', .6), ('6/8', .4)], drums=1.0, harm='folk', slot=(0.9, 3.5),
                  bass=[('march', 'tuba')], comp=[('offbeat', 'horn'), ('offbeat', 'brass')], comp2=[None, ('pad', 'clarinet')],
                  lead=['trumpet', 'flute', 'clarinet'], kit='march', mel=(0.3, 0.11), verb=0.6),
    'chorale': dict(meters=[('4/4', .6), ('3/4', .4)], drums=0.0, harm='classical', slot=(1.2, 4.5), inv=True,
                    bass=[('whole', 'cello'), ('root_beats', 'cello')], comp=[('pad', 'strings')], comp2=[None],
                    lead=['violin'], kit=None, mel=(0.6, 0.2), verb=0.9),
    'film': dict(meters=[('4/4', .5), ('3/4', .25), ('6/8', .25)], drums=0.0, harm='classical', slot=(2.0, 5.2),
                 bass=[('whole', 'cello'), ('whole', 'piano')], comp=[('arp', 'harp'), ('arp', 'piano')],
                 comp2=[('pad', 'strings'), ('pad', 'pad')], lead=['horn', 'flute', 'violin', 'celesta'], kit=None,
                 mel=(0.55, 0.16), verb=0.95),
    'baroque': dict(meters=[('4/4', .5), ('3/4', .3), ('12/8', .2)], drums=0.0, harm='classical', slot=(1.0, 4.0), inv=True,
                    bass=[('walking8', 'harpsichord'), ('walking8', 'cello')], comp=[('alberti', 'harpsichord'), ('arp', 'harpsichord')],
                    comp2=[None], lead=['flute', 'clarinet', 'violin'], kit=None, mel=(0.28, 0.11), verb=0.6),
    'blues_shuffle': dict(meters=[('12/8', 1)], drums=1.0, harm='blues', slot=(0.9, 5.0), P=[12, 8, 4],
                          bass=[('boogie', 'finger_bass'), ('boogie', 'upright')],
                          comp=[('triplets', 'piano'), ('pad', 'organ'), ('strum', 'clean_gtr')],
                          comp2=[('pad', 'organ'), None], lead=['clean_lead', 'sax', 'brass', 'reed'], kit='shuffle',
                          mel=(0.35, 0.13), verb=0.5),
    'soul_68': dict(meters=[('6/8', .5), ('12/8', .5)], drums=1.0, harm='pop', slot=(1.0, 4.5),
                    bass=[('compound', 'finger_bass')], comp=[('triplets', 'piano'), ('arp', 'clean_gtr')],
                    comp2=[('pad', 'organ'), ('pad', 'strings')], lead=['sax', 'lead_saw', 'flute', 'violin'], kit='soul68',
                    mel=(0.45, 0.15), verb=0.6),
    'lofi_hiphop': dict(meters=[('4/4', 1)], drums=1.0, harm='jazz', slot=(1.2, 4.5), swing16=(0.54, 0.62),
                        bass=[('sub', 'sub_bass'), ('sub', 'finger_bass')], comp=[('pad', 'epiano'), ('block', 'epiano')],
                        comp2=[None, ('pad', 'pad')], lead=['vibes', 'flute', 'lead_square', 'celesta'], kit='hiphop',
                        mel=(0.45, 0.14), verb=0.5),
    'synthpop': dict(meters=[('4/4', 1)], drums=1.0, harm='pop', slot=(1.0, 3.5), bass=[('synth8', 'synth_bass')],
                     comp=[('arp_synth', 'pluck_synth')], comp2=[('pad', 'pad'), ('pad', 'strings')],
                     lead=['lead_saw', 'lead_square'], kit='synthpop', mel=(0.35, 0.13), verb=0.5),
    'music_box': dict(meters=[('3/4', .6), ('6/8', .4)], drums=0.0, harm='folk', slot=(1.0, 4.5),
                      bass=[('waltz', 'harp')], comp=[('arp', 'harp'), ('waltz_pah', 'celesta')], comp2=[None, ('pad', 'pad')],
                      lead=['musicbox', 'celesta', 'vibes'], kit=None, mel=(0.4, 0.14), verb=0.8),
}
OPTIONAL_DRUMS = ['bossa_nova', 'jazz_waltz']

LEAD_CENTER = {'lead_saw': 72, 'lead_square': 72, 'sax': 67, 'brass': 69, 'trumpet': 72, 'horn': 64, 'flute': 79,
               'piano': 74, 'epiano': 72, 'vibes': 74, 'fiddle': 74, 'violin': 74, 'reed': 71, 'clarinet': 69,
               'clean_lead': 67, 'musicbox': 84, 'celesta': 79}

METER = {'4/4': (4, False), '3/4': (3, False), '2/4': (2, False), '6/8': (2, True), '12/8': (4, True)}
HCANDS = {'4/4': [1, 2, 4, 8], '2/4': [1, 2, 4, 8], '3/4': [3, 6], '6/8': [1, 2, 4], '12/8': [2, 4, 8]}


def plan_form(style, meter, tempo, rng):
    cfg = STYLES[style]
    B, comp = METER[meter]
    spb = 60.0 / tempo
    lo, hi = cfg.get('slot', (1.0, 4.0))
    Ps = cfg.get('P', [4, 8])
    Hs = [2, B, 2 * B] if cfg['harm'] == 'blues' else HCANDS[meter]
    best = None
    for relax in (0, 1):
        for H in Hs:
            sl = H * spb
            if not (0.55 <= sl <= 6.0):
                continue
            for P in Ps:
                if (P * H) % B:
                    continue
                for n in range(1, int(10 * LENGTH)):
                    content = n * P * H * spb
                    cmin, cmax = (18.2 * LENGTH, 27.6 * LENGTH) if relax == 0 else (17.5 * LENGTH, 28.85 * LENGTH)
                    if not (cmin <= content <= cmax):
                        continue
                    sc = 2.0 * (n >= 2) + 3.0 * (lo <= sl <= hi) + 1.0 * (4.0 <= P * H * spb <= 14.0)
                    sc -= 1.5 * (H == 1 and B >= 3)
                    sc += rng.uniform(0, 1.5)
                    if best is None or sc > best[0]:
                        best = (sc, H, P, n, content)
        if best:
            break
    if best is None:
        raise RuntimeError('no form for %s %s %.1f' % (style, meter, tempo))
    return best[1:]


def pick_tpl(mode, cad, harm, rng):
    lst = TPL[(mode, cad)]
    if harm == 'folk':
        lst = [t for t in lst if all(s in FOLK_OK for s in t.split())] or lst
    return lst[rng.integers(len(lst))].split()


def make_progression(style, mode, P, n, rng):
    harm = STYLES[style]['harm']
    phrases = []
    for i in range(n):
        cad = 'closed' if i == n - 1 else str(rng.choice(['open', 'closed', 'loop'], p=[0.5, 0.3, 0.2]))
        if harm == 'blues':
            sy = BLUES[mode][P][1 if cad == 'closed' else 0].split()
            if cad == 'loop':
                cad = 'open'
        elif P == 4:
            sy = pick_tpl(mode, cad, harm, rng)
        elif P == 8:
            if cad == 'closed' and rng.random() < 0.35:
                e = EIGHT[mode]
                sy = e[rng.integers(len(e))].split()
            else:
                first = pick_tpl(mode, str(rng.choice(['open', 'loop'])), harm, rng)
                second = pick_tpl(mode, 'closed' if cad == 'closed' else 'open', harm, rng)
                if cad == 'loop':
                    cad = 'open'
                sy = first + second
        else:
            raise ValueError(P)
        if cad == 'loop':
            cad = 'open' if sy[-1] in ('V', 'V7') else 'loop'
        phrases.append(dict(sym=sy, cad=cad))
    # colour
    for ph in phrases:
        sy = ph['sym']
        for j, s in enumerate(sy):
            if harm == 'jazz' and s in JAZZ_MAP[mode]:
                opts = JAZZ_MAP[mode][s]
                sy[j] = opts[rng.integers(len(opts))]
            elif harm == 'pop7' and s in POP7_MAP[mode]:
                sy[j] = POP7_MAP[mode][s][0]
            elif harm in ('pop', 'latin', 'classical', 'folk') and s == 'V' and j + 1 < len(sy) and sy[j + 1] in ('I', 'i') \
                    and rng.random() < 0.4:
                sy[j] = 'V7'
            elif harm == 'blues' and s == 'IV' and rng.random() < 0.3 and mode == 1:
                sy[j] = 'IV7'
    return phrases


# ----------------------------------------------------------------------------
# Piece context
# ----------------------------------------------------------------------------
def is_int(x):
    return abs(x - round(x)) < 1e-6


class Ctx:
    pass


def build_ctx(i, seed, style, meter, tempo, key, mode, drums, rng):
    cfg = STYLES[style]
    C = Ctx()
    C.i, C.seed, C.style, C.meter, C.tempo, C.key, C.mode, C.drums = i, seed, style, meter, tempo, key, mode, drums
    C.B, C.comp = METER[meter]
    C.spb = 60.0 / tempo
    H, P, n, content = plan_form(style, meter, tempo, rng)
    C.H, C.P, C.nphr = H, P, n
    phr = make_progression(style, mode, P, n, rng)
    C.slots, C.phrases = [], []
    t = 0.0
    inv = cfg.get('inv', False)
    for pi, ph in enumerate(phr):
        ph_start = t
        sy = ph['sym']
        for j, s in enumerate(sy):
            last_phrase_slot = (j == len(sy) - 1)
            bt = False
            if inv and not last_phrase_slot and j + 1 < len(sy) and s not in ('V', 'V7') and \
                    not (j == 0 and pi == 0) and rng.random() < 0.25:
                bt = True
            ch = make_chord(s, key, mode, bt)
            C.slots.append(dict(t=t, d=float(H), ch=ch, phrase=pi))
            t += H
        C.phrases.append(dict(start=ph_start, beats=float(P * H), cad=ph['cad'], sym=sy, last=t - H))
    C.total_beats = t
    C.final_start = t - H
    C.starts = [s['t'] for s in C.slots]
    C.content_sec = t * C.spb
    C.tail = min(max(1.7, 20.4 - C.content_sec), 29.85 - C.content_sec) if LENGTH == 1.0 else 2.0
    C.total_sec = C.content_sec + C.tail
    sw = cfg.get('swing')
    C.swing8 = float(rng.uniform(*sw)) if sw else 0.5
    if sw and tempo > 170:
        C.swing8 = 0.5 + (C.swing8 - 0.5) * 0.5
    s16 = cfg.get('swing16')
    C.swing16 = float(rng.uniform(*s16)) if (s16 and tempo < 120) else 0.5
    C.mel = cfg['mel']
    return C


def chord_at(C, t):
    k = bisect.bisect_right(C.starts, t + 1e-6) - 1
    return C.slots[max(0, min(k, len(C.slots) - 1))]['ch']


def swing_map(t, r):
    if abs(r - 0.5) < 1e-9:
        return t
    b = math.floor(t + 1e-9)
    f = t - b
    f2 = f * (r / 0.5) if f <= 0.5 else r + (f - 0.5) * ((1 - r) / 0.5)
    return b + f2


def b2s(C, t):
    if not C.comp:
        t = swing_map(t, C.swing8)
        if abs(C.swing16 - 0.5) > 1e-9:
            t = swing_map(t * 2.0, C.swing16) / 2.0
    return t * C.spb


def strength(C, t):
    r = t % C.B
    if r < 1e-6 or abs(r - C.B) < 1e-6:
        return 1.0
    if is_int(r):
        return 0.88 if (C.B == 4 and abs(r - 2) < 1e-6 and not C.comp) else 0.8
    f = r - math.floor(r)
    if C.comp:
        return 0.62 if (abs(f - 1 / 3) < 1e-3 or abs(f - 2 / 3) < 1e-3) else 0.5
    return 0.66 if abs(f - 0.5) < 1e-6 else 0.55


# ----------------------------------------------------------------------------
# Melody
# ----------------------------------------------------------------------------
CELLS_S = [((1.,), 1.0), ((.5, .5), 1.2), ((.75, .25), .45), ((.25, .25, .5), .35), ((.5, .25, .25), .35),
           ((.25, .25, .25, .25), .35), ((2.,), .6), ((1.5, .5), .7), ((.5, 1., .5), .45), ((1 / 3, 1 / 3, 1 / 3), .12),
           ((3.,), .25), ((1., .5, .5), .6)]
CELLS_C = [((1.,), .8), ((2 / 3, 1 / 3), 1.2), ((1 / 3, 1 / 3, 1 / 3), 1.0), ((1 / 3, 2 / 3), .3),
           ((.5, 1 / 6, 1 / 3), .25), ((2.,), .4), ((4 / 3, 2 / 3), .3)]


def phrase_rhythm(C, ph_beats, end, rng):
    target, minsec = C.mel
    cells = CELLS_C if C.comp else CELLS_S
    out = []
    pos = 1.0 if (end > 2 * C.B - 1e-6 and rng.random() < 0.2) else 0.0
    while pos < end - 1e-6:
        opts, ws = [], []
        for cell, w in cells:
            span = sum(cell)
            if pos + span > end + 1e-6:
                continue
            if span > 2.5:
                if not (C.B == 3 and not C.comp and (pos % 3) < 1e-6):
                    continue
            elif span > 1.5:
                if C.B == 3 and not C.comp:
                    if not ((pos % 3) < 1e-6 or abs(pos % 3 - 1) < 1e-6):
                        continue
                elif (pos % 2) > 1e-6:
                    continue
            if min(cell) * C.spb < minsec:
                continue
            mean = span * C.spb / len(cell)
            opts.append(cell)
            ws.append(w * math.exp(-(math.log(mean / target)) ** 2 / (2 * 0.45 ** 2)))
        if not opts:
            cell = (min(1.0, end - pos),)
        else:
            ws = np.array(ws) / sum(ws)
            cell = opts[rng.choice(len(opts), p=ws)]
        for d in cell:
            out.append((pos, d))
            pos += d
    # a breath in the middle of longer phrases
    if ph_beats >= 2 * C.B and rng.random() < 0.5:
        mid = ph_beats / 2
        idx = [k for k, (o, d) in enumerate(out) if mid - 1 - 1e-6 <= o < mid - 1e-6]
        if len(idx) >= 2:
            out = [x for k, x in enumerate(out) if k not in idx[1:]]
    out.append((end, ph_beats - end))
    return out


def scale_step(p, scale, d):
    q = p + d
    for _ in range(3):
        if q % 12 in scale:
            return q
        q += d
    return q


def nearest_pc(p, pcs, lo, hi):
    c = [q for q in range(lo, hi + 1) if q % 12 in pcs]
    if not c:
        c = [q for q in range(lo - 12, hi + 13) if q % 12 in pcs]
    return min(c, key=lambda q: (abs(q - p), q))


def gen_melody(C, inst, rng):
    lo, hi = C.lead_lo, C.lead_hi
    ev = []
    ch0 = C.slots[0]['ch']
    prev = nearest_pc((lo + hi) // 2, [ch0['root'], ch0['third'], ch0['fifth']], lo, hi)
    direction = 1 if rng.random() < 0.5 else -1
    memo_r, memo_p = None, {}
    legato = 0.95 if inst in ('violin', 'fiddle', 'strings', 'flute', 'horn', 'clarinet') else 0.85
    for pi, ph in enumerate(C.phrases):
        end = ph['last'] - ph['start']
        reused = False
        if memo_r is not None and memo_r[0] == (ph['beats'], end) and rng.random() < 0.65:
            rhy, reused = memo_r[1], True
        else:
            rhy = phrase_rhythm(C, ph['beats'], end, rng)
            if memo_r is None:
                memo_r = ((ph['beats'], end), rhy)
        key = ' '.join(ph['sym'])
        nfirst = len([1 for o, d in rhy if o < ph['beats'] / 2 - 1e-6])
        copy = reused and key in memo_p and len(memo_p[key]) == nfirst and rng.random() < 0.75
        last = len(rhy) - 1
        tk = C.key
        cad_ch = chord_at(C, ph['last'])
        if ph['cad'] == 'closed':
            tpcs = [tk]
        elif ph['cad'] == 'open':
            tpcs = [pc for pc in [(tk + 2) % 12, (tk + 11) % 12, (tk + 7) % 12] if pc in cad_ch['pcs']] or cad_ch['pcs']
        else:
            tpcs = cad_ch['pcs']
        tgt = None
        pitches = []
        for j, (o, d) in enumerate(rhy):
            t = ph['start'] + o
            ch = chord_at(C, t)
            sc = ch['scale']
            if prev >= hi - 2:
                direction = -1
            elif prev <= lo + 2:
                direction = 1
            if copy and j < nfirst:
                p = memo_p[key][j]
            elif j == last:
                p = tgt if tgt is not None else nearest_pc(prev, tpcs, lo, hi)
            elif j == last - 1:
                tgt = nearest_pc(prev, tpcs, lo + 2, hi - 2)
                up, dn = scale_step(tgt, sc, 1), scale_step(tgt, sc, -1)
                cands = [up, dn]
                w = [(2.0 if c % 12 in ch['pcs'] else 1.0) * math.exp(-abs(c - prev) / 4.0) for c in cands]
                p = cands[0] if rng.random() < w[0] / sum(w) else cands[1]
            else:
                strong = is_int(o) and strength(C, t) >= 0.8
                r = rng.random()
                if strong or r > 0.93:
                    cands = [q for q in range(lo, hi + 1) if q % 12 in ch['pcs'] and abs(q - prev) <= 7]
                    if not cands:
                        cands = [nearest_pc(prev, ch['pcs'], lo, hi)]
                    w = np.array([math.exp(-abs(q - prev) / 2.5) * (0.35 if q == prev else 1.0) *
                                  (1.3 if (q - prev) * direction > 0 else 1.0) *
                                  (1.7 if q % 12 == tk else (1.25 if q % 12 == (tk + 7) % 12 else 1.0)) for q in cands])
                    p = cands[rng.choice(len(cands), p=w / w.sum())]
                elif r < 0.72:
                    p = scale_step(prev, sc, direction)
                elif r < 0.85:
                    direction = -direction
                    p = scale_step(prev, sc, direction)
                else:
                    p = prev if prev % 12 in sc else scale_step(prev, sc, direction)
                if rng.random() < 0.22:
                    direction = -direction
                p = int(min(max(p, lo), hi))
                if p % 12 not in sc:
                    p = scale_step(p, sc, direction)
            pitches.append(int(p))
            prev = int(p)
            arch = 0.88 + 0.12 * math.sin(math.pi * o / max(ph['beats'], 1))
            v = (0.62 + 0.22 * (strength(C, t) - 0.5)) * arch + rng.normal(0, 0.03)
            if j == last:
                dd = d * 0.97 if pi == len(C.phrases) - 1 else min(d, max(1.0, 2.5 / C.spb)) * 0.9
            else:
                dd = d * legato
            ev.append((t, dd, int(p), float(np.clip(v, 0.3, 1.0)), inst, 'melody', 0.0))
        if not copy and key not in memo_p:
            memo_p[key] = pitches[:nfirst]
    return ev


# ----------------------------------------------------------------------------
# Bass
# ----------------------------------------------------------------------------
def bass_note(pc, lo=33):
    return lo + ((pc - lo) % 12)


def walk_notes(C, ch, nxt, n, rng, start):
    R = start
    notes = [R]
    tgt = bass_note(nxt['bass'])
    if abs(tgt - R) > 7 and abs(tgt + 12 - R) < abs(tgt - R):
        tgt += 12
    elif abs(tgt - R) > 7 and abs(tgt - 12 - R) < abs(tgt - R) and tgt - 12 >= 28:
        tgt -= 12
    sc = ch['scale']
    for i in range(1, n):
        cur = notes[-1]
        if i == n - 1:
            opts = [tgt - 1, tgt + 1, scale_step(tgt, sc, -1), scale_step(tgt, sc, 1), tgt + 7 if tgt + 7 <= 52 else tgt - 5]
            w = np.array([.3, .2, .25, .15, .1])
            p = opts[rng.choice(5, p=w)]
        elif rng.random() < 0.55:
            cands = [q for q in range(cur - 7, cur + 8) if q % 12 in ch['pcs'] and q != cur and 28 <= q <= 52]
            p = cands[rng.integers(len(cands))] if cands else cur
        else:
            d = 1 if tgt > cur else -1
            p = scale_step(cur, sc, d)
        notes.append(int(min(max(p, 28), 52)))
    return notes


def gen_bass(C, kind, inst, rng):
    ev = []
    S = C.slots
    if kind == 'waltz' and C.comp:
        kind = 'compound'
    if kind == 'compound' and not C.comp:
        kind = 'root_beats'
    if kind in ('march',) and C.B == 3:
        kind = 'waltz'
    funk_pat = [[(0, .4, 'R', 1.0), (0.75, .2, 'O', .7), (1.5, .25, 'R', .75), (2.5, .4, 'R', .85), (3.25, .2, 'O', .7), (3.5, .4, 'A', .75)],
                [(0, .6, 'R', 1.0), (1.0, .2, 'R', .6), (1.75, .2, 'O', .75), (2.25, .2, 'F', .7), (2.75, .4, 'R', .85), (3.5, .25, 'O', .7)]][rng.integers(2)]
    funk_fast = [(0, .4, 'R', 1.0), (1.5, .4, 'R', .8), (2.5, .4, 'O', .8), (3.0, .4, 'F', .75), (3.5, .4, 'A', .75)]
    bar_count = 0
    for si, sl in enumerate(S):
        s0, sd, ch = sl['t'], sl['d'], sl['ch']
        nxt = S[si + 1]['ch'] if si + 1 < len(S) else ch
        R = bass_note(ch['bass'])
        F = R + ((ch['fifth'] - ch['bass']) % 12)
        if F > 50:
            F -= 12
        Fl = F - 12 if F - 12 >= 28 else F
        Th = R + ((ch['third'] - ch['bass']) % 12)
        nR = bass_note(nxt['bass'])
        A = scale_step(nR, ch['scale'], -1 if rng.random() < 0.5 else 1)
        nb = int(round(sd))

        def add(t, d, p, v):
            ev.append((s0 + t, d, int(p), float(np.clip(v + rng.normal(0, 0.03), 0.2, 1.0)), inst, 'bass', 0.0))

        if si == len(S) - 1:
            add(0, sd, R, 0.85)
            continue
        if kind == 'whole':
            if nb > C.B:
                for b0 in range(0, nb, C.B):
                    add(b0, C.B * 0.98, R if (b0 // C.B) % 2 == 0 or rng.random() < .5 else F, .8 if b0 == 0 else .72)
            elif sd * C.spb > 3.0 and nb % 2 == 0 and rng.random() < 0.5:
                add(0, sd / 2, R, .8)
                add(sd / 2, sd / 2, F if rng.random() < .5 else R, .7)
            else:
                add(0, sd * 0.98, R, .8)
        elif kind == 'root_beats':
            stp = 2 if (C.tempo > 150 and not C.comp and C.B in (2, 4) and nb % 2 == 0) else 1
            for b in range(0, nb, stp):
                p = R if (b == 0 or rng.random() < .7) else (F if rng.random() < .6 else Th)
                if b == nb - stp and rng.random() < .3:
                    p = A
                add(b, stp * 0.88, p, .85 if b == 0 else .72)
        elif kind == 'eighths':
            sub = 0.5 if C.tempo <= 170 else 1.0
            tt = 0.0
            while tt < sd - 1e-6:
                p = R
                if tt >= sd - sub - 1e-6 and rng.random() < 0.3:
                    p = A
                add(tt, sub * 0.8, p, 0.85 if is_int(tt) else 0.68)
                tt += sub
        elif kind == 'octave':
            sub = 0.5 if C.tempo <= 140 else 1.0
            tt, k = 0.0, 0
            while tt < sd - 1e-6:
                add(tt, sub * 0.6, R + (12 if k % 2 else 0), .85 if k % 2 == 0 else .75)
                tt += sub
                k += 1
        elif kind == 'root_fifth':
            stp = C.B if C.B == 2 else 2
            for b in range(0, nb, stp):
                p = R if bar_count % 2 == 0 else Fl
                bar_count += 1
                add(b, min(stp, 1.0) * 0.8, p, .85)
            if nb >= 4 and rng.random() < 0.3:
                w = walk_notes(C, ch, nxt, 3, rng, R)
                for k, p in enumerate(w[1:]):
                    add(nb - 1 + 0.5 * k, 0.45, p, .7)
        elif kind in ('walking', 'walking8'):
            sub = 1.0
            if kind == 'walking8':
                sub = (1 / 3 if C.comp else 0.5) if C.spb >= 0.5 else 1.0
                if C.comp and C.spb < 0.5:
                    sub = 1.0
            n = int(round(sd / sub))
            w = walk_notes(C, ch, nxt, n, rng, R)
            for k, p in enumerate(w):
                add(k * sub, sub * (0.9 if kind == 'walking' else 0.75), p, .8 if is_int(k * sub) else .65)
        elif kind == 'tumbao':
            if s0 == 0:
                add(0, 1.4, R, .85)
            if nb >= 4:
                for c0 in range(0, nb, 4):
                    add(c0 + 1.5, 1.4, F if rng.random() < .5 else R, .8)
                    add(c0 + 3.0, 1.0, nR if c0 + 4 >= nb else R, .85)
            else:
                add(sd - 0.5, 0.5, nR, .8)
        elif kind == 'reggae':
            if C.tempo >= 125:
                for b in range(nb):
                    p = [R, Th, F, A][b % 4] if b < nb - 1 else A
                    add(b, 0.8, p, .8)
            else:
                for c0 in range(0, nb, 4):
                    pat = [(0, 1.0, R, .85), (1.5, .5, R, .7), (2, .5, F, .75), (2.5, .75, R + 12 if R + 12 <= 50 else Th, .7),
                           (3.5, .5, F, .65)]
                    for (tt, d, p, v) in pat:
                        if c0 + tt < sd - 1e-6:
                            add(c0 + tt, d, p, v)
        elif kind == 'funk':
            pat = funk_pat if C.tempo <= 115 else funk_fast
            for c0 in range(0, nb, 4):
                for (tt, d, code, v) in pat:
                    if c0 + tt >= sd - 1e-6:
                        continue
                    p = {'R': R, 'O': R + 12, 'F': F, 'A': A if c0 + 4 >= nb else R}[code]
                    add(c0 + tt, d, p, v)
        elif kind == 'bossa':
            for c0 in range(0, nb, 2):
                X = R if (c0 // 2) % 2 == 0 else Fl
                add(c0, 1.4, X, .8)
                if c0 + 1.5 < sd:
                    add(c0 + 1.5, 0.45, X if rng.random() < .6 else R, .6)
        elif kind == 'waltz':
            for b0 in range(0, nb, C.B):
                add(b0, 0.9, R if bar_count % 2 == 0 else Fl, .85)
                bar_count += 1
        elif kind == 'compound':
            for b in range(nb):
                add(b, 0.9 if C.spb < 0.9 else 2 / 3, R if b % 2 == 0 else F, .82 if b % 2 == 0 else .72)
                if C.spb >= 0.9 and rng.random() < 0.6:
                    add(b + 2 / 3, 1 / 3 * 0.9, R if b < nb - 1 else A, .62)
        elif kind == 'march':
            for b in range(nb):
                add(b, 0.45, R if b % 2 == 0 else Fl, .85 if b % 2 == 0 else .75)
        elif kind == 'boogie':
            six = 9 if (ch['root'] + 9) % 12 in ch['scale'] else 8
            seq = [0, (ch['third'] - ch['root']) % 12, 7, six, 12, six, 7, (ch['third'] - ch['root']) % 12]
            Rr = bass_note(ch['root'])
            for b in range(nb):
                p = Rr + seq[b % len(seq)]
                if p > 52:
                    p -= 12
                if C.tempo <= 150:
                    add(b, 0.6, p, .85)
                    add(b + 2 / 3, 0.3, p, .65)
                else:
                    add(b, 0.85, p, .85)
        elif kind == 'synth8':
            sub = 0.5 if C.tempo <= 160 else 1.0
            tt, k = 0.0, 0
            while tt < sd - 1e-6:
                p = R + (12 if (k % 4 == 3 and rng.random() < .5) else 0)
                add(tt, sub * 0.7, p, .85 if is_int(tt) else .7)
                tt += sub
                k += 1
        elif kind == 'sub':
            for c0 in range(0, nb, 4):
                for (tt, d, p, v) in [(0, 1.4, R, .9), (1.75, .5, R, .6), (2.5, 1.2, R if rng.random() < .6 else F, .8)]:
                    if c0 + tt < sd - 1e-6:
                        add(c0 + tt, min(d, sd - c0 - tt), p, v)
        else:
            raise ValueError(kind)
    return ev


# ----------------------------------------------------------------------------
# Comping
# ----------------------------------------------------------------------------
def close_voicing(pcs, lo, hi, prev):
    cands = []
    for b in range(lo, lo + 12):
        if b % 12 not in pcs:
            continue
        v = [b]
        for pc in sorted(pcs, key=lambda x: (x - b) % 12)[1:]:
            q = v[-1] + 1
            while q % 12 != pc:
                q += 1
            v.append(q)
        cands.append(v)
    ok = [v for v in cands if v[-1] <= hi] or cands
    if prev:
        return min(ok, key=lambda v: abs(np.mean(v) - np.mean(prev)) + 0.5 * abs(v[-1] - prev[-1]))
    return min(ok, key=lambda v: abs(np.mean(v) - (lo + hi) / 2))


def guitar_voicing(ch):
    ints = QUAL[ch['q']]
    R = 40 + ((ch['root'] - 40) % 12)
    third, fifth = ints[1], ints[2]
    sev = ints[3] if len(ints) > 3 else None
    v = [R, R + fifth, R + (sev if sev else 12), R + 12 + third, R + 12 + fifth]
    if R + 24 <= 76:
        v.append(R + 24)
    return v


STRUM = {'s4': ['D.DU.UDU', 'D.D.D.DU', 'DUDUDUDU', 'D...D.DU', 'D.DUD.DU'],
         's4fast': ['D.D.D.D.', 'D.DU.UD.', 'D...D.D.'],
         's3': ['D.DUDU', 'D.D.D.', 'D.DUD.'],
         's3fast': ['D.D.D.', 'D.....'],
         'c': ['D.UD.U', 'D..D..', 'D.DD.U', 'D.UDUU'],
         'cfast': ['D..D..', 'D..D.U']}


def gen_comp(C, kind, inst, role, rng):
    ev = _gen_comp(C, kind, inst, role, rng)
    if role == 'comp':
        # every chord slot must be sounded by the accompaniment at least once
        lo, hi = (52, 72)
        for sl in C.slots:
            t0, t1 = sl['t'], sl['t'] + sl['d']
            if not any(t0 - 1e-6 <= e[0] < t1 - 1e-6 for e in ev):
                for p in close_voicing(sl['ch']['pcs'], lo, hi, None):
                    ev.append((t0, min(sl['d'], 2.0), int(p), 0.6, inst, role, 0.0))
    return ev


def _gen_comp(C, kind, inst, role, rng):
    ev = []
    S = C.slots
    fs = C.final_start
    spb = C.spb

    def add(t, d, p, v, dt=0.0):
        ev.append((t, d, int(p), float(np.clip(v + rng.normal(0, 0.03), 0.15, 1.0)), inst, role, dt))

    lo, hi = (52, 72) if role == 'comp' else (55, 76)
    if inst in ('organ', 'pad', 'strings', 'reed', 'clarinet'):
        lo, hi = (50, 70) if role == 'comp' else (55, 74)
    prev = None

    def voic(ch, l=None, h=None, rootless=False):
        nonlocal prev
        pcs = ch['pcs']
        if rootless and len(pcs) >= 4:
            pcs = pcs[1:]
        v = close_voicing(pcs, l or lo, h or hi, prev)
        prev = v
        return v

    def final_chord(style='hold'):
        ch = S[-1]['ch']
        d = S[-1]['d']
        if kind in ('strum', 'power'):
            v = guitar_voicing(ch) if kind == 'strum' else guitar_voicing(ch)
            for k, p in enumerate(v):
                add(fs, d, p, .8, k * 0.012)
        elif kind in ('arp', 'alberti'):
            v = sorted(set(voic(ch, 48, 72)))
            for k, p in enumerate(v + [v[0] + 12]):
                add(fs, d, p, .7, k * 0.06)
        else:
            for p in voic(ch):
                add(fs, d, p, .75)

    # ---- grid-based kinds
    if kind in ('strum', 'power'):
        if C.comp:
            grid = 1 / 3
            fast = grid * spb < 0.12
            pats = STRUM['cfast' if fast else 'c']
            cyc = 2
        elif C.B == 3:
            grid = 0.5
            fast = grid * spb < 0.15
            pats = STRUM['s3fast' if fast else 's3']
            cyc = 3
        else:
            grid = 0.5
            fast = grid * spb < 0.15
            pats = STRUM['s4fast' if fast else 's4']
            cyc = 4
        pat = pats[rng.integers(len(pats))]
        if kind == 'power':
            pat = 'DDDDDDDD'[:len(pat)] if not fast else 'D.D.D.D.'[:len(pat)]
        hits = []
        t = 0.0
        while t < fs - 1e-6:
            for k, c in enumerate(pat):
                tt = t + k * grid
                if tt >= fs - 1e-6:
                    break
                if c != '.':
                    hits.append((tt, c))
            t += cyc
        for h, (tt, c) in enumerate(hits):
            nt = hits[h + 1][0] if h + 1 < len(hits) else fs
            ch = chord_at(C, tt)
            d = max(nt - tt, grid)
            if kind == 'power':
                R = 40 + ((ch['root'] - 40) % 12)
                acc = strength(C, tt) >= 0.8
                for k, p in enumerate([R, R + 7, R + 12]):
                    add(tt, d if acc else grid * 0.5, p, .85 if acc else .65, k * 0.004)
                continue
            v = guitar_voicing(ch)
            sp = rng.uniform(0.008, 0.016)
            vel = 0.8 * (strength(C, tt) + 0.2)
            if c == 'D':
                for k, p in enumerate(v):
                    add(tt, d, p, vel, k * sp)
            else:
                for k, p in enumerate(sorted(v)[-4:][::-1]):
                    add(tt, d, p, vel * 0.8, k * sp * 0.8)
        final_chord()
        return ev

    if kind == 'pad':
        for sl in S[:-1]:
            for p in voic(sl['ch']):
                add(sl['t'], sl['d'] * 1.0, p, .7)
        final_chord()
        return ev

    if kind == 'block':
        mode = rng.integers(3) if C.B == 4 else 0
        for sl in S[:-1]:
            v = voic(sl['ch'])
            nb = int(round(sl['d']))
            if mode == 0:
                pos = [b for b in range(nb)] if spb >= 0.33 else list(range(0, nb, 2 if C.B in (2, 4) else C.B))
            elif mode == 1:
                pos = list(range(0, nb, 2)) if nb >= 2 else [0]
            else:
                pos = [x for x in [0, 1.5, 2.5, 3.5, 4, 5.5, 6.5, 7.5] if x < nb]
            for k, b in enumerate(pos):
                d = (pos[k + 1] if k + 1 < len(pos) else nb) - b
                for p in v:
                    add(sl['t'] + b, d * 0.9, p, 0.6 + 0.25 * (strength(C, sl['t'] + b) - 0.5))
        final_chord()
        return ev

    if kind == 'offbeat':
        for sl in S[:-1]:
            v = voic(sl['ch'])
            nb = int(round(sl['d']))
            for b in range(nb):
                offs = ([1 / 3, 2 / 3] if spb / 3 >= 0.13 else [2 / 3]) if C.comp else [0.5]
                for o in offs:
                    dd = 0.3 if inst in ('organ',) else 0.25
                    for p in v:
                        add(sl['t'] + b + o, dd, p, .62)
        final_chord()
        return ev

    if kind == 'chops':
        g = 0.25 if C.tempo <= 110 else 0.5
        masks = ['x.xx.x.x', '.xx.x.xx', 'x..xx.x.', 'x.x..xx.'] if g == 0.25 else ['x.xx', '.x.x', 'xx.x']
        mask = masks[rng.integers(len(masks))]
        for sl in S[:-1]:
            v = voic(sl['ch'], 58, 76)
            t = 0.0
            k = 0
            while t < sl['d'] - 1e-6:
                if mask[k % len(mask)] == 'x':
                    acc = is_int(t) or rng.random() < 0.3
                    for p in v:
                        add(sl['t'] + t, g * 0.55, p, .75 if acc else .45)
                t += g
                k += 1
        final_chord()
        return ev

    if kind == 'stabs':
        opts4 = [[0.5, 1.5], [1.5, 3.5], [0, 0.75], [2.5, 3.0], [1.5], [3.5]]
        for sl in S[:-1]:
            v = voic(sl['ch'], 60, 77)
            for c0 in range(0, int(round(sl['d'])), 4):
                if rng.random() < 0.7:
                    for x in opts4[rng.integers(len(opts4))]:
                        if c0 + x < sl['d'] - 1e-6:
                            for p in v:
                                add(sl['t'] + c0 + x, 0.35, p, .75)
        final_chord()
        return ev

    if kind == 'swing_comp':
        pats = [[0, 1.5], [1.5], [0], [0.5, 2.5], [2.5], [1, 2.5]] if C.B == 4 else [[0], [1.5], [0, 2], [1]]
        for sl in S[:-1]:
            v = voic(sl['ch'], 50, 70, rootless=True)
            for c0 in range(0, int(round(sl['d'])), C.B):
                for x in pats[rng.integers(len(pats))]:
                    if c0 + x < sl['d'] - 1e-6:
                        for p in v:
                            add(sl['t'] + c0 + x, 0.7 if is_int(x) else 0.45, p, .6)
        final_chord()
        return ev

    if kind == 'bossa_gtr':
        pat8 = [0, 1.5, 2.5, 4, 5.5, 6.5] if rng.random() < 0.5 else [0, 1, 2.5, 4, 5, 6.5]
        t = 0.0
        hits = []
        while t < fs - 1e-6:
            hits += [t + x for x in pat8 if t + x < fs - 1e-6]
            t += 8
        for tt in hits:
            ch = chord_at(C, tt)
            v = close_voicing(ch['pcs'][1:] if len(ch['pcs']) >= 4 else ch['pcs'], 52, 67, prev)
            prev = v
            for k, p in enumerate(v):
                add(tt, 0.8, p, .6, k * 0.006)
        final_chord()
        return ev

    if kind == 'montuno':
        mask = 'x.xx.xx.' if rng.random() < 0.5 else 'x.x.xx.x'
        t = 0.0
        k = 0
        while t < fs - 1e-6:
            if mask[k % 8] == 'x':
                ant = (k % 8 == 7)
                ch = chord_at(C, t + (0.5 if ant else 0))
                if t + 0.5 >= fs - 1e-6:
                    ch = chord_at(C, t)
                v = close_voicing(ch['pcs'][:3], 60, 76, prev)
                prev = v
                top = v[-1]
                notes = [top - 12, top] if k % 2 == 0 else [v[0], v[1], top]
                for p in notes:
                    add(t, 0.4, p, .72 if k % 2 == 0 else .62)
            t += 0.5
            k += 1
        final_chord()
        return ev

    if kind == 'waltz_pah':
        for sl in S[:-1]:
            v = voic(sl['ch'], 53, 70)
            nb = int(round(sl['d']))
            for b in range(nb):
                if b % C.B != 0:
                    for p in v:
                        add(sl['t'] + b, 0.55, p, .55)
        final_chord()
        return ev

    if kind == 'triplets':
        every = (spb / 3 >= 0.13)
        for sl in S[:-1]:
            v = voic(sl['ch'], 55, 74)
            nb = int(round(sl['d']))
            for b in range(nb):
                offs = [0, 1 / 3, 2 / 3] if every else [0]
                for o in offs:
                    for p in v:
                        add(sl['t'] + b + o, (1 / 3 if every else 1) * 0.85, p, .62 if o == 0 else .48)
        final_chord()
        return ev

    if kind in ('arp', 'alberti', 'arp_synth'):
        subs = ([3, 6] if kind != 'arp_synth' else [3]) if C.comp else [2, 4, 3] if kind == 'arp' else [2, 4]
        best = min(subs, key=lambda s: abs(math.log((spb / s) / (0.2 if kind != 'arp_synth' else 0.14))))
        if (spb / best) < 0.1:
            best = max(1, best // 2)
        sub = best
        up_down = rng.random() < 0.5
        for sl in S[:-1]:
            ch = sl['ch']
            if kind == 'alberti':
                v = voic(ch, 50, 67)
                v = v[:3] if len(v) >= 3 else v + [v[0] + 12]
                seq = [v[0], v[2], v[1], v[2]]
            else:
                Rb = 45 + ((ch['root'] - 45) % 12) if kind == 'arp' else 57 + ((ch['root'] - 57) % 12)
                tones = [q for q in range(Rb, Rb + 20) if q % 12 in ch['pcs']]
                seq = tones + (tones[-2:0:-1] if up_down else [])
            n = int(round(sl['d'] * sub))
            for k in range(n):
                t = sl['t'] + k / sub
                p = seq[k % len(seq)]
                if kind == 'arp':
                    d = sl['d'] - k / sub
                elif kind == 'alberti':
                    d = 0.9 / sub
                else:
                    d = 0.5 / sub
                acc = (k % sub == 0)
                add(t, d, p, (.62 if acc else .5) if kind != 'arp_synth' else (.7 if acc else .55))
        final_chord()
        return ev
    raise ValueError(kind)


# ----------------------------------------------------------------------------
# Drums
# ----------------------------------------------------------------------------
def drum_bar(C, ks, bi, st, rng):
    """Hits (pos_in_bar, sound, vel) for one bar of drum style ks."""
    B, T = C.B, C.tempo
    H = []

    def add(p, s, v):
        H.append((p, s, v))

    if ks in ('rock', 'synthpop', 'disco', 'funk', 'hiphop'):
        if ks == 'funk':
            hs = 4 if T <= 112 else 2
        elif ks == 'disco':
            hs = 4 if T <= 125 else 2
        else:
            hs = 4 if T <= 88 else 2
        cym = st['cym']
        for k in range(B * hs):
            p = k / hs
            onb = k % hs == 0
            if ks == 'disco' and abs((p % 1) - 0.5) < 1e-6:
                add(p, 'hat_open', 0.7)
                continue
            if ks == 'disco' and hs == 2:
                add(p, 'hat', 0.5)
                continue
            v = 0.8 if onb else (0.6 if k % hs == hs // 2 else 0.42)
            add(p, cym, v)
        if ks == 'disco':
            for b in range(B):
                add(b, 'kick', 0.95)
        else:
            for p in st['kick']:
                if p < B:
                    add(p, 'kick', 0.95 if p == 0 else 0.8)
        for b in (1, 3):
            add(b, st['snare'], 0.9)
        if ks == 'funk' and hs == 4:
            for p in st['ghosts']:
                add(p, 'snare', 0.22)
        if ks == 'funk' and bi % 2 == 1 and rng.random() < 0.5:
            H[:] = [h for h in H if not (abs(h[0] - 3.5) < 1e-6 and h[1] == cym)]
            add(3.5, 'hat_open', 0.65)
        if ks == 'synthpop' and st.get('tamb'):
            for b in range(B):
                add(b + 0.5, 'tamb', 0.5)
        if ks == 'rock' and st.get('shaker') and hs == 2:
            for k in range(B * 4):
                add(k / 4, 'shaker', 0.5 if k % 2 == 0 else 0.35)
    elif ks == 'reggae':
        if T < 125:
            sub = 3 if st['trip'] else 2
            for k in range(B * sub):
                add(k / sub, 'hat', 0.6 if k % sub == 0 else 0.4)
            add(2, 'kick', 0.95)
            add(2, 'rim' if st['rimdrop'] else 'snare', 0.85)
            if rng.random() < 0.3:
                add(3.5, 'hat_open', 0.5)
        else:
            add(0, 'kick', .9); add(2, 'kick', .85)
            add(1, 'snare', .85); add(3, 'snare', .85)
            for b in range(B):
                add(b + 0.5, 'hat_open' if T < 170 else 'hat', 0.6)
                add(b, 'hat_pedal', 0.4)
    elif ks in ('jazz', 'jazzwaltz'):
        if T < 95 and st['brush']:
            for b in range(B):
                add(b, 'brush', 0.55 if b % 2 == 0 else 0.4)
            for b in ([1, 3] if B == 4 else [1, 2]):
                add(b, 'snare', 0.3)
        else:
            rp = [0, 1, 1.5, 2, 3, 3.5] if B == 4 else [0, 1, 1.5, 2]
            if T > 200:
                rp = list(range(B))
            for p in rp:
                add(p, 'ride', 0.7 if is_int(p) else 0.5)
        for b in ([1, 3] if B == 4 else [1]):
            add(b, 'hat_pedal', 0.55)
        for b in range(B):
            add(b, 'kick', 0.18)
        for _ in range(rng.integers(0, 3)):
            p = rng.integers(0, B) + 0.5
            add(p, 'snare', rng.uniform(0.2, 0.45))
    elif ks == 'bossa':
        hs = 4 if T <= 100 else 2
        for k in range(B * hs):
            add(k / hs, 'hat', 0.5 if k % hs == 0 else 0.33)
        for p in [0, 1.5, 2, 3.5]:
            if p < B:
                add(p, 'kick', 0.7 if is_int(p) else 0.55)
        clave = [0, 1.5, 3, 5, 6.5]
        off = (bi % 2) * B if B == 4 else (bi % 4) * B
        for c in clave:
            if off <= c < off + B:
                add(c - off, 'rim', 0.7)
    elif ks == 'salsa':
        clave = [1, 2, 4, 5.5, 7]  # 2-3 son clave over 8 beats
        off = (bi % 2) * 4
        for c in clave:
            if off <= c < off + 4:
                add(c - off, 'claves', 0.75)
        for b in range(4):
            add(b, 'cowbell', 0.75 if b % 2 == 0 else 0.55)
        for p, s, v in [(0, 'conga_hi', .35), (0.5, 'conga_hi', .3), (1, 'conga_slap', .75), (1.5, 'conga_hi', .35),
                        (2, 'conga_hi', .35), (2.5, 'conga_hi', .3), (3, 'conga_lo', .7), (3.5, 'conga_lo', .65)]:
            add(p, s, v)
        add(1.5, 'kick', 0.6); add(3, 'kick', 0.7)
        if T <= 170:
            for k in range(8):
                add(k / 2, 'shaker', 0.4)
    elif ks == 'country':
        sub = 4 if T <= 100 else 2
        for k in range(B * sub):
            p = k / sub
            acc = is_int(p) and int(p) % 2 == 1
            add(p, 'snare' if acc else 'brush', 0.8 if acc else 0.4)
        for b in range(0, B, 2):
            add(b, 'kick', 0.85)
        if B == 2:
            H[:] = [h for h in H if not (h[1] == 'kick' and h[0] != 0)]
        add(0, 'hat_pedal', 0.3)
    elif ks == 'march':
        if C.comp:
            add(0, 'kick', .9); add(1, 'kick', .8)
            for b in range(B):
                add(b, 'crash', 0.2)
                for o, v in [(0, .75), (1 / 3, .4), (2 / 3, .55)]:
                    if C.spb / 3 >= 0.11 or o == 0:
                        add(b + o, 'snare', v)
        else:
            for b in range(B):
                add(b, 'kick', 0.85 if b == 0 else 0.75)
                add(b, 'crash', 0.18)
            pats = [[(0, .8), (0.5, .5), (0.75, .45), (1, .75), (1.5, .5)],
                    [(0, .8), (0.25, .4), (0.5, .5), (1, .75), (1.25, .4), (1.5, .55), (1.75, .45)],
                    [(0, .8), (1, .75), (1.5, .6)]]
            pat = pats[2] if C.spb / 4 < 0.1 else pats[st['mp']]
            for c0 in range(0, B, 2):
                for p, v in pat:
                    if c0 + p < B:
                        add(c0 + p, 'snare', v)
    elif ks == 'shuffle':
        for b in range(B):
            offs = [0, 1 / 3, 2 / 3] if T <= 80 else [0, 2 / 3]
            if T > 170:
                offs = [0]
            for o in offs:
                add(b + o, st['cym'], 0.7 if o == 0 else 0.45)
        add(0, 'kick', .9); add(2, 'kick', .85)
        if T <= 150:
            add(1 + 2 / 3, 'kick', .5)
        add(1, 'snare', .9); add(3, 'snare', .9)
    elif ks == 'soul68':
        every = C.spb / 3 >= 0.12
        for b in range(B):
            for o in ([0, 1 / 3, 2 / 3] if every else [0]):
                add(b + o, 'hat', 0.6 if o == 0 else 0.4)
        add(0, 'kick', .9)
        if B == 2:
            add(1, 'snare', .85)
            if every:
                add(2 / 3, 'kick', .55)
        else:
            add(1, 'snare', .85); add(3, 'snare', .85); add(2, 'kick', .8)
            if every:
                add(2 + 2 / 3, 'kick', .55)
    else:
        raise ValueError(ks)
    return H


def gen_drums(C, ks, rng):
    ev = []
    st = dict(cym='hat' if rng.random() < 0.75 else 'ride',
              kick=[[0, 2], [0, 2, 2.5], [0, 1.5, 2], [0, 2.5], [0, 0.75, 2, 2.5]][rng.integers(5)],
              snare='snare', ghosts=[[1.75, 2.25, 3.75], [0.75, 2.5, 3.25], [1.25, 2.75]][rng.integers(3)],
              trip=rng.random() < 0.4, rimdrop=rng.random() < 0.6, brush=rng.random() < 0.6,
              mp=int(rng.integers(2)), tamb=rng.random() < 0.5, shaker=rng.random() < 0.3)
    if ks == 'hiphop':
        st['kick'] = [[0, 1.75, 2.5], [0, 0.75, 2.5], [0, 2.25, 2.75]][rng.integers(3)]
        st['cym'] = 'hat'
    if ks in ('synthpop',):
        st['snare'] = 'clap' if rng.random() < 0.6 else 'snare'
        if rng.random() < 0.5:
            st['kick'] = [0, 1, 2, 3]
    if ks == 'disco':
        st['snare'] = 'clap' if rng.random() < 0.5 else 'snare'
    if ks == 'shuffle':
        st['cym'] = 'ride' if rng.random() < 0.4 else 'hat'
    if C.tempo <= 88 and ks == 'rock':
        st['kick'] = [k for k in st['kick']]
    B = C.B
    int(round(C.final_start / B + 1e-9))
    fs = C.final_start
    phrase_starts = set(round(p['start'] / B) for p in C.phrases)
    phrase_ends = set(round((p['start'] + p['beats']) / B) - 1 for p in C.phrases)
    # 2/4 pieces in 4-beat styles: generate a 4/4 bar and take halves
    pair = (B == 2 and not C.comp and ks in ('bossa', 'salsa', 'rock', 'disco', 'funk', 'synthpop', 'hiphop', 'reggae'))
    cache = {}
    bar = 0
    while bar * B < fs - 1e-6:
        b0 = bar * B
        if pair:
            key = bar // 2
            if key not in cache:
                Cb = Ctx(); Cb.__dict__.update(C.__dict__); Cb.B = 4
                cache[key] = drum_bar(Cb, ks, key, st, rng)
            half = bar % 2
            hits = [(p - 2 * half, s, v) for (p, s, v) in cache[key] if 2 * half <= p < 2 * half + 2]
        else:
            hits = drum_bar(C, ks, bar, st, rng)
        fill = bar in phrase_ends and b0 + B < fs - 1e-6 and rng.random() < 0.65
        if fill:
            fb = 1 if (B <= 2 or C.spb < 0.45 or rng.random() < 0.5) else 2
            if ks in ('jazz', 'jazzwaltz'):
                fb = 1
            f0 = B - fb
            hits = [h for h in hits if h[0] < f0 - 1e-6 or h[1] in ('kick',) and abs(h[0] - f0) < 1e-6]
            sub = (3 if C.spb / 3 >= 0.1 else 1) if C.comp else 4 if C.spb / 4 >= 0.085 else 2
            n = fb * sub
            toms = ['snare', 'tom_hi', 'tom_mid', 'tom_lo'] if ks not in ('jazz', 'jazzwaltz', 'bossa', 'march', 'salsa') else ['snare']
            if ks == 'salsa':
                toms = ['conga_hi', 'conga_slap', 'conga_lo', 'bongo_hi']
            for k in range(n):
                s = toms[min(len(toms) - 1, k * len(toms) // n)]
                add_v = 0.55 + 0.35 * k / max(1, n - 1)
                hits.append((f0 + k / sub, s, add_v))
        if bar in phrase_starts and bar > 0 and ks not in ('march',):
            hits.append((0, 'crash', 0.55))
            if not any(h[1] == 'kick' and h[0] == 0 for h in hits):
                hits.append((0, 'kick', 0.85))
        for (p, s, v) in hits:
            if b0 + p < fs - 1e-6:
                ev.append((b0 + p, 0.1, s, float(np.clip(v + rng.normal(0, 0.04), 0.1, 1.0)), 'kit', 'drums', 0.0))
        bar += 1
    ev.append((fs, 0.1, 'crash', 0.8, 'kit', 'drums', 0.0))
    ev.append((fs, 0.1, 'kick', 0.9, 'kit', 'drums', 0.0))
    return ev


# ----------------------------------------------------------------------------
# Rendering / mixing
# ----------------------------------------------------------------------------
JIT = {'melody': 0.006, 'comp': 0.005, 'comp2': 0.005, 'bass': 0.004, 'drums': 0.003}


def pan_gains(p):
    a = (p + 1) * np.pi / 4
    return math.cos(a), math.sin(a)


def render(C, events, insts, pans, kit, rng):
    n = int(C.total_sec * SR)
    stems = {}
    rendered = []
    for (t, d, p, v, inst, role, dt) in events:
        sec = b2s(C, t) + dt + rng.normal(0, JIT[role])
        if role == 'drums' and p == 'kick':
            sec = b2s(C, t) + rng.normal(0, 0.002)
        sec = max(0.0, sec)
        dsec = max(0.04, b2s(C, t + d) - b2s(C, t))
        if inst == 'kit':
            x = kit.hit(p, rng) * DRUM_GAIN[p]
            pan = DRUM_PAN[p]
            g = v ** 1.3
        else:
            x = insts[inst].note(p, dsec, v, rng)
            pan = pans[inst]
            g = v ** 1.6
        s0 = int(sec * SR)
        if s0 >= n:
            continue
        e = min(n, s0 + len(x))
        st = stems.get(role)
        if st is None:
            st = stems[role] = np.zeros((n, 2), dtype=np.float32)
        gl, gr = pan_gains(pan)
        seg = x[:e - s0] * g
        st[s0:e, 0] += seg * gl
        st[s0:e, 1] += seg * gr
        rendered.append((t, d, p, v, inst, role, round(sec, 4), round(dsec, 4)))
    return stems, rendered


def make_reverb(x, rt, rng, predelay):
    n = int(rt * 1.1 * SR)
    t = np.arange(n) / SR
    env = 10.0 ** (-3.0 * t / rt)
    out = np.zeros_like(x)
    for c in range(2):
        ir = rng.standard_normal(n) * env
        ir = filt(ir, 'low', 5500) * 0.7 + 0.3 * filt(ir, 'low', 2000)
        ir[:int(0.005 * SR)] *= np.linspace(0, 1, int(0.005 * SR))
        ir = np.concatenate([np.zeros(int(predelay * SR)), ir])
        ir /= np.sqrt(np.sum(ir ** 2))
        out[:, c] = signal.fftconvolve(x[:, c], ir)[:len(x)]
    return out


def rms(x):
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


# ----------------------------------------------------------------------------
# Piece assembly
# ----------------------------------------------------------------------------
def choose(lst, rng):
    return lst[rng.integers(len(lst))]


def make_piece(i, seed, style, meter, tempo, key, mode, drums, out_dir, rng):
    cfg = STYLES[style]
    C = build_ctx(i, seed, style, meter, tempo, key, mode, drums, rng)
    bass_kind, bass_inst = choose(cfg['bass'], rng)
    comp_kind, comp_inst = choose(cfg['comp'], rng)
    c2 = choose(cfg['comp2'], rng)
    if comp_kind == 'power' and (c2 is None or c2[0] not in ('pad', 'block')):
        c2 = ('block', 'piano')
    lead = choose(cfg['lead'], rng)
    if drums and cfg['kit'] is None:
        drums = 0
    C.drums = drums
    ctr = LEAD_CENTER[lead] + int(rng.integers(-2, 3))
    C.lead_lo, C.lead_hi = ctr - 8, ctr + 9
    names = {'melody': lead, 'bass': bass_inst, 'comp': comp_inst}
    if c2:
        names['comp2'] = c2[1]
    insts, pans = {}, {}
    # give each role its own instrument object (timbres differ per role even for same preset)
    role_inst = {}
    for role, nm in names.items():
        key_ = nm + ':' + role
        insts[key_] = make_inst(nm, rng)
        role_inst[role] = key_
    pans[role_inst['melody']] = rng.uniform(-0.15, 0.15)
    pans[role_inst['bass']] = 0.0
    pc_ = rng.uniform(0.2, 0.45) * (1 if rng.random() < 0.5 else -1)
    pans[role_inst['comp']] = pc_
    if c2:
        pans[role_inst['comp2']] = -pc_ * rng.uniform(0.6, 1.0)
    events = []
    events += gen_melody(C, role_inst['melody'], rng)
    events += gen_bass(C, bass_kind, role_inst['bass'], rng)
    events += gen_comp(C, comp_kind, role_inst['comp'], 'comp', rng)
    if c2:
        events += gen_comp(C, c2[0], role_inst['comp2'], 'comp2', rng)
    kit = None
    if drums:
        kit = Kit(rng)
        events += gen_drums(C, cfg['kit'], rng)
    events.sort(key=lambda e: e[0])
    stems, rendered = render(C, events, insts, pans, kit, rng)
    # balance stems
    target = {'melody': 0.0, 'bass': -2.0, 'comp': -4.5, 'comp2': -8.5, 'drums': 0.5}
    mix = None
    stem_db = {}
    scaled = {}
    for role, st in stems.items():
        g = 10 ** ((target[role] + rng.uniform(-1.5, 1.5)) / 20.0) * 0.1 / rms(st)
        scaled[role] = st * g
    dry = sum(scaled.values())
    send = sum(scaled[r] * {'melody': 1.0, 'comp': 1.0, 'comp2': 1.0, 'bass': 0.15, 'drums': 0.5}[r] for r in scaled)
    reverb_s = 0.0
    if rng.random() < cfg.get('verb', 0.5):
        big = style in ('film', 'chorale', 'piano_ballad', 'music_box')
        reverb_s = float(round(rng.uniform(1.4, 2.8) if big else rng.uniform(0.5, 1.6), 2))
        wet = make_reverb(send, reverb_s, rng, rng.uniform(0.008, 0.03))
        wdb = rng.uniform(-11, -6) if big else rng.uniform(-15, -9)
        wet *= 10 ** (wdb / 20.0) * rms(dry) / rms(wet)
        mix = dry + wet
    else:
        mix = dry
    # end fade over the very last part of the tail only
    nf = int(0.35 * SR)
    mix[-nf:] *= np.linspace(1, 0, nf)[:, None]
    peak = float(np.max(np.abs(mix)))
    gain = 10 ** (-1.0 / 20.0) / peak
    mix = (mix * gain).astype(np.float32)
    for role in scaled:
        stem_db[role] = round(20 * math.log10(rms(scaled[role] * gain) / rms(mix)), 2)
    name = 's%03d_%s' % (i, style)
    rel = 'audio/%s.flac' % name
    sf.write(os.path.join(out_dir, rel), mix, SR, subtype='PCM_24', format='FLAC')
    label = '%s %s' % (PC_NAMES[key], 'major' if mode == 1 else 'minor')
    notes = dict(piece=name, style=style, key=key, mode=mode, key_label=label, tempo=tempo, meter=meter,
                 beats_per_bar=C.B, compound=C.comp, beat_unit='dotted quarter' if C.comp else 'quarter',
                 swing8=C.swing8, swing16=C.swing16, slot_beats=C.H, slots_per_phrase=C.P, n_phrases=C.nphr,
                 content_sec=C.content_sec, duration=len(mix) / SR, drums=int(drums), reverb_s=reverb_s,
                 instruments=names, bass_kind=bass_kind, comp_kind=comp_kind, comp2=list(c2) if c2 else None,
                 stem_db=stem_db,
                 chords=[dict(beat=s['t'], beats=s['d'], rn=s['ch']['rn'], root=s['ch']['root'], pcs=s['ch']['pcs'],
                              bass=s['ch']['bass'], phrase=s['phrase']) for s in C.slots],
                 phrases=[dict(start=p['start'], beats=p['beats'], cad=p['cad'], sym=p['sym']) for p in C.phrases],
                 notes=[dict(beat=round(float(t), 5), beats=round(float(d), 5), pitch=p, vel=round(v, 3), inst=inst.split(':')[0],
                             role=role, sec=sec, dur_sec=dsec) for (t, d, p, v, inst, role, sec, dsec) in rendered])
    with open(os.path.join(out_dir, 'notes', name + '.json'), 'w') as fh:
        json.dump(notes, fh)
    row = dict(path=rel, part='blind2', set='blind2', piece=name, variant='clean', key=key, mode=mode, key_label=label,
               tempo=tempo, tempo_bin=0, duration=round(len(mix) / SR, 3), drums=int(drums), meter=meter,
               soundfont='synth', reverb_s=reverb_s, gain_db=0.0, snr_db='', source='synth:%s:seed%d:%d' % (style, seed, i))
    return row


COLS = ['path', 'part', 'set', 'piece', 'variant', 'key', 'mode', 'key_label', 'tempo', 'tempo_bin', 'duration', 'drums',
        'meter', 'soundfont', 'reverb_s', 'gain_db', 'snr_db', 'source']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out_dir')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--count', type=int, default=96)
    ap.add_argument('--only', type=int, default=None, help='render only piece index (debug)')
    ap.add_argument('--length', type=float, default=1.0, help='pieces this many times their usual length')
    a = ap.parse_args()
    global LENGTH
    LENGTH = a.length
    os.makedirs(os.path.join(a.out_dir, 'audio'), exist_ok=True)
    os.makedirs(os.path.join(a.out_dir, 'notes'), exist_ok=True)
    K = a.count
    g = np.random.default_rng([a.seed, 7777])
    names = sorted(STYLES)
    order = list(g.permutation(names))
    styles = [order[k % len(order)] for k in range(K)]
    styles = [styles[k] for k in g.permutation(K)]
    keys = [k % 12 for k in range(K)]
    keys = [keys[k] for k in g.permutation(K)]
    nmaj = int(round(0.6 * K))
    modes = [1] * nmaj + [0] * (K - nmaj)
    modes = [modes[k] for k in g.permutation(K)]
    perm = g.permutation(K)
    tempos = [round(50.0 + 160.0 * (perm[k] + g.uniform()) / K, 1) for k in range(K)]
    meters, drums = [], []
    for k in range(K):
        cfg = STYLES[styles[k]]
        ms, ws = zip(*cfg['meters'], strict=False)
        ws = np.array(ws, float) / sum(ws)
        meters.append(ms[g.choice(len(ms), p=ws)])
        drums.append(int(g.random() < cfg['drums']))
    # keep at least a third of the pieces without drums
    k = 0
    while sum(1 - d for d in drums) < 0.34 * K and k < K:
        if styles[k] in OPTIONAL_DRUMS and drums[k]:
            drums[k] = 0
        k += 1
    rows = []
    t0 = time.time()
    for k in range(K):
        if a.only is not None and k != a.only:
            continue
        rng = np.random.default_rng([a.seed, k, 12345])
        row = make_piece(k, a.seed, styles[k], meters[k], tempos[k], keys[k], modes[k], drums[k], a.out_dir, rng)
        rows.append(row)
        print('%3d %-14s %-5s %6.1f bpm %-9s drums=%d dur=%.1f  (%.0fs)' % (k, styles[k], meters[k], tempos[k],
              row['key_label'], row['drums'], row['duration'], time.time() - t0), flush=True)
    with open(os.path.join(a.out_dir, 'truth.csv'), 'w', newline='') as fh:
        w = csv.DictWriter(fh, fieldnames=COLS)
        w.writeheader()
        for r in rows:
            w.writerow(r)


if __name__ == '__main__':
    main()
