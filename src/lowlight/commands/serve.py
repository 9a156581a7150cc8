"""``lowlight serve``: a local web page to enhance photos in a browser."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator

from lowlight.app.environment import offline_environment
from lowlight.commands.options import add_model_options, add_quality_options
from lowlight.devices import parse_device
from lowlight.errors import LowlightError
from lowlight.inference import check_working_size, choose_tile

__all__ = ["register", "run", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "lowlight[app]"'
"""How to install what ``lowlight serve`` needs, for its error message."""
# The packages of the app extra that the page imports.
_APP_PACKAGES = frozenset({"gradio", "gradio_client"})


# What ``lowlight serve --help`` says the command does.
_DESCRIPTION = (
    "Serve a web page where you drop photos, compare before and after, adjust exposure and "
    "strength and download the results at full resolution. It works offline, listens on this "
    "computer only unless --host says otherwise, and also answers the Gradio API endpoint "
    f"/enhance. Needs the app extra: {INSTALL_HINT}."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``lowlight serve`` (the web app) to the CLI's subparsers, handled by ``run``."""
    summary = "a web page to enhance photos in a browser"
    parser = subparsers.add_parser("serve", help=summary, description=_DESCRIPTION)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0: every "
        "network the computer is on)",
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    add_model_options(parser)
    add_quality_options(parser)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the app until Ctrl+C, then remove its uploads and results; exit status 0.

    Raises:
        LowlightError: a bad ``--port``, ``--tile`` or ``--device``, or the ``app`` extra is
            missing.
    """
    if not 0 < args.port < 65536:
        raise LowlightError(f"--port must be between 1 and 65535, got {args.port}")
    choose_tile(1, 1, args.tile)  # a bad --tile or working size fails before anything is loaded
    check_working_size(args.working_size)
    device = parse_device(args.device)
    # Gradio reads where to keep its files when it is imported: the folder comes first.
    with _interrupt_as_event() as stop, offline_environment():
        try:
            from lowlight.app.server import serve
        except ModuleNotFoundError as exc:
            package = (exc.name or "").split(".")[0]
            if package not in _APP_PACKAGES:
                raise
            raise LowlightError(
                f"the web app needs {package}, which is not installed: {INSTALL_HINT}"
            ) from exc
        rendering = {"quality": args.quality, "working_size": args.working_size}
        serve(stop, args.host, args.port, args.weights, device, args.tile, **rendering)
    print("lowlight serve: stopped; uploads and results removed")
    return 0


@contextlib.contextmanager
def _interrupt_as_event() -> Iterator[threading.Event]:
    """Ctrl+C sets the event the block yields instead of raising KeyboardInterrupt.

    Raised wherever the program happens to be (importing Gradio, starting its server), the
    exception can leave Gradio's threads running and the process with them; the event is
    looked at only where stopping is clean.
    """
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
