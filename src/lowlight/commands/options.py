"""Command-line options that several commands share, defined once."""

from __future__ import annotations

import argparse

from lowlight.inference import (
    AUTO_FAST_RATIO,
    DEFAULT_TILE,
    QUALITIES,
    WORKING_SIZE,
    WORKING_SIZE_RANGE,
)
from lowlight.video.pipeline import VIDEO_WORKING_SIZE

__all__ = ["add_model_options", "add_quality_options", "add_weights_option", "working_size_of"]


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


def add_quality_options(parser: argparse.ArgumentParser, clips: bool = False) -> None:
    """Add ``--quality {auto,fast,full}`` and ``--working-size N``: how pictures are rendered.

    With ``clips`` the working size's default is left to ``working_size_of``, which gives
    video clips a smaller one than pictures."""
    threshold = round(AUTO_FAST_RATIO * WORKING_SIZE)
    parser.add_argument(
        "--quality",
        choices=QUALITIES,
        default="auto",
        help="full: every pixel goes through the network; fast: the network sees the picture "
        "reduced to the working size and its result is carried to full resolution along the "
        "picture's edges (a 12-megapixel photo in about a second); auto (the default): fast "
        f"for pictures longer than {AUTO_FAST_RATIO:g} working sizes ({threshold} pixels), "
        "full below",
    )
    low, high = WORKING_SIZE_RANGE
    default = f"default {WORKING_SIZE}: 768x512, 0.39 megapixels, for a 3:2 photo"
    if clips:
        default += f"; {VIDEO_WORKING_SIZE} for video clips, which are then fast over "
        default += f"{round(AUTO_FAST_RATIO * VIDEO_WORKING_SIZE)} pixels"
    parser.add_argument(
        "--working-size",
        type=int,
        default=None if clips else WORKING_SIZE,
        metavar="N",
        help=f"the longer side, in pixels, of the reduced picture the fast quality runs the "
        f"network on, and whose pass sets the tone of large pictures in either quality "
        f"({low} to {high}; {default})",
    )


def working_size_of(args: argparse.Namespace, clip: bool = False) -> int:
    """``--working-size`` as asked, else the default of pictures or (``clip``) of video clips."""
    if args.working_size is not None:
        return args.working_size
    return VIDEO_WORKING_SIZE if clip else WORKING_SIZE
