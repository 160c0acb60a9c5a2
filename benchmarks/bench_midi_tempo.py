"""Tempo on music people composed and sequenced: MIDI songs rendered through a SoundFont, the tempo
their authors set as the truth, MusicRec and Essentia on the same excerpts.

    apt install openttd-openmsx csound-soundfont
    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_midi_tempo.py /work/midi-openmsx \\
        [--midi /usr/share/games/openttd/baseset/openmsx] [--soundfont /usr/share/sounds/sf2/sf_GMbank.sf2]

Each song is rendered once by fluidsynth (cached in OUT) and a 30-second excerpt is taken from
where the song's tempo map is constant; a song whose tempo changes in every such stretch is left
out, with a line saying so. A song that keeps one tempo throughout is also read as the app reads
a whole track (the stretches of analysis/plan.py, through the app's decoder), so that figure is
what a user sees. The truth is the MIDI tempo, which counts quarter notes: where the time
signature's beat is another note (6/8, 6/4, 2/2) both readings are printed and the quarter's is
scored, since that is what the author typed. Unlike the generated and independent corpora,
nobody chose these tempi to test a tempo finder: they are what the authors wrote, usually with a
drum kit. OpenTTD's OpenMSX set (GPL-2, about 30 songs by several composers) is the default;
`--wad` reads the music of Doom-engine WAD files instead (Freedoom's two IWADs: about 65 songs by
its many contributors, mostly rock and metal with a kit):

    apt install freedoom
    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_midi_tempo.py /work/midi-freedoom \\
        --wad /usr/share/games/doom/freedoom1.wad /usr/share/games/doom/freedoom2.wad

`--lmms` reads the demo projects LMMS ships instead (25 songs by about 20 people, mostly
electronic dance music, hip-hop and reggae, each at the one tempo in its project's header),
rendered by LMMS itself, with its own synthesisers and samples rather than a SoundFont:

    apt install lmms
    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_midi_tempo.py /work/lmms \\
        --lmms /usr/share/lmms/projects
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import provenance  # noqa: E402
from benchmarks.bench_attributes import Essentia, acc1, acc2, bootstrap, decode, run_engine  # noqa: E402
from musicrec_engine.analysis import plan  # noqa: E402
from musicrec_engine.audio import decode as audio  # noqa: E402
from musicrec_engine.features.spectrum import SR  # noqa: E402

MIDI_DIR = Path("/usr/share/games/openttd/baseset/openmsx")
SOUNDFONT = Path("/usr/share/sounds/sf2/sf_GMbank.sf2")
EXCERPT_S = 30.0
LEAD_IN_S = 2.0
EXCERPT, SONG = "30-s excerpt", "the song as the app reads it"


@dataclass
class Song:
    name: str
    meter: str
    drums: str  # "yes", "no" or "—" where the source does not say
    tmap: list[tuple[float, float]]  # [(seconds, quarter-note BPM)]
    left_out: str = ""  # why the song says nothing of its beat, if it does not


def midi_from_wads(wads: list[Path], out: Path) -> list[Path]:
    """The music lumps (D_*) of Doom-engine WAD files that are standard MIDI, written once each to
    OUT/midi (a song both WADs carry is kept once). Lumps in the older MUS format are skipped."""
    out.mkdir(parents=True, exist_ok=True)
    seen, songs = set(), []
    for wad in wads:
        data = wad.read_bytes()
        _, count, directory = struct.unpack("<4sii", data[:12])
        for i in range(count):
            pos, size, raw = struct.unpack("<ii8s", data[directory + 16 * i:directory + 16 * (i + 1)])
            name, lump = raw.rstrip(b"\0").decode("ascii", "replace"), data[pos:pos + size]
            digest = hashlib.md5(lump).hexdigest()
            if not name.startswith("D_") or lump[:4] != b"MThd" or digest in seen:
                continue
            seen.add(digest)
            path = out / f"{wad.stem}_{name}.mid"
            if not path.exists():
                path.write_bytes(lump)
            songs.append(path)
    return songs


def tempo_map(path: Path) -> tuple[list[tuple[float, float]], str, bool, int]:
    """([(seconds, quarter-note BPM)], first time signature, whether the drum channel plays, ticks per beat)."""
    import mido

    mid = mido.MidiFile(path)
    events, meter, drums = [], "", False
    for tr in mid.tracks:
        tick = 0
        for msg in tr:
            tick += msg.time
            if msg.type == "set_tempo":
                events.append((tick, msg.tempo))
            elif msg.type == "time_signature" and not meter:
                meter = f"{msg.numerator}/{msg.denominator}"
            elif msg.type == "note_on" and msg.channel == 9 and msg.velocity > 0:
                drums = True
    events.sort(key=lambda e: e[0])  # by time only: of two tempi set at one tick, the later in the file holds
    if not events or events[0][0] > 0:
        events.insert(0, (0, 500000))  # the MIDI default: 120 BPM until told otherwise
    out, seconds, last_tick, last_tempo = [], 0.0, 0, events[0][1]
    for tick, tempo in events:
        seconds += mido.tick2second(tick - last_tick, mid.ticks_per_beat, last_tempo)
        out.append((seconds, round(mido.tempo2bpm(tempo), 2)))
        last_tick, last_tempo = tick, tempo
    return out, meter or "4/4", drums, mid.ticks_per_beat


def clock_tempo(tmap: list[tuple[float, float]], ticks_per_beat: int) -> bool:
    """Whether the tempo only restates the 140 Hz clock of Doom's older MUS format (a song converted
    from MUS has one tempo whose ticks run at 140 per second): then it says nothing of the beat."""
    return len(tmap) == 1 and abs(ticks_per_beat * tmap[0][1] / 60.0 / 140.0 - 1) < 0.01


def constant_stretch(tmap: list[tuple[float, float]], length: float) -> tuple[float, float] | None:
    """(start, BPM) of the first EXCERPT_S stretch after LEAD_IN_S with one tempo, or None."""
    bounds = [t for t, _ in tmap] + [length]
    for i, (t, bpm) in enumerate(tmap):
        # tempo events a few milliseconds apart that repeat the same tempo are one segment
        j = i
        while j + 1 < len(tmap) and abs(tmap[j + 1][1] - bpm) < 0.05:
            j += 1
        start = max(t, LEAD_IN_S)
        if bounds[j + 1] - start >= EXCERPT_S:
            return start, bpm
    return None


def render(midi: Path, soundfont: Path, out: Path) -> Path:
    wav = out / "audio" / (midi.stem + ".wav")
    if not wav.exists():
        wav.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", "44100", "-F", str(wav), str(soundfont), str(midi)],
                       check=True, capture_output=True)
    return wav


def lmms_projects(root: Path) -> list[Path]:
    """The songs among LMMS's shipped projects (demos and shorties; the tutorials are exercises)."""
    return sorted(p for p in root.rglob("*.mmp*") if "tutorials" not in p.parts)


def lmms_song(project: Path) -> Song:
    """The tempo and time signature in a project's header. An .mmpz file is the project's XML as Qt
    compresses it (a 4-byte length, then zlib). An automated tempo is written as a <bpm> element
    under the header instead of the attribute; such a song has no one tempo to score."""
    data = project.read_bytes()
    if project.suffix == ".mmpz":
        data = zlib.decompress(data[4:])
    head = ElementTree.fromstring(data).find("head")
    meter = f"{head.get('timesig_numerator', '4')}/{head.get('timesig_denominator', '4')}"
    if head.find("bpm") is not None or head.get("bpm") is None:
        return Song(project.stem, meter, "—", [], left_out="its tempo is automated")
    return Song(project.stem, meter, "—", [(0.0, float(head.get("bpm")))])


def render_lmms(project: Path, out: Path) -> Path:
    wav = out / "audio" / (project.stem + ".wav")
    if not wav.exists():
        wav.parent.mkdir(parents=True, exist_ok=True)
        # LMMS refuses to run as root unless told it may; it needs no display to render
        subprocess.run(["lmms", "--allowroot", "--render", str(project), "--output", str(wav), "--format", "wav"],
                       check=True, capture_output=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return wav


def midi_song(path: Path) -> Song:
    tmap, meter, drums, ticks_per_beat = tempo_map(path)
    left_out = "its tempo is the MUS format's clock, not the author's" if clock_tempo(tmap, ticks_per_beat) else ""
    return Song(path.stem, meter, "yes" if drums else "no", tmap, left_out)


def beat_reading(bpm: float, meter: str) -> float:
    """The time signature's beat in BPM when it is not the quarter (dotted quarter of 6/8, half of 2/2)."""
    num, den = (int(x) for x in meter.split("/"))
    if den == 8 and num % 3 == 0 and num > 3:
        return bpm * 2 / 3
    if den == 4 and num in (6, 12):
        return bpm / 3  # the dotted half of 6/4
    if den == 2:
        return bpm / 2
    return bpm


def one_tempo(tmap: list[tuple[float, float]]) -> bool:
    """Whether the song keeps its first tempo to the end (repeated events of the same tempo allowed)."""
    return all(abs(bpm - tmap[0][1]) < 0.05 for _, bpm in tmap)


def samples_key(song: str, how: str, signal: np.ndarray) -> str:
    """The key Essentia's answer is cached under: the song, which reading, and the samples' digest."""
    return f"{song}:{how}:{hashlib.sha1(signal.tobytes()).hexdigest()[:12]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="where renders and Essentia's cached answers go")
    ap.add_argument("--midi", type=Path, default=MIDI_DIR)
    ap.add_argument("--wad", type=Path, nargs="+", help="take the songs from these Doom-engine WAD files")
    ap.add_argument("--lmms", type=Path, help="take the songs from the LMMS projects under this folder")
    ap.add_argument("--soundfont", type=Path, default=SOUNDFONT)
    args = ap.parse_args()
    provenance.announce(args)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.lmms:
        if shutil.which("lmms") is None:
            sys.exit("needs LMMS to render its projects (apt install lmms)")
        sources = [(lmms_song(p), p) for p in lmms_projects(args.lmms)]
        rendered = partial(render_lmms, out=args.out)
    else:
        if shutil.which("fluidsynth") is None or not args.soundfont.exists():
            sys.exit(f"needs fluidsynth and {args.soundfont} (apt install fluidsynth csound-soundfont)")
        paths = midi_from_wads(args.wad, args.out / "midi") if args.wad else sorted(args.midi.glob("*.mid"))
        sources = [(midi_song(p), p) for p in paths]
        rendered = partial(render, soundfont=args.soundfont, out=args.out)
    if not sources:
        sys.exit(f"no songs in {args.lmms or args.wad or args.midi} (apt install openttd-openmsx, freedoom or lmms)")
    ess = Essentia(args.out / "essentia.json")
    runs: dict[str, dict[str, list[dict]]] = {EXCERPT: {}, SONG: {}}
    print("\n| song | meter | drums | truth (quarter) | its beat | MusicRec, excerpt | conf | Essentia, excerpt "
          "| MusicRec, song | conf | Essentia, song |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for song, source in sources:
        if song.left_out:
            print(f"| {song.name} | {song.meter} | | {song.left_out}: left out |")
            continue
        tmap, meter = song.tmap, song.meter
        wav = rendered(source)
        y, ch = decode(wav)
        stretch = constant_stretch(tmap, len(y) / SR)
        if stretch is None:
            print(f"| {song.name} | {meter} | | no {EXCERPT_S:.0f}-s stretch at one tempo: left out |")
            continue
        start, truth = stretch
        signals = {EXCERPT: (y[int(start * SR):int((start + EXCERPT_S) * SR)], ())}
        if one_tempo(tmap):  # the stretches the analysis reads of a long track, by its own decoder and plan
            dec = audio.decode(wav, plan=plan.segments)
            signals[SONG] = (dec.y, dec.joins)
        cells = []
        for how, (signal, joins) in signals.items():
            answers = {"MusicRec": run_engine(signal, ch, joins)[0],
                       f"Essentia {ess.version}": ess(signal, key=samples_key(song.name, how, signal))}
            for name, a in answers.items():
                runs[how].setdefault(name, []).append({"piece": song.name, "a1": acc1(a["tempo"], truth),
                                                       "a2": acc2(a["tempo"], truth), "sure": a.get("tempo_conf", 0) >= 0.8})
            mine, theirs = answers.values()
            cells += [f"{mine['tempo']:.1f}", f"{mine['tempo_conf']:.2f}", f"{theirs['tempo']:.1f}"]
        cells += ["—"] * (6 - len(cells))
        print(f"| {song.name} | {meter} | {song.drums} | {truth:.1f} | {beat_reading(truth, meter):.1f} | "
              + " | ".join(cells) + " |", flush=True)
    print("\n| read | system | songs | tempo Acc1 | tempo Acc2 | sure tempi right |")
    print("|---|---|---|---|---|---|")
    for how, systems in runs.items():
        for name, res in systems.items():
            m1, lo1, hi1 = bootstrap(res, "a1")
            m2, lo2, hi2 = bootstrap(res, "a2")
            sure = [r["a1"] for r in res if r["sure"]]
            right = f"{np.mean(sure):.2f} ({len(sure)})" if name == "MusicRec" and sure else ""
            print(f"| {how} | {name} | {len(res)} | {m1:.3f} [{lo1:.2f}, {hi1:.2f}] | {m2:.3f} [{lo2:.2f}, {hi2:.2f}] | {right} |")


if __name__ == "__main__":
    main()
