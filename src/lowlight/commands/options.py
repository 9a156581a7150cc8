"""Command-line options that several commands share."""

from __future__ import annotations

import argparse

from lowlight.inference import DEFAULT_TILE

__all__ = ["add_model_options"]


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--weights FILE`` and ``--tile N``, the model and how it meets large images."""
    parser.add_argument(
        "--weights", metavar="FILE", help="safetensors weights file (default: the shipped model)"
    )
    parser.add_argument(
        "--tile",
        type=int,
        metavar="N",
        help=f"enhance in N x N tiles (0: never tile; default: {DEFAULT_TILE} for images over "
        "about 4 megapixels, else whole); smaller tiles use less memory",
    )
