"""Command-line options that several subcommands share, defined once."""

from __future__ import annotations

import argparse

__all__ = ["add_weights_option"]


def add_weights_option(parser: argparse.ArgumentParser) -> None:
    """``--weights FILE``: the safetensors file to load instead of the shipped model."""
    parser.add_argument(
        "--weights", metavar="FILE", help="safetensors weights file (default: the shipped model)"
    )
