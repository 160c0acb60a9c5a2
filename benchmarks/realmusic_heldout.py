"""The held-out real-recording set: game-music packages that no choice was ever made on.

The tuning set (realmusic.py's default) is where the sound space's embedding share and the
grounded attributes' calibration were chosen; figures measured there are not held-out. These
packages were installed afterwards and are read only to measure, with every setting frozen:

    sudo apt-get install extremetuxracer-data lincity-ng-data xmoto-data neverball-common \
        freeciv-data widelands-data naev-data supertuxkart-data fillets-ng-data enigma-data \
        trackballs-data redeclipse-data btanks-data starfighter-data

The same rules as the tuning set: one album per soundtrack or per composer, where the package's
copyright file, a readme or the files' tags name each file's composer (files whose composer is not
stated, in a package of several composers, are left out); tracks under 20 s skipped; no
byte-identical files; near-duplicates (a sped-up "_fast" copy of a race track, loops cut from one
mix) left out, with the reason in EXCLUDED, and so is a piece the tuning set also holds (matched by
file name and title across the two sets: one found).

Use it through realmusic: `realmusic.albums(which="heldout")`.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGES = ("extremetuxracer-data", "lincity-ng-data", "xmoto-data", "neverball-common", "freeciv-data",
            "widelands-data", "naev-data", "supertuxkart-data", "fillets-ng-data", "enigma-data",
            "trackballs-data", "redeclipse-data", "btanks-data", "starfighter-data")

EXCLUDED = {
    # SuperTuxKart ships a faster copy of several race tracks for the last lap: the same music.
    **{f"supertuxkart-data/{s}": "a sped-up copy of another track of the set (last-lap variant)"
       for s in ("celtic_fast", "cocoa_river_fast", "farm_f", "jumping_to_the_stars_remake_fast",
                 "landing_in_gran_paradiso_fast", "ravenbridge_mansion_fast", "theGreatFair_fast")},
    "starfighter-data/through_space": "Maxstack's 'Through Space', a 200 s edit of the piece the tuning set "
                                      "holds (Endgame: Singularity, 234 s): not held out",
}


def copyright_holders(package: str, folder: str) -> dict[str, str]:
    """File stem -> the Copyright line of the Debian copyright paragraph that lists it, for files
    under `folder` (a path fragment such as 'snd/music/'); {} when the file is absent."""
    try:
        text = Path(f"/usr/share/doc/{package}/copyright").read_text(errors="replace")
    except OSError:
        return {}
    out = {}
    for para in re.split(r"\n\s*\n", text):
        m = re.search(r"^Files:(.*?)^Copyright:[ \t]*([^\n]+)", para, re.M | re.S)
        if not m:
            continue
        holder = re.sub(r"^\d{4}(?:[-,]\s*\d{4})*,?\s+|\s*<[^>]*>", "", m.group(2).strip())
        for f in m.group(1).split():
            if folder in f and "*" not in f:
                out[Path(f).stem] = holder
    return out


def _readme_composers(readme: Path) -> dict[str, str]:
    """Extreme Tux Racer's music/readme: 'NAME <mail> composed:' followed by indented file names."""
    out, who = {}, None
    try:
        lines = readme.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        m = re.match(r"^(\S.*?)\s*<[^>]*>\s*composed:", line)
        if m:
            who = m.group(1).strip()
        elif who and line.strip().endswith(".ogg"):
            out[Path(line.strip()).stem] = who
    return out


def _by_map(rm, package, prefix, licence, paths, composer_of, min_seconds) -> list:
    """One album per composer that composer_of(path) names; paths it names nobody for are left out."""
    groups: dict[str, object] = {}
    for p in paths:
        who = composer_of(p)
        if not who:
            continue
        s = rm.duration(p)
        if s < min_seconds:
            continue
        a = groups.setdefault(who, rm.Album(f"{prefix} — {who}", who, licence, package))
        a.items.append(rm.Track(f"{package}/{p.stem}", str(p), p, s))
    return list(groups.values())


# Spellings of one composer (or one pair) in SuperTuxKart's .music files and Widelands' tags.
_SAME = {"ozoneone": "0zone0ne", "krobonil & ozoneone": "0zone0ne & Krobonil",
         "ozoneone & krobonil": "0zone0ne & Krobonil", "ozoneone and krobonil": "0zone0ne & Krobonil",
         "chris leutwyler": "Chris Leutwyler (Krobonil)", "krobonil": "Chris Leutwyler (Krobonil)",
         "klaus halfmann aka hasi50": "Klaus Halfmann"}


def _norm(name: str) -> str:
    name = name.replace("&amp;", "&").strip()
    return _SAME.get(name.lower(), name)


def _stk_composer(p: Path) -> str:
    try:
        m = re.search(r'composer\s*=\s*"([^"]*)"', p.with_suffix(".music").read_text(errors="replace"))
    except OSError:
        return ""
    return _norm(m.group(1)) if m else ""


def sources(rm, min_seconds: float) -> list:
    """The held-out albums found on this machine; rm is the realmusic module (its readers)."""
    m = min_seconds
    albums = []
    etr = Path("/usr/share/games/etr/music")
    who = _readme_composers(etr / "readme")
    albums += _by_map(rm, "extremetuxracer-data", "Extreme Tux Racer", "GPL-2+", rm._files(etr),
                      lambda p: who.get(p.stem) or rm.tags(p).get("artist", ""), m)
    # LinCity-NG names the composer in each file name: "NN - composer - title.ogg".
    albums += _by_map(rm, "lincity-ng-data", "LinCity-NG", "GPL-2+",
                      rm._files("/usr/share/games/lincity-ng/music/default"),
                      lambda p: p.stem.split(" - ")[1] if p.stem.count(" - ") >= 2 else "", m)
    albums += rm._by_tag("xmoto-data", "X-Moto", "GPL-2+", rm._files("/usr/share/games/xmoto/Textures/Musics"), m)
    # Neverball's copyright file gives the whole package to its authors: one soundtrack.
    albums += rm._plain("neverball-common", "Neverball soundtrack", "Neverball authors", "GPL-2+",
                        rm._files("/usr/share/games/neverball/bgm"), m)
    albums += rm._by_tag("freeciv-data", "Freeciv", "GPL-2+", rm._files("/usr/share/games/freeciv/stdmusic"), m)
    albums += _by_map(rm, "widelands-data", "Widelands", "GPL-2+ / CC-BY-SA-3.0",
                      rm._files("/usr/share/games/widelands/data/music"),
                      lambda p: _norm(rm.tags(p).get("composer") or rm.tags(p).get("artist") or ""), m)
    naev = copyright_holders("naev-data", "snd/music/")
    albums += _by_map(rm, "naev-data", "Naev", "GPL-2+ / GPL-3 / CC-BY(-SA)-3.0",
                      rm._files("/usr/share/naev/dat/snd/music"), lambda p: naev.get(p.stem, ""), m)
    albums += _by_map(rm, "supertuxkart-data", "SuperTuxKart", "CC-BY-SA / GPL",
                      rm._files("/usr/share/games/supertuxkart/data/music"), _stk_composer, m)
    # One soundtrack each: the package's copyright gives its music to one author or to the project.
    albums += rm._plain("fillets-ng-data", "Fish Fillets NG soundtrack", "Fish Fillets authors", "GPL-2+",
                        rm._files("/usr/share/games/fillets-ng/music"), m)
    albums += rm._plain("redeclipse-data", "Red Eclipse", 'Derek "JoJo" Stegall', "CC-BY-SA-3.0",
                        rm._files("/usr/share/games/redeclipse/data/sounds/music", "track_*"), m)
    albums += rm._by_tag("btanks-data", "Battle Tanks", "GPL-2+", rm._files("/usr/share/games/btanks/data/tunes"),
                         m, tag="album", default_artist="Battle Tanks authors")
    albums += rm._by_tag("enigma-data", "Enigma", "GPL-2+", rm._files("/usr/share/games/enigma/music", "*/*"), m)
    trackballs = copyright_holders("trackballs-data", "share/music/")
    albums += _by_map(rm, "trackballs-data", "Trackballs", "Ethymonics Free Music Licence",
                      rm._files("/usr/share/games/trackballs/music"), lambda p: trackballs.get(p.stem, ""), m)
    albums += rm._by_tag("starfighter-data", "Starfighter", "CC-BY-SA / GPL", rm._files("/usr/share/starfighter/music"), m)
    return albums
