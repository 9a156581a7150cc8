"""The page in a real browser (Chromium driven by Playwright): upload, a bad upload's message,
the exposure control, the download pixel for pixel against ``lowlight.enhance``, nothing
fetched from anywhere but the server, and a screenshot.

Chromium comes from Debian (``apt-get install -y chromium``), not from Playwright's own
downloads. Without it the test skips, unless ``LOWLIGHT_REQUIRE_BROWSER`` is set (CI sets
it), when it fails. ``LOWLIGHT_SCREENSHOT=docs/images/app.png`` serves the shipped model
instead of a fresh one and saves the screenshot there (the picture in docs/app.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

import lowlight

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "chelsea_dark.png"
CHROMIUM = Path(os.environ.get("LOWLIGHT_CHROMIUM", "/usr/bin/chromium"))
# Debian's Chromium, headless, with every feature that would reach the network off.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What the page reads as event streams (of results, of upload progress) and closes when done.
_EVENT_STREAMS = frozenset({"/gradio_api/queue/data", "/gradio_api/upload_progress"})
# How long any step may take before the test fails: a fresh model on one thread shows a
# result in under a second, but a shared machine under load can be a hundred times slower.
TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def sync_playwright():
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the playwright package")
    if not CHROMIUM.is_file():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if missing:
        reason = "the browser test needs " + " and ".join(missing)
        if os.environ.get("LOWLIGHT_REQUIRE_BROWSER"):
            pytest.fail(f"{reason}; LOWLIGHT_REQUIRE_BROWSER is set, so it may not skip")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def screenshot_model(weights_file: Path):
    """The shipped model for the app page's screenshot, else the fresh one (any model works)."""
    wanted = os.environ.get("LOWLIGHT_SCREENSHOT")
    return lowlight.load_model(None if wanted else weights_file), wanted


def test_upload_adjust_and_download_in_a_browser(
    sync_playwright, screenshot_model, serving, tmp_path
) -> None:
    from playwright.sync_api import expect

    model, screenshot = screenshot_model
    server = serving(model)
    requests: list[str] = []
    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 760}, accept_downloads=True)
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda request: requests.append(request.url))
            page.on("requestfailed", lambda request: _unless_closed_stream(request, failed))
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.goto(server.url)
            uploads, status = page.locator("#uploads"), page.locator("#status")

            broken = {"name": "broken.png", "mimeType": "image/png", "buffer": b"not a picture"}
            uploads.locator("input[type=file]").set_input_files(broken)
            expect(status).to_contain_text(
                "could not enhance broken.png: not an image file Pillow can read",
                timeout=TIMEOUT_MS,
            )
            expect(page.locator("#download")).to_be_disabled(timeout=TIMEOUT_MS)
            uploads.get_by_role("button", name="Clear").click()

            uploads.locator("input[type=file]").set_input_files(SAMPLE)
            expect(status).to_contain_text("chelsea_dark.png: 320 x 213", timeout=TIMEOUT_MS)
            expect(status).to_contain_text("exposure +0.0 stops", timeout=TIMEOUT_MS)
            exposure = page.locator("#exposure input[type=range]")
            exposure.focus()
            for _ in range(5):
                exposure.press("ArrowRight")  # +0.1 stop each
            expect(status).to_contain_text("exposure +0.5 stops", timeout=TIMEOUT_MS)

            with page.expect_download(timeout=TIMEOUT_MS) as download:
                page.locator("#download").click()
            downloaded = tmp_path / download.value.suggested_filename
            download.value.save_as(downloaded)
            page.mouse.move(0, 0)  # no hover highlight in the picture
            shot = Path(screenshot) if screenshot else tmp_path / "app.png"
            page.screenshot(path=str(shot))
            failures = list(failed)  # closing the browser breaks the open event streams
        finally:
            browser.close()

    assert downloaded.name == "chelsea_dark-enhanced.png"
    expected = lowlight.enhance(Image.open(SAMPLE), model=model, exposure=0.5)
    assert np.array_equal(np.asarray(Image.open(downloaded)), np.asarray(expected))
    assert Image.open(shot).size == (1200, 760)
    origin = urlsplit(server.url).netloc
    assert {urlsplit(url).netloc for url in requests if not url.startswith("data:")} == {origin}
    assert failures == []


def _unless_closed_stream(request, failed: list[str]) -> None:
    """Record a failed request, except the page closing an event stream it is done with."""
    path = urlsplit(request.url).path
    closed = request.failure == "net::ERR_ABORTED" and path in _EVENT_STREAMS
    if not closed:
        failed.append(f"{request.failure} {request.url}")
