"""The page's function: Gradio's progress bar fed from the tiles, one results folder per
session, a cleared upload clears the page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")

from lowlight.app import page  # noqa: E402 (after the skip when Gradio is missing)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


class RecordingProgress:
    """Stands in for ``gr.Progress``: records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, int], str]] = []

    def __call__(self, progress: tuple[int, int], desc: str = "", unit: str = "") -> None:
        self.calls.append((progress, desc))


def _uploads(tmp_path: Path, *names: str) -> list[str]:
    paths = []
    for index, name in enumerate(names):
        target = tmp_path / "uploads" / str(index) / name
        target.parent.mkdir(parents=True)
        shutil.copyfile(SAMPLES / name, target)
        paths.append(str(target))
    return paths


def test_a_tiled_photo_moves_the_progress_bar_tile_by_tile(model, tmp_path) -> None:
    handler = page.enhance_handler(model, tmp_path / "results", tile=128)
    progress = RecordingProgress()
    handler(_uploads(tmp_path, "rocket_dark.png"), 0.0, 1.0, None, progress=progress)
    # 320 x 214 in 128-pixel tiles: 3 x 2 tiles and the tone pass.
    assert progress.calls == [((done, 7), "rocket_dark.png (1 of 1)") for done in range(1, 8)]


def test_each_run_replaces_the_sessions_previous_results(model, tmp_path) -> None:
    handler = page.enhance_handler(model, tmp_path / "results", tile=None)
    uploads = _uploads(tmp_path, "chelsea_dark.png", "coffee_dark.png")
    progress = RecordingProgress()
    comparison, choice, pairs, folder, status, download = handler(
        uploads, 0.0, 1.0, None, progress=progress
    )
    assert [desc for _, desc in progress.calls] == [
        "chelsea_dark.png (1 of 2)",
        "coffee_dark.png (2 of 2)",
    ]
    assert len(pairs) == 2 and comparison is pairs[0]
    assert comparison[0].shape == (213, 320, 3) and comparison[1].dtype == np.uint8
    assert choice["choices"] == [("chelsea_dark.png", 0), ("coffee_dark.png", 1)]
    assert choice["visible"] is True
    assert Path(download["value"]).name == "lowlight-enhanced.zip"
    assert "**chelsea\\_dark.png**: 320 x 213" in status and status.count(", full\n") == 2
    again = handler(uploads[:1], 1.0, 1.0, folder, progress=progress)
    assert not Path(folder).exists()
    assert Path(again[5]["value"]).name == "chelsea_dark-enhanced.png"
    assert again[1]["visible"] is False
    cleared = handler(None, 1.0, 1.0, again[3], progress=progress)
    assert not Path(again[3]).exists()
    assert cleared[0] is None and cleared[4] == ""
    assert cleared[5]["interactive"] is False


def test_the_status_says_which_photos_were_rendered_fast(model, tmp_path) -> None:
    handler = page.enhance_handler(model, tmp_path / "results", None, "auto", working_size=128)
    uploads = _uploads(tmp_path, "rocket_dark.png")  # 320 pixels long: over 1.5 x 128
    status = handler(uploads, 0.0, 1.0, None, progress=RecordingProgress())[4]
    assert re.search(r"\*\*rocket\\_dark\.png\*\*: 320 x 214, [0-9.]+ s, fast", status), status
