"""NIQE: pyiqa's values on the shared photos, exact properties on other crops of the real dark
photos, and data-free properties."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.imageio import read_rgb
from lowlight.metrics import niqe
from lowlight.metrics.niqe import pristine_model
from lowlight.models.colour import luminance

niqe_module = importlib.import_module("lowlight.metrics.niqe")

# Issue 22 asks for 0.05; the references are rounded to 4 decimals and this implementation
# agrees to that rounding. 1e-3 still catches a window summing to exactly 1 (up to 0.012).
REFERENCE_TOLERANCE = 1e-3
# A half turn maps blocks onto blocks and leaves every feature unchanged.
HALF_TURN_TOLERANCE = 1e-4
PARAMS_FILE = "niqe_pris_params.npz"
REPO_ROOT = Path(__file__).resolve().parents[2]


def as_batch(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) float32 -> (1, 3, H, W)."""
    return torch.from_numpy(rgb).permute(2, 0, 1)[None]


def score(rgb: np.ndarray) -> float:
    return float(niqe(as_batch(rgb))[0])


def test_matches_pyiqa_reference_values(niqe_data: Path, shared_data: Path) -> None:
    references = json.loads((niqe_data / "reference-values.json").read_text())
    differences = {
        name: score(read_rgb(shared_data / name)) - expected
        for name, expected in references.items()
        if (shared_data / name).is_file()
    }
    if not differences:
        pytest.skip(f"none of the images named in {niqe_data} were found")
    table = "\n".join(f"{name}: {diff:+.4f}" for name, diff in differences.items())
    assert max(abs(diff) for diff in differences.values()) <= REFERENCE_TOLERANCE, table


def test_ships_the_published_parameters(niqe_data: Path) -> None:
    shipped = pristine_model()
    with np.load(niqe_data / PARAMS_FILE) as published:
        for name, array in zip(
            ("mu_pris_param", "cov_pris_param", "gaussian_window"), shipped, strict=True
        ):
            np.testing.assert_array_equal(array.numpy(), published[name].reshape(array.shape))


@pytest.fixture(scope="module")
def scored_photos(real_dark_photos: list[Path]) -> list[tuple[Path, np.ndarray, float]]:
    """The selected real dark photos with their NIQE."""
    return [(path, rgb, score(rgb)) for path in real_dark_photos for rgb in [read_rgb(path)]]


def whole_blocks(rgb: np.ndarray) -> np.ndarray:
    height, width = (size // 96 * 96 for size in rgb.shape[:2])
    return rgb[:height, :width]


def test_only_whole_blocks_count(scored_photos) -> None:
    for path, rgb, expected in scored_photos:
        assert score(whole_blocks(rgb)) == expected, path.name


def test_half_turn_keeps_the_score(scored_photos) -> None:
    for path, rgb, expected in scored_photos:
        turned = np.ascontiguousarray(whole_blocks(rgb)[::-1, ::-1])
        assert score(turned) == pytest.approx(expected, abs=HALF_TURN_TOLERANCE), path.name


@pytest.mark.parametrize("block_rows", [1, 2])
def test_strips_give_the_whole_picture_s_score(scored_photos, monkeypatch, block_rows) -> None:
    """Scored a few block rows at a time, every photo keeps its score to the last bit."""
    for path, rgb, expected in scored_photos:
        with monkeypatch.context() as patch:
            patch.setattr(niqe_module, "STRIP_BLOCK_ROWS", block_rows)
            assert score(rgb) == expected, path.name


def test_same_pixels_same_score_in_any_format(scored_photos, tmp_path: Path) -> None:
    path, rgb, expected = next(photo for photo in scored_photos if photo[0].suffix == ".jpg")
    pixels = np.round(rgb * 255.0).astype(np.uint8)
    copies = []
    for suffix, options in ((".png", {}), (".tif", {}), (".webp", {"lossless": True})):
        copies.append(tmp_path / f"{path.stem}{suffix}")
        Image.fromarray(pixels).save(copies[-1], **options)
    # NIQE sees only the rounded luma, so a greyscale file of it scores the same.
    grey = torch.round(luminance(as_batch(rgb)) * 255.0)[0, 0].numpy().astype(np.uint8)
    copies.append(tmp_path / f"{path.stem}-grey.png")
    Image.fromarray(grey, mode="L").save(copies[-1])
    for copy in copies:
        assert score(read_rgb(copy)) == expected, copy.name


def texture(seed: int, height: int = 192, width: int = 288) -> torch.Tensor:
    """A natural-looking picture: colour texture with a 1/f amplitude spectrum, (1, 3, H, W)."""
    rng = np.random.default_rng(seed)
    frequency = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    frequency[0, 0] = 1.0
    spectrum = (
        rng.normal(size=(height, width)) + 1j * rng.normal(size=(height, width))
    ) / frequency
    grey = np.real(np.fft.ifft2(spectrum))
    grey = 0.15 + 0.7 * (grey - grey.min()) / (grey.max() - grey.min())
    return torch.from_numpy(np.stack([grey, grey**1.2, grey**0.8])).float()[None]


def test_strong_noise_scores_worse() -> None:
    clean = texture(0)
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))
    scores = niqe(torch.cat([clean, (clean + 0.1 * noise).clamp(0.0, 1.0)]))
    assert float(scores[0]) < 8.0  # about 5.6
    assert float(scores[1]) > float(scores[0]) + 5.0  # about 15


def test_strips_of_a_tall_texture_score_as_the_whole(monkeypatch) -> None:
    image = texture(6, height=7 * 96 + 50, width=200)  # seven block rows: one strip by default
    whole = niqe(image)
    monkeypatch.setattr(niqe_module, "STRIP_BLOCK_ROWS", 2)
    assert torch.equal(niqe(image), whole)


def test_grey_input_scores_like_rgb() -> None:
    image = texture(2)
    grey = torch.round(luminance(image) * 255.0) / 255.0
    scores = niqe(torch.cat([image, grey.expand(-1, 3, -1, -1)]))
    assert float(niqe(grey)[0]) == float(scores[0]) == float(scores[1])


def test_batch_and_dtypes() -> None:
    images = torch.cat([texture(3), texture(4)])
    batch = niqe(images)
    assert batch.shape == (2,) and batch.dtype == torch.float32
    torch.testing.assert_close(batch, torch.cat([niqe(images[:1]), niqe(images[1:])]))
    double = niqe(images.double())
    assert double.dtype == torch.float64
    torch.testing.assert_close(double.float(), batch, atol=1e-4, rtol=0)


def test_flat_image_has_no_score_and_one_block_has_one() -> None:
    assert torch.isnan(niqe(torch.zeros(2, 3, 100, 100))).all()
    assert torch.isfinite(niqe(texture(5)[..., :96, :96])).all()


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        (np.zeros((1, 3, 96, 96)), TypeError, "must be a torch.Tensor, got ndarray"),
        (torch.zeros(1, 3, 96, 96, dtype=torch.uint8), TypeError, r"float tensor.*torch\.uint8"),
        (torch.zeros(1, 4, 96, 96), ValueError, r"\(B, 3, H, W\) or \(B, 1, H, W\), got \(1, 4"),
        (torch.zeros(3, 96, 96), ValueError, r"got \(3, 96, 96\)"),
        (
            torch.zeros(1, 3, 95, 200),
            ValueError,
            r"at least 96x96 pixels \(one block\), got 95x200",
        ),
        (torch.full((1, 1, 96, 96), float("nan")), ValueError, "NaN or infinite"),
    ],
)
def test_rejects_bad_input(image, error, match) -> None:
    with pytest.raises(error, match=match):
        niqe(image)


def test_parameters_ship_in_the_installed_package(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    shutil.copytree(
        REPO_ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, "--no-index", "-q", "-w", str(wheels), str(source)], check=True, timeout=120
    )
    (wheel,) = wheels.glob("lowlight-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert f"lowlight/metrics/data/{PARAMS_FILE}" in archive.namelist()
        archive.extractall(installed)
    check = (
        "import lowlight\n"
        "from lowlight.metrics.niqe import pristine_model\n"
        "pristine_model()\n"
        "print(lowlight.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(installed)
