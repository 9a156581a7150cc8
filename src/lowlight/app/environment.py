"""The process environment the app is served in: a private folder, Gradio's network off."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["offline_environment", "OFFLINE_ENVIRONMENT"]

OFFLINE_ENVIRONMENT = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}
"""Environment variables that keep Gradio and the Hugging Face hub library off the network."""


@contextlib.contextmanager
def offline_environment() -> Iterator[Path]:
    """A private folder for uploads and results, and Gradio's network features off.

    For the ``with`` block, ``GRADIO_TEMP_DIR`` (and Gradio's examples cache) point into a new
    folder that only this user can read, and the variables of ``OFFLINE_ENVIRONMENT`` are
    set; then the folder is removed and the environment restored. Gradio reads some of these
    when it is imported: enter the block before the first ``import gradio``.

    Examples:
        >>> with offline_environment() as folder:
        ...     os.environ["GRADIO_TEMP_DIR"] == str(folder), oct(folder.stat().st_mode & 0o777)
        (True, '0o700')
        >>> folder.exists()
        False
    """
    saved = {
        name: os.environ.get(name)
        for name in (*OFFLINE_ENVIRONMENT, "GRADIO_TEMP_DIR", "GRADIO_EXAMPLES_CACHE")
    }
    with tempfile.TemporaryDirectory(prefix="lowlight-serve-") as folder:
        os.environ.update(OFFLINE_ENVIRONMENT)
        os.environ["GRADIO_TEMP_DIR"] = folder
        os.environ["GRADIO_EXAMPLES_CACHE"] = os.path.join(folder, "examples")
        try:
            yield Path(folder)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
