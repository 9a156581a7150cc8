"""Command-line entry point: ``lowlight <command> ...``.

Each subcommand lives in ``lowlight.commands.<name>`` and exposes ``register(subparsers)``,
which adds its parser and sets ``handler`` (a function of the parsed namespace returning an
exit status).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from lowlight import __version__
from lowlight.errors import LowlightError

__all__ = ["main", "build_parser"]

COMMANDS = ("enhance", "evaluate", "export", "train", "serve")
OPENMP_SPIN_COUNT = "10000"
"""How long PyTorch's OpenMP threads spin before they sleep while they wait for work
(``GOMP_SPINCOUNT``; the environment's own value wins). By default they spin for about 300000
rounds, which takes the CPU from the thread doing the work when another process shares the
cores: with one busy process beside it on 2 cores, a 48-frame 1280x720 clip took 73 to 104 s
through ``lowlight enhance`` rather than 9, and 20 s with this count; on an idle machine it
costs nothing measurable (8.8 s either way, a 12-megapixel photo 7.4 s against 7.5).
``OMP_WAIT_POLICY=PASSIVE`` (no spinning) took 12 s on both."""


def build_parser() -> argparse.ArgumentParser:
    """The ``lowlight`` parser, with a subparser for each of ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="lowlight",
        description="Enhance dark, noisy photographs; train and evaluate enhancement models.",
    )
    parser.add_argument("--version", action="version", version=f"lowlight {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"lowlight.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (2 for user errors)."""
    # Read once, when PyTorch loads its OpenMP runtime: the subcommands import it.
    os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except LowlightError as exc:
        print(f"lowlight {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lowlight {args.command}: interrupted", file=sys.stderr)
        return 130
