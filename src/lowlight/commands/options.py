"""Command-line options that several commands share, defined once."""

from __future__ import annotations

import argparse

from lowlight.inference import DEFAULT_TILE

__all__ = ["add_model_options", "add_weights_option"]


def add_weights_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--weights FILE``: the safetensors file to load instead of the shipped model."""
    parser.add_argument(
        "--weights", metavar="FILE", help="safetensors weights file (default: the shipped model)"
    )


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--weights FILE`` and ``--tile N``, the model and how it meets large images."""
    add_weights_option(parser)
    parser.add_argument(
        "--tile",
        type=int,
        metavar="N",
        help=f"enhance in N x N tiles (0: never tile; default: {DEFAULT_TILE} for images over "
        "about 4 megapixels, else whole); smaller tiles use less memory",
    )
