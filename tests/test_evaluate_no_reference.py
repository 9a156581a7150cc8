"""``lowlight evaluate --no-reference`` and ``evaluate_folder(no_reference=True)`` on tiny
synthetic photos."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import lowlight
from lowlight import inference
from lowlight.cli import main
from lowlight.evaluation import NO_REFERENCE_METRICS, evaluate_folder
from lowlight.metrics import score_no_reference
from lowlight.weights import load_model

HEIGHT, WIDTH = 100, 130
RECORD_KEYS = {"name", *NO_REFERENCE_METRICS}


def write_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def dark_photo(seed: int) -> np.ndarray:
    """A dark, noisy, colourful gradient (uint8)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] / WIDTH
    base = np.stack([x, y, 1.0 - x], axis=-1) * 40 + 5
    return np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    """photos/ with 10.png, 2.png, night/1.png and flat.png (a uniform grey: no NIQE)."""
    root = tmp_path / "photos"
    write_png(root / "10.png", dark_photo(10))
    write_png(root / "2.png", dark_photo(2))
    write_png(root / "night" / "1.png", dark_photo(1))
    write_png(root / "flat.png", np.full((HEIGHT, WIDTH, 3), 30, np.uint8))
    return root


def as_batch(path: Path) -> torch.Tensor:
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0)


def strict_json(text: str) -> dict:
    """Parsed JSON that must hold no NaN or Infinity, which JSON does not have."""

    def refuse(constant: str) -> None:
        pytest.fail(f"{constant} written to JSON")

    return json.loads(text, parse_constant=refuse)


def evaluate(tmp_path: Path, *options: str) -> tuple[int, dict, str]:
    """Exit status, the JSON as parsed (strictly), and its text."""
    json_path = tmp_path / "scores.json"
    status = main(["evaluate", "--no-reference", *options, "--json", str(json_path)])
    text = json_path.read_text() if json_path.exists() else ""
    return status, strict_json(text) if text else {}, text


def test_the_json_has_the_shape_of_the_paired_evaluation(
    photos_dir: Path, weights_file: Path, tmp_path: Path, capsys
) -> None:
    status, result, _ = evaluate(
        tmp_path, "--data", str(photos_dir), "--weights", str(weights_file)
    )
    assert status == 0
    names = [record["name"] for record in result["images"]]
    assert names == ["2.png", "10.png", "flat.png", "night/1.png"]  # paths relative to DIR
    for record in result["images"]:
        assert set(record) == RECORD_KEYS
        assert record["seconds"] > 0
        assert 0.0 <= record["clipped"] <= 1.0 and 0.0 <= record["crushed"] <= 1.0
    assert set(result["mean"]) == set(NO_REFERENCE_METRICS)
    scored = [r["niqe"] for r in result["images"] if r["niqe"] is not None]
    assert len(scored) >= 3
    assert result["mean"]["niqe"] == pytest.approx(np.mean(scored))
    assert result["mean"]["mean_grey"] == pytest.approx(
        np.mean([r["mean_grey"] for r in result["images"]])
    )
    assert "NIQE" in result["protocol"]["niqe"] and "tiles" in result["protocol"]["inference"]
    assert result["errors"] == [] and result["model"] == str(weights_file)
    out = capsys.readouterr().out
    assert "mean over 4 photos: NIQE" in out and "time per photo" in out


def test_identity_scores_the_photos_themselves(photos_dir: Path, tmp_path: Path) -> None:
    status, result, _ = evaluate(tmp_path, "--data", str(photos_dir), "--identity")
    assert status == 0 and result["model"] == "identity"
    for record in result["images"]:
        expected = score_no_reference(as_batch(photos_dir / record["name"]))
        for key in ("mean_grey", "clipped", "crushed", "colourfulness"):
            assert record[key] == pytest.approx(getattr(expected, key), abs=1e-6), key
        if record["name"] != "flat.png":
            assert record["niqe"] == pytest.approx(expected.niqe, abs=1e-6)
        assert record["seconds"] == 0.0


def test_a_flat_photo_s_niqe_is_null_and_left_out_of_the_mean(
    photos_dir: Path, tmp_path: Path, capsys
) -> None:
    status, result, text = evaluate(tmp_path, "--data", str(photos_dir), "--identity")
    assert status == 0
    flat = next(record for record in result["images"] if record["name"] == "flat.png")
    assert flat["niqe"] is None and flat["crushed"] == 0.0
    others = [r["niqe"] for r in result["images"] if r["name"] != "flat.png"]
    assert all(value is not None and math.isfinite(value) for value in others)
    assert result["mean"]["niqe"] == pytest.approx(np.mean(others))
    assert '"niqe": null' in text
    row = next(line for line in capsys.readouterr().out.splitlines() if "flat.png" in line)
    assert row.split()[1] == "-"


def test_only_flat_photos_give_a_null_mean(tmp_path: Path) -> None:
    write_png(tmp_path / "photos" / "black.png", np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    status, result, text = evaluate(tmp_path, "--data", str(tmp_path / "photos"), "--identity")
    assert status == 0
    assert result["mean"]["niqe"] is None and result["mean"]["crushed"] == 1.0
    assert '"niqe": null' in text


def test_a_photo_too_small_for_niqe_is_reported_and_the_others_scored(
    photos_dir: Path, tmp_path: Path, capsys
) -> None:
    write_png(photos_dir / "tiny.png", dark_photo(3)[:60, :200])
    (photos_dir / "broken.png").write_bytes(b"not a png")
    status, result, _ = evaluate(tmp_path, "--data", str(photos_dir), "--identity")
    assert status == 1
    assert len(result["images"]) == 4
    errors = {error["name"]: error["message"] for error in result["errors"]}
    assert set(errors) == {"broken.png", "tiny.png"}
    assert "smaller than NIQE's 96x96 block" in errors["tiny.png"]
    assert "skipped tiny.png" in capsys.readouterr().err


def test_outputs_are_saved_as_lowlight_enhance_makes_them_tiled_or_not(
    photos_dir: Path, weights_file: Path, tmp_path: Path, monkeypatch
) -> None:
    # Small enough limits that every photo here is enhanced in tiles.
    monkeypatch.setattr(inference, "AUTO_TILE_PIXELS", 5000)
    monkeypatch.setattr(inference, "DEFAULT_TILE", 64)
    out = tmp_path / "outputs"
    model = load_model(weights_file)
    result = evaluate_folder(model, photos_dir, save_outputs=out, no_reference=True)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "10.png",
        "2.png",
        "flat.png",
        "night/1.png",
    ]
    pixels = np.asarray(Image.open(photos_dir / "night" / "1.png"))
    expected = lowlight.enhance(pixels, model=model)
    assert np.array_equal(np.asarray(Image.open(out / "night" / "1.png")), expected)
    record = next(r for r in result["images"] if r["name"] == "night/1.png")
    assert record["mean_grey"] == pytest.approx(
        score_no_reference(as_batch(out / "night" / "1.png")).mean_grey, abs=2e-3
    )


@pytest.mark.parametrize("inside", [".", "night", "new/sub"])
def test_refuses_to_write_outputs_into_the_photos(photos_dir: Path, capsys, inside: str) -> None:
    target = photos_dir / inside
    args = ["evaluate", "--no-reference", "--identity", "--data", str(photos_dir)]
    assert main([*args, "--save-outputs", str(target)]) == 2
    assert "refusing to write outputs into the input data" in capsys.readouterr().err
    assert not (photos_dir / "new").exists()


def test_outputs_that_would_share_a_name_are_refused(photos_dir: Path, tmp_path: Path) -> None:
    Image.fromarray(dark_photo(4)).save(photos_dir / "2.webp", lossless=True)
    args = ["evaluate", "--no-reference", "--identity", "--data", str(photos_dir)]
    assert main([*args, "--save-outputs", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_a_missing_or_empty_folder_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["evaluate", "--no-reference", "--identity", "--data", str(tmp_path / "x")]) == 2
    assert "photo folder not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--no-reference", "--data", str(tmp_path / "empty")]) == 2
    assert "no image files found" in capsys.readouterr().err
