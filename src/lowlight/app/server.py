"""Serving the page: offline, on this computer only by default, and nothing else readable.

``serve`` is what ``lowlight serve`` runs, inside ``lowlight.app.environment``'s
``offline_environment`` (a private folder for uploads and results, Gradio's analytics and
telemetry off). ``launch`` fixes the options that keep the server local: no share link, no
server-side rendering, no MCP server, no monitoring page, no run history, an upload size
limit, and no file served but the uploads and results.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from lowlight.app.page import build_app
from lowlight.errors import LowlightError
from lowlight.inference import WORKING_SIZE

if TYPE_CHECKING:
    import torch

__all__ = [
    "serve",
    "launch",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_UPLOAD_BYTES",
]

DEFAULT_HOST = "127.0.0.1"
"""Where ``lowlight serve`` listens unless ``--host`` says otherwise: this computer only."""
DEFAULT_PORT = 7860
"""The port ``lowlight serve`` listens on unless ``--port`` says otherwise."""
MAX_UPLOAD_BYTES = 200 * 2**20
"""Larger uploads are refused (a 24-megapixel 16-bit TIFF is about 150 MB)."""
_LAUNCH_OPTIONS = {
    "share": False,
    "ssr_mode": False,
    "mcp_server": False,
    "pwa": False,
    "enable_monitoring": False,
    "run_history": False,
    "footer_links": ["api"],
    "strict_cors": True,
    "show_error": True,
    "quiet": True,
}


def serve(
    stop: threading.Event,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    weights: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    tile: int | None = None,
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
) -> None:
    """Load the model, build the page and serve it until ``stop`` is set (by Ctrl+C).

    Call it inside ``offline_environment``, entered before Gradio was first imported, as
    ``lowlight serve`` does. ``stop`` set before the page is up means it is never served.

    Raises:
        LowlightError: the weights cannot be loaded or the port cannot be used.
    """
    from lowlight.weights import load_model

    model = load_model(weights, device=device)
    blocks = build_app(model, tile=tile, quality=quality, working_size=working_size)
    if stop.is_set():
        return
    shown_host = f"[{host}]" if ":" in host else host
    print(f"lowlight serve: open http://{shown_host}:{port} in a browser (Ctrl+C stops)")
    launch(blocks, host=host, port=port, block=False)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        blocks.close()


def launch(
    blocks: gr.Blocks,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_file_size: int = MAX_UPLOAD_BYTES,
    block: bool = True,
) -> str:
    """Serve ``blocks`` on ``host``:``port``; returns the page's address.

    Only Gradio's upload folder (uploads and results) is served; the working folder and the
    home folder are refused outright, even to the app's own functions.

    Args:
        blocks: the page (see ``build_app``).
        host: the address to listen on; ``0.0.0.0`` makes the page reachable from other
            computers.
        port: the port to listen on.
        max_file_size: larger uploads are refused (bytes).
        block: serve until interrupted; False returns at once, with the server running in a
            thread (stop it with ``blocks.close()``).

    Raises:
        LowlightError: the port cannot be used.
    """
    blocks.queue(default_concurrency_limit=1)
    try:
        _, url, _ = blocks.launch(
            server_name=host,
            server_port=port,
            max_file_size=max_file_size,
            allowed_paths=[],
            blocked_paths=_blocked_paths(),
            prevent_thread_lock=not block,
            **_LAUNCH_OPTIONS,
        )
    except OSError as exc:
        raise LowlightError(
            f"cannot serve on {host}:{port} ({exc}); choose another --port or --host"
        ) from exc
    return url


def _blocked_paths() -> list[str]:
    """The working and home folders, unless the upload folder is inside one of them."""
    uploads = Path(gr.utils.get_upload_folder()).resolve()
    folders = {Path.cwd().resolve(), Path.home().resolve()}
    return sorted(str(folder) for folder in folders if not uploads.is_relative_to(folder))
