"""Generated audio with exact ground truth for the attributes that can be produced on purpose.

Every clip is built from parts whose presence we control, so its labels are facts, not opinions:

- speech      espeak-ng speech alone, over music, or none; the fraction of the clip covered by
              speech is measured on the speech track itself before mixing.
- acoustic    the music's instruments all come from acoustic General MIDI families (piano, guitar,
              strings, winds, brass, acoustic kits) or all from synthetic/electric ones (synth
              leads and pads, electric pianos/organs/guitars, electronic kits); fluidsynth renders
              them with its own reverb and chorus switched off.
- live        an audience (babble, claps, cheers, hall noise) plus a large-room reverb, vs a dry
              or small-plate studio mix.
- vocal       a voice-like part (formant-synthesised singing with vibrato, or GM choir/voice
              "aahs/oohs") on the melody, vs none. Speech also makes a clip non-instrumental,
              as in Spotify's definition ("rap or spoken word tracks are clearly vocal").

The generator is deterministic for a given seed and pool. Another seed alone gives new melodies,
mixes and rooms but the same instruments, kits, voices and sentences, so a held-out set of the
training pools ("seen generator") measures little more than recognising those presets. The
"unseen generator" set draws every program, kit, voice and sentence from the other pool (POOLS,
pool_of) and is rendered with a second SoundFont training never hears; what stays shared is the
generator's own code (the formant singer, the room and audience synthesis, the mix rules).
Only used by benchmarks/train_default_attributes.py and tests; the product never calls it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from musicrec_engine.jobs import Progress

SR = 22050
SF2 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
# The unseen set's SoundFont: MuseScore General (Debian musescore-general-soundfont-small). Not
# FluidR3_GS.sf2, which holds only the GS variations and renders bank-0 programs as silence alone.
SOUNDFONTS = {"fluidr3": SF2, "musescore": Path("/usr/share/sounds/sf3/MuseScore_General.sf3")}
MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]

# Two disjoint pools of every part a clip is built from, so a held-out set can come from parts
# training never heard: each General MIDI program, drum kit, espeak-ng voice (base and variant) and
# sentence belongs to the "train" or the "heldout" pool by the parity of the SHA-1 of its name
# (pool_of). The candidate lists below were widened until every role of both families has
# programs on both sides; which side a name falls on is the hash's, not a choice. A "seen"
# evaluation set uses the training pools with a new seed; an "unseen" one the held-out pools,
# rendered with a second SoundFont (SOUNDFONTS["musescore"]) that training never hears.
POOLS = ("train", "heldout")


def pool_of(name: str) -> str:
    return POOLS[int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2]


# General MIDI programs (0-based), named "program N" for the split. Drum kits are program numbers
# on channel 10 (bank 128), named "kit N".
CANDIDATES = {
    "acoustic": {
        "chords": [0, 1, 3, 6, 8, 11, 12, 15, 19, 20, 21, 24, 25, 44, 45, 46, 48, 49],
        "bass": [0, 1, 3, 32, 42, 43, 45, 57, 58, 67, 70],
        "lead": [0, 1, 11, 22, 24, 40, 41, 56, 57, 60, 64, 65, 66, 68, 69, 71, 72, 73, 74, 75, 104, 105, 109, 110],
        "kits": [0, 8, 16, 32, 40, 48],
    },
    "synthetic": {
        "chords": [2, 4, 5, 7, 16, 17, 18, 26, 27, 50, 51, 81, 88, 89, 90, 91, 92, 94, 95],
        "bass": [33, 34, 35, 36, 37, 38, 39, 87],
        "lead": [7, 18, 26, 27, 28, 29, 30, 62, 63, 80, 81, 82, 83, 84, 85, 86, 87, 98, 99, 102],
        "kits": [24, 25],
    },
}
CHOIR_CANDIDATES = [52, 53]  # choir aahs, voice oohs


def _program_name(role: str, p: int) -> str:
    return f"kit {p}" if role == "kits" else f"program {p}"


def families(pool: str) -> dict:
    return {fam: {role: [p for p in progs if pool_of(_program_name(role, p)) == pool] for role, progs in roles.items()}
            for fam, roles in CANDIDATES.items()}


def choir(pool: str) -> list[int]:
    return [p for p in CHOIR_CANDIDATES if pool_of(_program_name("choir", p)) == pool]


SENTENCE_CANDIDATES = [
    "Welcome back to the programme, tonight we talk about the history of the city.",
    "The weather will be cloudy in the morning with some rain later in the afternoon.",
    "She opened the door slowly and looked out over the quiet garden.",
    "Please remember to bring your tickets and arrive at least ten minutes early.",
    "In chapter three the author describes how the river changed its course.",
    "Our next guest has written four books about science and the sea.",
    "Turn left at the second crossing and follow the road past the old mill.",
    "Ladies and gentlemen, thank you all for coming out this evening.",
    "The results of the survey surprised almost everyone on the committee.",
    "He said that the train would leave at half past seven from platform two.",
    "Let me tell you a story about a fox, a crow and a piece of cheese.",
    "Yeah, you know what I mean, we keep it moving, we keep it real every day.",
    "Numbers one to ten: one, two, three, four, five, six, seven, eight, nine, ten.",
    "This recording is part of a series of lectures on modern architecture.",
    "If you have any questions, write to us and we will answer them next week.",
    "The committee will meet again on Thursday to discuss the new budget.",
    "Stars are born in clouds of gas and dust far away from our planet.",
    "Good morning, it is six o'clock and here is the news.",
    "The museum opens its new gallery of Roman coins on Saturday morning.",
    "My grandmother grew tomatoes, beans and sunflowers behind the kitchen.",
    "After the break we will hear from the mayor about the new bus routes.",
    "Mix the flour with two eggs and a cup of milk, then let it rest.",
    "The team scored twice in the last ten minutes and won the cup.",
    "Listen carefully, because I am only going to say this one time.",
    "Scientists found a new species of frog high in the mountain forest.",
    "The library will be closed on Monday for repairs to the roof.",
    "We drove all night and reached the coast just as the sun came up.",
    "Check the oil, the tyres and the lights before any long journey.",
    "Every poem in this book was written during one long winter.",
    "Traffic is heavy on the ring road this evening because of an accident.",
    "I never thought I would say this, but the old film was better.",
    "The bakery on the corner sells the best bread in the whole town.",
    "Press the green button twice and wait for the light to turn blue.",
    "Our correspondent reports from the harbour, where the ships are waiting.",
    "Children, please sit down, take out your books and turn to page nine.",
    "The concert was cancelled at the last minute because of the storm.",
]
# espeak-ng voices are a base (accent) plus a variant (speaker); both are split, so a held-out
# speaker has neither the accent nor the voice quality of any training speaker.
VOICE_BASES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",
               "en-us-nyc", "en"]
VOICE_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
                  "klatt3", "klatt4", "adam", "Andy", "Annie", "belinda", "benjamin", "david", "ed", "john", "linda",
                  "max", "paul", "rob", "robert", "steph", "travis", "victor", "zac", "grandma", "grandpa", "norbert",
                  "quincy", "shelby"]


def sentences(pool: str) -> list[str]:
    return [s for s in SENTENCE_CANDIDATES if pool_of(s) == pool]


def voices(pool: str) -> list[str]:
    return [f"{b}+{v}" for b in VOICE_BASES if pool_of(f"voice {b}") == pool
            for v in VOICE_VARIANTS if pool_of(f"variant {v}") == pool]


# Vowel formants (Hz) and bandwidths for the sung part: a, e, i, o, u.
VOWELS = [((800, 1150, 2900), (80, 90, 120)), ((400, 1600, 2700), (60, 80, 120)), ((350, 1700, 2700), (50, 100, 120)),
          ((450, 800, 2830), (70, 80, 100)), ((325, 700, 2530), (50, 60, 170))]

LABEL_COLUMNS = ["clip", "speechiness", "speech_present", "speech_fraction", "acousticness", "liveness",
                 "instrumentalness", "voice_present", "music", "family"]


def _midi_note_hz(n: float) -> float:
    return 440.0 * 2 ** ((n - 69) / 12)


# ---------------------------------------------------------------------------------------------
# Planning: every random choice for a clip is drawn here, from one generator per clip.


def plan_clip(seed: int, index: int, seconds: float, pool: str = "train") -> dict:
    """Every random choice of clip `index` of `seed`, drawn from `pool`'s programs, kits and voices."""
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {POOLS}, not {pool!r}")
    rng = np.random.default_rng([seed, index])
    speech = rng.choice(["none", "over", "alone"], p=[0.5, 0.25, 0.25])
    music = speech != "alone"
    fam = str(rng.choice(["acoustic", "synthetic"]))
    f = families(pool)[fam]
    p = {
        "index": index, "pool": pool, "seconds": seconds, "speech": str(speech), "music": bool(music), "family": fam if music else "",
        "key": int(rng.integers(12)), "mode": int(rng.integers(2)), "bpm": float(rng.uniform(70, 170)),
        "drums": bool(rng.random() < 0.6), "kit": int(rng.choice(f["kits"])),
        "chords": int(rng.choice(f["chords"])), "bass": int(rng.choice(f["bass"])), "lead": int(rng.choice(f["lead"])),
        "lead_on": bool(rng.random() < 0.8), "chord_style": str(rng.choice(["block", "arp", "pad"])),
        "voice": bool(music and rng.random() < 0.4), "voice_kind": str(rng.choice(["formant", "formant", "choir"])),
        "voice_db": float(rng.uniform(-6, 4)), "choir": int(rng.choice(choir(pool))),
        "speech_fraction_target": float(rng.uniform(0.3, 1.0)), "speech_snr_db": float(rng.uniform(-2, 12)),
        "voices": [str(v) for v in rng.choice(voices(pool), 3)], "live": bool(rng.random() < 0.4),
        "plate": bool(rng.random() < 0.5), "rt60": float(rng.uniform(0.2, 0.5)),
        "hall_rt60": float(rng.uniform(1.0, 2.5)), "hall_wet": float(rng.uniform(0.25, 0.6)),
        "crowd_db": float(rng.uniform(-24, -8)), "peak": float(rng.uniform(0.3, 0.99)),
        "rng_seed": int(rng.integers(2**31)),
    }
    return p


# ---------------------------------------------------------------------------------------------
# Music: one MIDI file holds a whole batch of clips, one per time slot, rendered by ONE fluidsynth
# call (loading the 140 MB SoundFont costs ~1 s, far more than rendering a clip).


def _compose(p: dict, t0: float, events: list) -> list[tuple[float, float, int]]:
    """Adds (time_s, message) events for one clip starting at t0; returns the melody notes."""
    import mido

    rng = np.random.default_rng(p["rng_seed"])
    scale = MAJOR if p["mode"] == 1 else MINOR
    beat = 60.0 / p["bpm"]
    n_beats = int(p["seconds"] / beat)
    tonic = 48 + p["key"]
    for ch, prog in ((0, p["chords"]), (1, p["bass"]), (2, p["lead"]), (3, p["choir"]), (9, p["kit"])):
        events.append((t0, mido.Message("program_change", channel=ch, program=prog)))

    def note(ch, n, start, dur, vel):
        events.append((t0 + start, mido.Message("note_on", channel=ch, note=int(n), velocity=int(vel))))
        events.append((t0 + start + max(dur, 0.03), mido.Message("note_off", channel=ch, note=int(n), velocity=0)))

    degrees = [0, 3, 4, 0, 5, 3, 4, 0]
    rng.shuffle(degrees[1:7])
    melody = []
    for bar in range(0, n_beats, 4):
        deg = degrees[(bar // 4) % len(degrees)]
        chord = [tonic + scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        bar_dur = min(4, n_beats - bar) * beat
        if p["chord_style"] == "arp":
            for k in range(int(bar_dur / (beat / 2))):
                note(0, chord[k % 3] + 12 * (k // 3 % 2), bar * beat + k * beat / 2, beat / 2, rng.integers(55, 90))
        else:
            for c in chord:
                note(0, c, bar * beat, bar_dur * (0.95 if p["chord_style"] == "pad" else 0.5), rng.integers(50, 85))
        for b in range(0, min(4, n_beats - bar), 2):
            note(1, chord[0] - 12, (bar + b) * beat, beat * 1.8, rng.integers(70, 100))
    t = 0.0
    while t < n_beats * beat - beat / 2:
        dur = beat * float(rng.choice([0.5, 1, 1, 2]))
        if rng.random() < 0.85:
            n = tonic + 12 + scale[int(rng.integers(7))] + 12 * int(rng.random() < 0.2)
            melody.append((t, dur, n))
            if p["lead_on"]:
                note(2, n, t, dur * 0.9, rng.integers(60, 100))
            if p["voice"] and p["voice_kind"] == "choir":
                note(3, n, t, dur * 0.95, rng.integers(70, 110))
        t += dur
    if p["drums"]:
        for b in range(n_beats):
            s = b * beat
            if b % 2 == 0:
                note(9, 36, s, 0.1, rng.integers(90, 120))
            else:
                note(9, 38, s, 0.1, rng.integers(80, 110))
            for h in (0, 0.5):
                note(9, 42, s + h * beat, 0.05, rng.integers(50, 80))
    return melody


def _render_batch(plans: list[dict], slot: float, workdir: Path, soundfont: Path) -> tuple[np.ndarray, list[list]]:
    import mido

    events: list = []
    melodies = []
    for i, p in enumerate(plans):
        melodies.append(_compose(p, i * slot, events) if p["music"] else [])
    events.sort(key=lambda e: (e[0], e[1].type == "note_on"))  # note_off before note_on at equal times
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))  # 960 ticks per second
    last = 0
    for t, msg in events:
        tick = int(round(t * 960))
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=int(2 * 960)))
    mid_path, wav_path = workdir / "batch.mid", workdir / "batch.wav"
    mid.save(mid_path)
    # -R 0 -C 0: no built-in reverb or chorus, so "dry" means dry and the room is ours to add.
    cmd = ["fluidsynth", "-ni", "-R", "0", "-C", "0", "-g", "0.5", "-r", str(SR), "-F", str(wav_path), str(soundfont),
           str(mid_path)]
    subprocess.run(cmd, capture_output=True, timeout=600, check=True)
    import soundfile as sf

    y, sr = sf.read(wav_path, dtype="float32", always_2d=True)
    assert sr == SR, f"fluidsynth rendered at {sr} Hz"
    return y.mean(axis=1), melodies


# ---------------------------------------------------------------------------------------------
# Voice, speech, rooms and audiences.


def _sing(melody: list, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Formant-synthesised singing: harmonics of a vibrato f0 shaped by one vowel per note."""
    n = int(seconds * SR)
    out = np.zeros(n, np.float32)
    shift = -12 if rng.random() < 0.5 else 0
    vib_rate, vib_depth = rng.uniform(4.5, 6.5), rng.uniform(0.15, 0.5)
    for start, dur, note in melody:
        a, b = int(start * SR), min(n, int((start + dur) * SR))
        if b - a < 200:
            continue
        t = np.arange(b - a) / SR
        f0 = _midi_note_hz(note + shift) * 2 ** ((vib_depth * np.sin(2 * np.pi * vib_rate * t)
                                                    * np.minimum(1, t / 0.3)) / 12)
        f0 *= 1 + 0.004 * rng.standard_normal(t.size).cumsum() / np.sqrt(np.arange(1, t.size + 1))
        phase = 2 * np.pi * np.cumsum(f0) / SR
        (fr, bw) = VOWELS[int(rng.integers(len(VOWELS)))]
        base = float(np.mean(f0))
        y = np.zeros(t.size)
        for k in range(1, int(5000 / base)):
            fk = k * base
            amp = sum(1.0 / (1 + ((fk - F) / B) ** 2) for F, B in zip(fr, bw, strict=True)) * k**-0.6
            y += amp * np.sin(k * phase)
        env = np.minimum(1, t / 0.04) * np.minimum(1, (t[-1] - t) / 0.06 + 1e-3)
        breath = 0.02 * rng.standard_normal(t.size)
        out[a:b] += (env * (y / (np.abs(y).max() + 1e-9) + breath)).astype(np.float32)
    return out


def _speak(text: str, voice: str, rng: np.random.Generator, workdir: Path) -> np.ndarray:
    import soundfile as sf

    path = workdir / "speech.wav"
    cmd = ["espeak-ng", "-v", voice, "-s", str(int(rng.uniform(130, 200))), "-p", str(int(rng.uniform(25, 75))),
           "-w", str(path), text]
    subprocess.run(cmd, capture_output=True, timeout=30, check=True)
    y, sr = sf.read(path, dtype="float32")
    if sr != SR:
        import soxr

        y = soxr.resample(y, sr, SR).astype(np.float32)
    nz = np.flatnonzero(np.abs(y) > 1e-3)
    return y[nz[0]:nz[-1] + 1] if nz.size else y


def _active(y: np.ndarray, frame: int = 512) -> np.ndarray:
    """Frames where a part is sounding: within 35 dB of its loudest frame."""
    n = y.size // frame
    rms = np.sqrt((y[: n * frame].reshape(n, frame) ** 2).mean(axis=1) + 1e-12)
    return rms > rms.max() * 10 ** (-35 / 20)


def _speech_track(p: dict, rng: np.random.Generator, workdir: Path) -> tuple[np.ndarray, float]:
    """Utterances with pauses until the target share of the clip is covered; returns the measured share."""
    n = int(p["seconds"] * SR)
    out = np.zeros(n, np.float32)
    pos = int(rng.uniform(0, 0.15) * n)
    voice = p["voices"][0]
    target = p["speech_fraction_target"]
    while pos < n:
        utt = _speak(str(rng.choice(sentences(p["pool"]))), voice, rng, workdir)
        if rng.random() < 0.3:
            voice = str(rng.choice(p["voices"]))
        end = min(n, pos + utt.size)
        out[pos:end] += utt[: end - pos]
        covered = np.mean(_active(out[:end])) * end / n
        gap_needed = (1 - target) / max(target, 0.05) * utt.size
        pos = end + int(rng.uniform(0.5, 1.5) * gap_needed) + int(0.1 * SR)
        if covered >= target:
            break
    return out, float(np.mean(_active(out)))


def _room(rt60: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(rt60 * SR)) / SR
    ir = rng.standard_normal(t.size) * np.exp(-6.91 * t / rt60)
    ir[0] = 1.0
    return (ir / np.sqrt(np.sum(ir**2))).astype(np.float32)


def _reverb(y: np.ndarray, rt60: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import fftconvolve

    w = fftconvolve(y, _room(rt60, rng))[: y.size]
    return ((1 - wet) * y + wet * w * (np.std(y) / (np.std(w) + 1e-9))).astype(np.float32)


def _crowd(seconds: float, pool: str, rng: np.random.Generator, workdir: Path) -> np.ndarray:
    """An audience: hall noise, distant babble, claps and cheers, all in a large room."""
    from scipy.signal import butter, lfilter

    n = int(seconds * SR)
    white = rng.standard_normal(n)
    b, a = butter(2, [200 / (SR / 2), 4000 / (SR / 2)], btype="band")
    hall = lfilter(b, a, white) * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * np.arange(n) / SR))
    babble = np.zeros(n)
    for _ in range(int(rng.integers(3, 7))):
        utt = _speak(str(rng.choice(sentences(pool))), str(rng.choice(voices(pool))), rng, workdir)
        start = int(rng.integers(0, max(1, n - utt.size // 2)))
        end = min(n, start + utt.size)
        babble[start:end] += utt[: end - start]
    babble = lfilter(*butter(2, 2500 / (SR / 2)), babble)
    claps = np.zeros(n)
    rate = rng.uniform(2, 12)  # claps per second, the whole audience
    for t in rng.uniform(0, seconds, int(rate * seconds)):
        i = int(t * SR)
        m = min(n - i, int(0.02 * SR))
        claps[i:i + m] += rng.standard_normal(m) * np.exp(-np.arange(m) / (0.004 * SR)) * rng.uniform(0.3, 1.0)
    cheer = np.zeros(n)
    if rng.random() < 0.6:
        a0 = int(rng.uniform(0, 0.7) * n)
        m = min(n - a0, int(rng.uniform(1, 3) * SR))
        cheer[a0:a0 + m] = lfilter(*butter(2, [300 / (SR / 2), 3000 / (SR / 2)], btype="band"),
                                   rng.standard_normal(m)) * np.hanning(m)
    parts = [hall, babble, claps, cheer]
    mix = sum(p / (np.std(p) + 1e-9) * g for p, g in zip(parts, rng.uniform(0.3, 1.0, 4), strict=True))
    return _reverb(mix.astype(np.float32), rng.uniform(1.5, 3.0), 0.7, rng)


def _db_gain(ref: np.ndarray, y: np.ndarray, db: float) -> np.ndarray:
    r = np.sqrt(np.mean(ref**2)) + 1e-9
    s = np.sqrt(np.mean(y**2)) + 1e-9
    return y * (r / s) * 10 ** (db / 20)


def _mix(p: dict, music: np.ndarray | None, melody: list, workdir: Path) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(p["rng_seed"] + 1)
    n = int(p["seconds"] * SR)
    y = np.zeros(n, np.float32)
    if music is not None:
        m = np.zeros(n, np.float32)
        m[: min(n, music.size)] = music[:n]
        y += m / (np.sqrt(np.mean(m**2)) + 1e-9) * 0.1
        if p["voice"] and p["voice_kind"] == "formant":
            y += _db_gain(y, _sing(melody, p["seconds"], rng), p["voice_db"])
    fraction = 0.0
    if p["speech"] != "none":
        s, fraction = _speech_track(p, rng, workdir)
        y = s * 0.1 / (np.sqrt(np.mean(s**2)) + 1e-9) if music is None else y + _db_gain(y, s, p["speech_snr_db"])
    if p["live"]:
        y = _reverb(y, p["hall_rt60"], p["hall_wet"], rng)
        y = y + _db_gain(y, _crowd(p["seconds"], p["pool"], rng, workdir), p["crowd_db"])
    elif p["plate"]:
        y = _reverb(y, p["rt60"], 0.2, rng)
    y = y * p["peak"] / (np.abs(y).max() + 1e-9)
    # Real recordings never contain digital silence: a faint noise floor (-95..-65 dBFS) keeps the
    # gaps of dry clips from being a give-away that no recording has.
    y = y + rng.standard_normal(n).astype(np.float32) * 10 ** (rng.uniform(-95, -65) / 20)
    speech_present = p["speech"] != "none"
    vocal = speech_present or p["voice"]
    # Spotify's speechiness bands: > 0.66 speech only, 0.33-0.66 speech and music, < 0.33 music.
    speechiness = 0.03 + (0.93 if p["speech"] == "alone" else 0.6 if speech_present else 0.0) * fraction
    labels = {
        "clip": p["index"], "speechiness": round(float(speechiness), 4), "speech_present": int(speech_present),
        "speech_fraction": round(fraction, 4),
        "acousticness": (1 if p["family"] == "acoustic" else 0) if p["music"] else "",
        "liveness": int(p["live"]), "instrumentalness": int(not vocal), "voice_present": int(p["voice"]),
        "music": int(p["music"]), "family": p["family"],
    }
    return y.astype(np.float32), labels


def generate(count: int, seed: int, seconds: float = 8.0, batch: int = 40,
             progress: Progress | None = None, cancel=None,
             start: int = 0, pool: str = "train", soundfont: str = "fluidr3") -> Iterator[tuple[np.ndarray, dict]]:
    """Yields (mono float32 audio at 22050 Hz, labels) for clips start..start+count-1 of `seed`;
    labels as LABEL_COLUMNS. A clip depends only on (seed, index, pool, soundfont), so sets can be
    made in parts. `pool` picks the programs, kits, voices and sentences (POOLS); `soundfont` a key
    of SOUNDFONTS."""
    sf_path = SOUNDFONTS.get(soundfont)
    if sf_path is None:
        raise ValueError(f"soundfont must be one of {sorted(SOUNDFONTS)}, not {soundfont!r}")
    if shutil.which("fluidsynth") is None or shutil.which("espeak-ng") is None or not sf_path.exists():
        raise RuntimeError(f"generating training audio needs fluidsynth, espeak-ng and {sf_path}")
    slot = seconds + 3.0  # room for release tails between clips
    done = 0
    with tempfile.TemporaryDirectory(prefix="musicrec-trainset-") as tmp:
        work = Path(tmp)
        for b0 in range(0, count, batch):
            if cancel is not None and cancel.is_set():
                return
            plans = [plan_clip(seed, start + i, seconds, pool) for i in range(b0, min(count, b0 + batch))]
            audio, melodies = _render_batch(plans, slot, work, sf_path)
            for j, p in enumerate(plans):
                a = int(j * slot * SR)
                music = audio[a:a + int(seconds * SR)] if p["music"] else None
                y, labels = _mix(p, music, melodies[j], work)
                done += 1
                if progress:
                    progress(done, count, f"clip {p['index']}")
                yield y, labels
