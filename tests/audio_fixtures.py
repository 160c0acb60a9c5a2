"""Audio the tests make for themselves: see musicrec_engine/synth.py (the product's generator).

Tests add their own helpers here; music() and write() keep their signatures."""

from musicrec_engine.synth import MAJOR, MINOR, SR, music, write  # noqa: F401
