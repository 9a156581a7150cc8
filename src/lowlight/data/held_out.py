"""Pictures that training leaves out, so that checks on them measure what a model learnt."""

from __future__ import annotations

__all__ = ["KODAK_HELD_OUT", "is_held_out"]

KODAK_HELD_OUT = ("kodim03", "kodim07", "kodim14", "kodim17", "kodim20", "kodim23")
"""Six of the Kodak suite's 24 well-exposed photos (file stems), never trained on: a model must
give them back nearly unchanged (``benchmarks/real_photos.py``). Chosen to span the suite:
saturated primaries (caps), a sunlit window and flowers, bright water with skin, a statue in
shade, a plane against a pale sky, saturated feathers."""


def is_held_out(stem: str) -> bool:
    """True when a photo with this file stem is one that training leaves out."""
    return stem in KODAK_HELD_OUT
