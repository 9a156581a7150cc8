"""``lowlight evaluate`` and ``evaluate_folder`` on tiny synthetic pairs (and eval15 if present)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.cli import main
from lowlight.data import find_pairs
from lowlight.evaluation import evaluate_folder
from lowlight.metrics import psnr, ssim
from lowlight.models import UnifiedLowLightEnhancer

HEIGHT, WIDTH = 48, 64
RECORD_KEYS = {
    "name",
    "psnr",
    "ssim",
    "psnr_gt_mean",
    "ssim_gt_mean",
    "saturation",
    "color_flag",
    "seconds",
}
MEAN_KEYS = {"psnr", "ssim", "psnr_gt_mean", "ssim_gt_mean", "seconds"}


def write_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def pairs_dir(tmp_path: Path) -> Path:
    """data/{low,high}/ with pairs 2, 10 and 7; 7's target is a symlink to 2's."""
    rng = np.random.default_rng(0)
    data = tmp_path / "data"
    for name in ("2", "10"):
        high = rng.integers(40, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        write_png(data / "high" / f"{name}.png", high)
        write_png(data / "low" / f"{name}.png", (high // 12).astype(np.uint8))
    write_png(data / "low" / "7.png", rng.integers(0, 30, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    os.symlink("2.png", data / "high" / "7.png")
    return data


def as_batch(path: Path) -> torch.Tensor:
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0)


def test_model_run_writes_json(pairs_dir: Path, weights_file: Path, tmp_path: Path, capsys):
    json_path = tmp_path / "result.json"
    status = main(
        [
            "evaluate",
            "--data",
            str(pairs_dir),
            "--weights",
            str(weights_file),
            "--json",
            str(json_path),
        ]
    )
    assert status == 0
    result = json.loads(json_path.read_text())
    assert [r["name"] for r in result["images"]] == ["2", "7", "10"]  # natural order
    for record in result["images"]:
        assert set(record) == RECORD_KEYS
        assert record["color_flag"] in {"OK", "LOW_COLOR", "CRITICAL_COLOR"}
        assert record["seconds"] > 0 and 0.0 <= record["saturation"] <= 1.0
    assert set(result["mean"]) == MEAN_KEYS
    assert result["mean"]["psnr"] == pytest.approx(np.mean([r["psnr"] for r in result["images"]]))
    assert "11x11" in result["protocol"]["ssim"] and "GT-mean" in result["protocol"]["gt_mean"]
    assert result["errors"] == []
    assert result["model"] == str(weights_file)
    out = capsys.readouterr().out
    assert "GT-mean" in out and "time per image" in out
    assert not list(tmp_path.glob(".result.json*"))  # no temporary file left behind


def test_identity_scores_the_low_images(pairs_dir: Path, tmp_path: Path):
    json_path = tmp_path / "identity.json"
    assert main(["evaluate", "--data", str(pairs_dir), "--identity", "--json", str(json_path)]) == 0
    result = json.loads(json_path.read_text())
    assert result["model"] == "identity"
    for record in result["images"]:
        low = as_batch(pairs_dir / "low" / f"{record['name']}.png")
        high = as_batch(pairs_dir / "high" / f"{record['name']}.png")
        assert record["psnr"] == pytest.approx(float(psnr(low, high)[0]), abs=1e-4)
        assert record["ssim"] == pytest.approx(float(ssim(low, high)[0]), abs=1e-6)
        assert record["seconds"] == 0.0


def test_save_outputs(pairs_dir: Path, weights_file: Path, tmp_path: Path):
    out_dir = tmp_path / "outputs" / "run1"
    args = ["evaluate", "--data", str(pairs_dir), "--weights", str(weights_file)]
    assert main([*args, "--save-outputs", str(out_dir)]) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["10.png", "2.png", "7.png"]
    with Image.open(out_dir / "7.png") as image:
        assert image.size == (WIDTH, HEIGHT) and image.mode == "RGB"
    assert sorted(p.name for p in (pairs_dir / "low").iterdir()) == ["10.png", "2.png", "7.png"]


@pytest.mark.parametrize("inside", [".", "low", "high", "high/sub"])
def test_refuses_to_write_into_the_input(pairs_dir: Path, capsys, inside: str):
    target = pairs_dir / inside
    assert main(["evaluate", "--data", str(pairs_dir), "--identity", "--save-outputs", str(target)])
    err = capsys.readouterr().err
    assert "refusing to write outputs into the input data" in err
    assert not (pairs_dir / "high" / "sub").exists()


def test_missing_folder_exits_2(tmp_path: Path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["evaluate", "--data", str(missing), "--identity"]) == 2
    err = capsys.readouterr().err
    assert f"data folder not found: {missing}" in err and "Traceback" not in err


def test_missing_high_folder_exits_2(tmp_path: Path, capsys):
    write_png(tmp_path / "low" / "1.png", np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    assert main(["evaluate", "--data", str(tmp_path), "--identity"]) == 2
    assert "has no high/ folder" in capsys.readouterr().err


def test_empty_folders_exit_2(tmp_path: Path, capsys):
    (tmp_path / "low").mkdir()
    (tmp_path / "high").mkdir()
    (tmp_path / "low" / "notes.txt").write_text("not an image")
    assert main(["evaluate", "--data", str(tmp_path), "--identity"]) == 2
    assert "no images found" in capsys.readouterr().err


def test_unpaired_names_are_listed(pairs_dir: Path, capsys):
    pixels = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    write_png(pairs_dir / "low" / "orphan_a.png", pixels)
    write_png(pairs_dir / "low" / "orphan_b.jpg", pixels)
    write_png(pairs_dir / "high" / "lonely.png", pixels)
    assert main(["evaluate", "--data", str(pairs_dir), "--identity"]) == 2
    err = capsys.readouterr().err
    assert "in low/ only: orphan_a, orphan_b" in err and "in high/ only: lonely" in err


def test_duplicate_stems_are_an_error(pairs_dir: Path):
    write_png(pairs_dir / "low" / "2.jpg", np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    with pytest.raises(Exception, match=r"same name: 2.jpg, 2.png"):
        find_pairs(pairs_dir)


def test_bad_pairs_are_reported_and_the_rest_scored(pairs_dir: Path, tmp_path: Path, capsys):
    (pairs_dir / "low" / "broken.png").write_bytes(b"not a png")
    write_png(pairs_dir / "high" / "broken.png", np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    write_png(pairs_dir / "low" / "small.png", np.zeros((HEIGHT, WIDTH - 1, 3), np.uint8))
    write_png(pairs_dir / "high" / "small.png", np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    json_path = tmp_path / "result.json"
    status = main(["evaluate", "--data", str(pairs_dir), "--identity", "--json", str(json_path)])
    assert status == 1
    result = json.loads(json_path.read_text())
    assert [r["name"] for r in result["images"]] == ["2", "7", "10"]
    assert [e["name"] for e in result["errors"]] == ["broken", "small"]
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 2
    assert "low/broken.png" in err_lines[0]  # the reason is worded by read_rgb
    assert "small.png" in err_lines[1] and "63x48" in err_lines[1] and "64x48" in err_lines[1]


def test_mixed_extensions_pair_by_stem(tmp_path: Path):
    pixels = np.full((HEIGHT, WIDTH, 3), 100, np.uint8)
    write_png(tmp_path / "low" / "a.png", pixels)
    write_png(tmp_path / "high" / "a.bmp", pixels)
    result = evaluate_folder(None, tmp_path)
    assert [r["name"] for r in result["images"]] == ["a"]
    assert result["images"][0]["psnr"] == float("inf")  # identical, as scikit-image says


def test_evaluate_folder_restores_training_mode(pairs_dir: Path):
    model = UnifiedLowLightEnhancer().train()
    seen = []
    result = evaluate_folder(model, pairs_dir, on_image=lambda record: seen.append(record["name"]))
    assert model.training
    assert seen == ["2", "7", "10"] and len(result["images"]) == 3


def test_identity_and_weights_are_exclusive(weights_file: Path, pairs_dir: Path):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--data", str(pairs_dir), "--identity", "--weights", str(weights_file)])
    assert exit_info.value.code == 2


def test_unknown_device_exits_2(pairs_dir: Path, capsys):
    assert main(["evaluate", "--data", str(pairs_dir), "--identity", "--device", "gpu7"]) == 2
    assert "unknown device 'gpu7'" in capsys.readouterr().err


def test_identity_on_eval15(eval15_root: Path, tmp_path: Path):
    json_path = tmp_path / "eval15.json"
    assert (
        main(["evaluate", "--data", str(eval15_root), "--identity", "--json", str(json_path)]) == 0
    )
    result = json.loads(json_path.read_text())
    assert len(result["images"]) == 15
    assert result["mean"]["psnr"] == pytest.approx(7.77, abs=0.01)
    assert result["mean"]["ssim"] == pytest.approx(0.195, abs=0.002)
    assert result["mean"]["psnr_gt_mean"] == pytest.approx(18.78, abs=0.01)


def test_pair_smaller_than_the_ssim_window_is_one_error_line(pairs_dir: Path, capsys):
    tiny = np.full((8, 9, 3), 90, dtype=np.uint8)
    write_png(pairs_dir / "low" / "tiny.png", tiny // 10)
    write_png(pairs_dir / "high" / "tiny.png", tiny)
    status = main(["evaluate", "--data", str(pairs_dir), "--identity"])
    assert status == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if "tiny" in line]
    assert len(lines) == 1 and "smaller than the 11x11 SSIM window" in lines[0]
