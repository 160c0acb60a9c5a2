"""Decoder faults: a header declaring hundreds of channels, and a decoder that hangs."""

from __future__ import annotations

import json
import struct

from audio_fixtures import music, write
from conftest import run_cli


def wav_header(channels: int, rate: int, frames: int, bits: int = 8) -> bytes:
    block = channels * bits // 8
    data = frames * block
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits) + b"data" + struct.pack("<I", data))


def test_a_file_declaring_a_thousand_channels_is_a_clear_per_file_error(tmp_path, home):
    folder = tmp_path / "music"
    write(folder / "good.wav", music(2.0, seed=1))
    frames = 8000
    with open(folder / "wide.wav", "wb") as f:  # 1 s at 8 kHz, 1000 channels: 8 MB on disk, but a
        f.write(wav_header(1000, 8000, frames))  # 30-s decode block of it would be ~1 GB of floats
        f.write(bytes([128]) * (1000 * frames))
    r = run_cli("analyze", "--json", "--jobs", "1", str(folder), home=home)
    rows = {x["path"].rsplit("/", 1)[1]: x for x in map(json.loads, r.stdout.splitlines())}
    assert r.returncode == 1
    assert rows["good.wav"]["status"] == "ok"
    assert rows["wide.wav"]["status"] == "error" and "1000 channels" in rows["wide.wav"]["error"]
