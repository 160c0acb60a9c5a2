"""Smooth transitions: how far apart two tracks are in tempo and key, for ordering a playlist.

Tempo distance is in steps of 8 % (a DJ's pitch fader covers about that without the track
sounding wrong), and half or double time counts as the same tempo. Keys are compared on the
Camelot wheel that DJs use for harmonic mixing: the same key, its relative major/minor and the
keys one fifth away are "neighbours" that mix without a clash.
"""

from __future__ import annotations

import math

from musicrec_engine.attributes import KEY_NAMES

TEMPO_STEP = math.log(1.08)


def camelot(key, mode) -> tuple[int, str] | None:
    """(1..12, "A" minor / "B" major) for a key 0..11 (C = 0) and mode (1 major, 0 minor)."""
    if key is None or mode is None or not (0 <= int(key) < 12):
        return None
    major_root = int(key) if int(mode) == 1 else (int(key) + 3) % 12  # a minor key sits with its relative major
    return (major_root * 7 + 7) % 12 + 1, "B" if int(mode) == 1 else "A"


def camelot_label(key, mode) -> str | None:
    c = camelot(key, mode)
    return f"{c[0]}{c[1]}" if c else None


def key_name(key, mode) -> str | None:
    if key is None or mode is None or not (0 <= int(key) < 12):
        return None
    return f"{KEY_NAMES[int(key)]}{'' if int(mode) == 1 else 'm'}"


def key_steps(a, b) -> float | None:
    """0 same key; 0.5 a harmonic neighbour (relative key, or one step round the wheel in the same
    mode); more for each further step; None when either key is unknown."""
    if a is None or b is None:
        return None
    (na, la), (nb, lb) = a, b
    around = min((na - nb) % 12, (nb - na) % 12)
    if around == 0:
        return 0.0 if la == lb else 0.5
    if around == 1 and la == lb:
        return 0.5
    return around + (0.5 if la != lb else 0.0)


def harmonic_neighbours(a, b) -> bool:
    s = key_steps(a, b)
    return s is not None and s <= 0.5


def tempo_steps(a: float | None, b: float | None) -> float | None:
    if not a or not b or a <= 0 or b <= 0:
        return None
    r = math.log(b / a)
    return min(abs(r), abs(r + math.log(2)), abs(r - math.log(2))) / TEMPO_STEP


def transition_cost(a: dict, b: dict, harmonic: bool = False) -> float:
    """How rough going from a to b sounds (0 = seamless). Unknown tempo or key costs a middling
    amount, so known-good transitions are preferred but unknown ones are not ruled out."""
    t = tempo_steps(a.get("tempo"), b.get("tempo"))
    k = key_steps(a.get("camelot"), b.get("camelot"))
    t = 1.5 if t is None else min(t, 6.0)
    if k is None:
        k = 1.5
    elif harmonic and k > 0.5:
        k = 3.0 + k  # a DJ wants neighbours: anything else is a clash
    return t + (2.0 if harmonic else 1.0) * k


def describe(a: dict, b: dict) -> str:
    """'tempo 120 → 124 BPM, key 8A → 9A (harmonic neighbours)' for the step from a to b."""
    parts = []
    if a.get("tempo") and b.get("tempo"):
        parts.append(f"tempo {a['tempo']:.0f} → {b['tempo']:.0f} BPM")
    if a.get("camelot") and b.get("camelot"):
        la, lb = (f"{c[0]}{c[1]}" for c in (a["camelot"], b["camelot"]))
        if la == lb:
            parts.append(f"same key ({la})")
        else:
            nb = " (harmonic neighbours)" if harmonic_neighbours(a["camelot"], b["camelot"]) else ""
            parts.append(f"key {la} → {lb}{nb}")
    return ", ".join(parts)
