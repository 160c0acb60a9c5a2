"""Attributes grounded in real music: what MusiCNN heard, mapped onto Spotify's scales.

The attribute models shipped before were trained only on audio this project generated, and on
real recordings they read most sung pop as instrumental, live and maximally energetic. MusiCNN's
two taggers (MSD: Last.fm tags of the Million Song Dataset; MTT: MagnaTagATune) were trained on
real recordings, so these five attributes now come from their tag probabilities (plus measured
loudness and tempo, and the pulse of the onset envelope, where Spotify's definitions name them).

Each recipe below turns tag evidence into a raw score: the log-odds of the tags that speak for the
attribute against those that speak against it (`_evidence`). `resources/models/grounded_calibration.json`
(written by benchmarks/fit_grounded.py, which prints what it rests on) maps raw scores onto 0..1,
in one of two ways:

- quantile map (acousticness, danceability, valence): the raw score's quantiles over real
  recordings (the Debian game soundtracks and songs of benchmarks/realmusic.py, every album
  weighted equally) are sent to the same quantiles of the attribute over the Spotify sample
  (shared/data/spotify-sample, 1,000 tracks), so over such music the values spread as Spotify's do;
- logistic (energy, instrumentalness), where a population map would mislead. Energy: Spotify's
  own tracks give energy as a logistic function of loudness and tempo (fitted on the sample:
  r = 0.86), and the tag evidence moves the track along it; a quantile map over game music, most of
  it quieter than released pop, would put every loud pop song at the very top. Instrumentalness:
  the real recordings at hand are all instrumental (none ships a vocals stem and the taggers hear no
  voice in them), so there is no sung population to take quantiles of; balanced evidence maps to
  0.5 and the slope is set so that the real instrumental tracks' median maps to the median of
  Spotify's instrumental tracks (instrumentalness >= 0.5).

Provenance is "learned" (the evidence is a trained model's output), source "MusiCNN tags (MSD+MTT)";
confidence and its basis come from the calibration file: what was measured on real recordings,
not an accuracy on generated audio. Speechiness and liveness are not here: no tag of either
vocabulary speaks of speech or of a live audience, so the earlier models keep them.
"""

from __future__ import annotations

import json
import logging
import math
from functools import lru_cache

import numpy as np

from musicrec_engine.attributes import Attribute
from musicrec_engine.paths import SHIPPED_MODELS

log = logging.getLogger("musicrec.attributes.grounded")

SOURCE = "MusiCNN tags (MSD+MTT)"
CALIBRATION_FILE = SHIPPED_MODELS / "grounded_calibration.json"
ATTRIBUTES = ("instrumentalness", "acousticness", "danceability", "energy", "valence")
_P_MIN = 1e-4  # probabilities are clipped before log-odds: a sigmoid's 1e-7 is no stronger evidence than 1e-4


def _logit(p: float) -> float:
    p = min(max(float(p), _P_MIN), 1 - _P_MIN)
    return math.log(p / (1 - p))


def _evidence(tags: dict, pro: list[tuple[str, str]], con: list[tuple[str, str]]) -> float:
    """How much more the tags speak for an attribute than against it, in log-odds: per side and per
    vocabulary the strongest tag (both models name one thing in several overlapping tags, "vocal",
    "vocals", "singing", "female", ..., and a singer is rarely both "male" and "female", so a mean
    would dilute a clear voice), averaged over the two vocabularies; then `pro` minus `con`."""
    def side(pairs):
        best: dict[str, float] = {}
        for v, t in pairs:
            if t in tags.get(v, {}):
                best[v] = max(best.get(v, 0.0), float(tags[v][t]))
        vals = [_logit(p) for p in best.values()]
        return sum(vals) / len(vals) if vals else 0.0
    return side(pro) - side(con)


def _m(*names: str) -> list[tuple[str, str]]:
    return [("msd", n) for n in names]


def _t(*names: str) -> list[tuple[str, str]]:
    return [("mtt", n) for n in names]


def _value(attrs: dict, name: str, default: float) -> float:
    a = (attrs or {}).get(name)
    v = getattr(a, "value", a.get("value") if isinstance(a, dict) else a)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


# --- the recipes ------------------------------------------------------------------------------
# Spotify's definitions are quoted; the tags are the ones of either vocabulary that say the same.

# "Predicts whether a track contains no vocals. 'Ooh' and 'aah' sounds are treated as instrumental."
VOICE = _m("female vocalists", "male vocalists", "female vocalist") + _t(
    "vocal", "vocals", "singing", "voice", "female", "male", "woman", "man", "male vocal", "female vocal",
    "male voice", "female voice")
NO_VOICE = _m("instrumental") + _t("no vocal", "no vocals", "no voice")


def raw_instrumentalness(tags: dict, attrs: dict, desc: dict) -> float:
    return _evidence(tags, NO_VOICE, VOICE)


# "A confidence measure of whether the track is acoustic."
ACOUSTIC = _m("acoustic", "folk", "guitar", "country", "easy listening") + _t(
    "classical", "guitar", "piano", "strings", "violin", "cello", "harp", "harpsichord", "flute", "sitar", "classic")
# "guitar" is as often electric as acoustic: rock and metal tags speak against, so a distorted
# guitar band does not read as acoustic (in Spotify's data rock and metal are rarely acoustic).
ELECTRIC = _m("electronic", "electronica", "electro", "House", "dance", "rock", "metal", "hard rock", "heavy metal",
              "punk", "alternative rock") + _t("techno", "electronic", "synth", "beat", "beats", "dance", "rock",
                                               "metal")


def raw_acousticness(tags: dict, attrs: dict, desc: dict) -> float:
    return _evidence(tags, ACOUSTIC, ELECTRIC)


# "How suitable a track is for dancing based on a combination of musical elements including tempo,
# rhythm stability, beat strength, and overall regularity."
DANCE = _m("dance", "party", "electronic", "Hip-Hop", "House", "funk", "electro", "rnb", "sexy") + _t(
    "dance", "beat", "beats", "techno", "drums")
NOT_DANCE = _m("ambient", "Mellow", "experimental", "beautiful") + _t("classical", "ambient", "slow", "quiet", "soft",
                                                                      "new age", "choral", "opera")


def raw_danceability(tags: dict, attrs: dict, desc: dict) -> float:
    # rhythm stability: the height of the onset envelope's autocorrelation at beat lags (0..1)
    pulse = float((desc or {}).get("pulse_clarity", 0.3))
    return _evidence(tags, DANCE, NOT_DANCE) + 4.0 * (pulse - 0.3)


# "A perceptual measure of intensity and activity. Typically, energetic tracks feel fast, loud, and
# noisy. ... Perceptual features contributing to this attribute include dynamic range, perceived
# loudness, timbre, onset rate, and general entropy."
ENERGETIC = _m("metal", "punk", "hard rock", "heavy metal", "rock", "electro", "party") + _t(
    "loud", "fast", "metal", "rock", "drums", "techno")
CALM = _m("ambient", "Mellow", "chillout", "chill", "easy listening", "beautiful", "acoustic") + _t(
    "quiet", "soft", "slow", "ambient", "classical", "new age")
# Over the Spotify sample, energy = sigmoid(1.83 + 0.217 per dB of loudness + 0.0053 per BPM)
# (least squares, r = 0.86 with the true values; benchmarks/fit_grounded.py prints the fit). The
# tag evidence, centred on its mean over the real recordings, adds ENERGY_TAGS per unit of log-odds:
# a track whose tags are one unit more energetic than usual reads like one about 1.6 dB louder.
ENERGY_FIT = (1.83, 0.217, 0.0053)
ENERGY_TAGS, ENERGY_TAG_CENTRE = 0.35, 0.117  # the centre: fit_grounded.py's mean over the real tracks


def raw_energy(tags: dict, attrs: dict, desc: dict) -> float:
    """Log-odds of energy (the calibration's logistic map has slope 1 and no shift for it)."""
    loud = min(max(_value(attrs, "loudness", -12.0), -60.0), 0.0)
    tempo = min(max(_value(attrs, "tempo", 120.0), 40.0), 220.0)
    a, b, c = ENERGY_FIT
    return a + b * loud + c * tempo + ENERGY_TAGS * (_evidence(tags, ENERGETIC, CALM) - ENERGY_TAG_CENTRE)


# "Musical positiveness conveyed by a track. Tracks with high valence sound more positive (e.g.
# happy, cheerful, euphoric), while tracks with low valence sound more negative (e.g. sad,
# depressed, angry)."
HAPPY = _m("happy", "party", "catchy", "funk", "dance", "oldies", "easy listening")
UNHAPPY = _m("sad", "heavy metal", "metal", "ambient", "experimental", "Mellow")


def raw_valence(tags: dict, attrs: dict, desc: dict) -> float:
    return _evidence(tags, HAPPY, UNHAPPY)


RAW = {"instrumentalness": raw_instrumentalness, "acousticness": raw_acousticness,
       "danceability": raw_danceability, "energy": raw_energy, "valence": raw_valence}


# --- onto Spotify's scale -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def calibration() -> dict:
    """The quantile maps; {} when the file is missing (then nothing is grounded)."""
    try:
        return json.loads(CALIBRATION_FILE.read_text())
    except (OSError, ValueError) as e:
        log.warning("no grounded-attribute calibration (%s): attributes stay as the other models give them", e)
        return {}


def to_unit(name: str, raw: float, cal: dict | None = None) -> float:
    """raw score -> 0..1 through the map of `name`: logistic, or quantile (piecewise linear, flat outside)."""
    c = (cal or calibration())["attributes"][name]
    if c.get("kind") == "logistic":
        return float(1.0 / (1.0 + math.exp(-float(c["slope"]) * (raw - float(c["shift"])))))
    levels = np.asarray(c["levels"], float)
    raw_q = np.asarray(c["raw_q"], float)
    # equal raw quantiles (ties) would make interp jump: spread them by a hair in order
    raw_q = raw_q + np.arange(len(raw_q)) * 1e-9
    p = float(np.interp(raw, raw_q, levels))
    return float(np.clip(np.interp(p, levels, np.asarray(c["target_q"], float)), 0.0, 1.0))


def raw_scores(tags: dict, attrs: dict | None = None, descriptors: dict | None = None) -> dict[str, float]:
    return {name: float(f(tags, attrs or {}, descriptors or {})) for name, f in RAW.items()}


def attributes(tags: dict, attrs: dict | None = None, descriptors: dict | None = None) -> dict[str, Attribute]:
    """The grounded attributes of one track from its tags ({"msd": {...}, "mtt": {...}}), its other
    attributes (measured loudness and tempo) and its descriptors (pulse_clarity)."""
    cal = calibration()
    if not cal or not all(v in tags for v in ("msd", "mtt")):
        return {}
    out = {}
    for name, raw in raw_scores(tags, attrs, descriptors).items():
        c = cal["attributes"].get(name)
        if c is None:
            continue
        out[name] = Attribute(round(to_unit(name, raw, cal), 4), "learned", float(c["confidence"]),
                              source=SOURCE, basis=c["basis"])
    return out


def user_model_attributes() -> set[str]:
    """Attributes the user's own trained model gives (`musicrec attributes train`): those keep its
    values, since the user trained it on labels of their choosing. Read from the manifest beside
    the model in the data folder (the model itself is checked, or refused, by attributes.learned)."""
    try:
        from musicrec_engine import paths
        from musicrec_engine.attributes.modelfile import USER_MODEL

        manifest = paths.resolve().models / f"{USER_MODEL}.manifest.json"
        if not manifest.is_file():
            return set()
        return set(json.loads(manifest.read_text()).get("attributes", []))
    except Exception:  # an unreadable manifest: the learned module refuses that model anyway
        return set()
