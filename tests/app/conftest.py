"""The app's fixtures: the fresh model, and running servers."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import lowlight
from lowlight.models import UnifiedLowLightEnhancer

# The shared server's upload limit: above every sample (at most 161 KiB), far below the
# default, so the limit can be tried with a small file.
TEST_UPLOAD_LIMIT = 512 * 1024


@dataclass(frozen=True)
class Server:
    """A running app: its address, its upload folder, the model it enhances with and its
    upload limit in bytes."""

    url: str
    area: Path
    model: UnifiedLowLightEnhancer
    upload_limit: int


@pytest.fixture(scope="module")
def model(weights_file: Path) -> UnifiedLowLightEnhancer:
    return lowlight.load_model(weights_file)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture():
    """``free_port()``: a TCP port on 127.0.0.1 that nothing listens on now."""
    return _free_port


@contextlib.contextmanager
def _serve(model: UnifiedLowLightEnhancer, upload_limit: int) -> Iterator[Server]:
    """The page served in a thread of this process, on a free port, as ``lowlight serve``
    serves it (upload limit aside)."""
    pytest.importorskip("gradio")
    from lowlight.app.environment import offline_environment
    from lowlight.app.page import build_app
    from lowlight.app.server import launch

    with offline_environment() as area:
        blocks = build_app(model)
        url = launch(blocks, port=_free_port(), max_file_size=upload_limit, block=False)
        try:
            yield Server(url.rstrip("/"), area, model, upload_limit)
        finally:
            blocks.close()


@pytest.fixture(scope="module")
def server(model: UnifiedLowLightEnhancer) -> Iterator[Server]:
    """A server of the fresh model, shared by a test module."""
    with _serve(model, TEST_UPLOAD_LIMIT) as running:
        yield running


@pytest.fixture
def serving() -> Iterator:
    """``serving(model)``: a server of ``model`` for this test alone."""
    with contextlib.ExitStack() as stack:
        yield lambda model: stack.enter_context(_serve(model, TEST_UPLOAD_LIMIT))
