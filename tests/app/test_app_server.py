"""The server: /enhance through gradio_client, nothing readable but its own files, upload
limit, local address, nothing fetched from or sent to the internet."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lowlight
from lowlight.imageio import ImageData, read_image, write_image

httpx = pytest.importorskip("httpx")
gradio_client = pytest.importorskip("gradio_client")
pytest.importorskip("gradio")

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "samples"
# An address in an attribute or CSS function that makes a browser fetch it.
_LOADED_URL = re.compile(
    r"""(?:\b(?:src|href|srcset|poster|data)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)"""
    r"""\s*(?:https?:)?//(?!127\.0\.0\.1[:/]|localhost[:/])""",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def http():
    """An HTTP client with generous timeouts: under load an enhancement can take a while."""
    with httpx.Client(timeout=120) as client:
        yield client


def _call_enhance(server, path: Path, tmp_path: Path, **controls: float) -> Path:
    client = gradio_client.Client(server.url, verbose=False, download_files=str(tmp_path))
    result = client.predict(
        gradio_client.handle_file(str(path)),
        controls.get("exposure", 0.0),
        controls.get("strength", 1.0),
        api_name="/enhance",
    )
    return Path(result["path"] if isinstance(result, dict) else result)


@pytest.mark.parametrize(
    ("sample", "controls"),
    [("astronaut_dark.png", {}), ("coffee_dark.png", {"exposure": -0.8, "strength": 0.7})],
)
def test_enhance_endpoint_equals_lowlight_enhance(server, tmp_path, sample, controls) -> None:
    result = _call_enhance(server, SAMPLES / sample, tmp_path, **controls)
    expected = lowlight.enhance(Image.open(SAMPLES / sample), model=server.model, **controls)
    got = np.asarray(Image.open(result)).astype(int)
    assert got.shape == np.asarray(expected).shape
    assert np.abs(got - np.asarray(expected)).max() <= 1  # within 1/255
    assert result.name == sample.replace("_dark.png", "_dark-enhanced.png")


def test_enhance_endpoint_keeps_sixteen_bits(server, tmp_path) -> None:
    samples = np.random.default_rng(1).integers(0, 6000, (30, 44, 3), dtype=np.uint16)
    source = tmp_path / "deep.png"
    write_image(source, ImageData(rgb=samples / np.float32(65535), bit_depth=16))
    result = read_image(_call_enhance(server, source, tmp_path / "out", exposure=0.5))
    expected = lowlight.enhance(samples, model=server.model, exposure=0.5)
    assert result.bit_depth == 16
    assert np.abs(result.rgb - expected / 65535).max() <= 1 / 255


def test_enhance_endpoint_says_what_is_wrong_with_a_bad_image(server, tmp_path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but nothing else")
    with pytest.raises(gradio_client.exceptions.AppError, match="broken.png: "):
        _call_enhance(server, broken, tmp_path)


SECRET_FILES = [Path("/etc/passwd"), REPO_ROOT / "README.md", REPO_ROOT / "pyproject.toml"]


@pytest.mark.parametrize("target", SECRET_FILES, ids=lambda path: path.name)
def test_no_file_outside_the_upload_area_can_be_read(server, http, target: Path) -> None:
    content = target.read_bytes()[:40]
    relative = "/".join([".."] * 8) + str(target)
    for route in (
        f"/gradio_api/file={target}",
        f"/gradio_api/file/{target}",
        f"/file={target}",
        f"/gradio_api/file={server.area}/{relative}",
        f"/gradio_api/file={server.area}/%2e%2e/%2e%2e/%2e%2e/%2e%2e{target}",
        f"/static/{relative}",
        f"/assets/{relative}",
    ):
        response = http.get(server.url + route)
        assert response.status_code >= 400 or content not in response.content, route


@pytest.mark.parametrize("target", SECRET_FILES, ids=lambda path: path.name)
def test_the_api_takes_only_files_uploaded_to_it(server, http, target: Path) -> None:
    payload = {"path": str(target), "meta": {"_type": "gradio.FileData"}}
    call = http.post(f"{server.url}/gradio_api/call/enhance", json={"data": [payload, 0, 1]})
    outcome = http.get(f"{server.url}/gradio_api/call/enhance/{call.json()['event_id']}")
    assert outcome.text.startswith("event: error")
    assert not list(server.area.rglob(target.name))


def test_uploads_above_the_limit_are_refused(server, http) -> None:
    upload = http.post(
        f"{server.url}/gradio_api/upload",
        files={"files": ("large.png", b"\0" * (server.upload_limit + 1))},
    )
    assert upload.status_code == 413
    small = http.post(f"{server.url}/gradio_api/upload", files={"files": ("small.png", b"\0")})
    assert small.status_code == 200


def test_it_listens_on_this_computer_only_by_default(server) -> None:
    from lowlight.cli import build_parser

    assert server.url.startswith("http://127.0.0.1:")
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


def test_the_page_and_its_styles_load_nothing_from_the_internet(server, http) -> None:
    page = http.get(server.url + "/").text
    styles = re.findall(r"""<link[^>]+href=["']([^"']+\.css)["']""", page)
    config = http.get(f"{server.url}/config").json()
    styles += [server.url + "/theme.css", *config["stylesheets"]]
    assert len(styles) >= 2
    for address in styles:
        response = http.get(httpx.URL(server.url + "/").join(address))
        assert response.status_code == 200, address
        assert not _LOADED_URL.search(response.text), address
    assert not _LOADED_URL.search(page)
    assert config["analytics_enabled"] is False


def test_serving_and_enhancing_connect_to_nothing_off_this_computer(
    model, monkeypatch, tmp_path, free_port
) -> None:
    from lowlight.app.environment import offline_environment
    from lowlight.app.page import build_app
    from lowlight.app.server import launch

    attempts: list[object] = []
    connect = socket.socket.connect

    def local_only(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else ""
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1"):
            attempts.append(address)
            raise OSError("this test allows no connection off this computer")
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    with offline_environment():
        blocks = build_app(model)
        url = launch(blocks, port=free_port(), block=False)
        try:
            client = gradio_client.Client(url, verbose=False, download_files=str(tmp_path))
            client.predict(
                gradio_client.handle_file(str(SAMPLES / "camera_dark.png")), api_name="/enhance"
            )
        finally:
            blocks.close()
    assert attempts == []
