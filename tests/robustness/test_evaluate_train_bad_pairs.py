"""``lowlight evaluate`` and ``lowlight train`` with bad pairs among good ones: each bad pair
reported once (file and reason), the rest scored or trained on, inputs untouched."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowlight.cli import main
from lowlight.data import PairedCropDataset, PairedImageDataset, find_pairs
from lowlight.errors import LowlightError

HEIGHT, WIDTH = 40, 48
GOOD = ("1", "2", "3", "4")


def gradient(seed: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([x, y, 1.0 - x], axis=-1) * 180 + 40
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def write_good_pair(root: Path, name: str, seed: int, mode: str = "RGB") -> None:
    high = gradient(seed)
    low = (high.astype(np.float64) * 0.12).astype(np.uint8)
    for side, pixels in (("high", high), ("low", low)):
        (root / side).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).convert(mode).save(root / side / f"{name}.png")


def write_bad_pairs(root: Path, make_bomb) -> dict[str, tuple[str, str]]:
    """Bad pairs next to good ones: name -> (the bad file, relative to root; a reason fragment).

    ``locked`` is readable on disk: the tests deny reading it (they run as root)."""
    bad = {
        "empty": ("low/empty.png", "empty (0 bytes)"),
        "cut": ("high/cut.jpg", "cannot read image"),
        "notes": ("low/notes.png", "not an image file"),
        "bomb": ("high/bomb.png", "decompression bomb"),
        "size": ("low/size.png", "40x48"),
        "locked": ("low/locked.png", "permission denied"),
        "gone": ("low/gone.png", "broken symbolic link to deleted.png"),
        "loop": ("high/loop.png", "symbolic link loop"),
    }
    for name, (file, _) in bad.items():
        other = "high" if file.startswith("low/") else "low"
        Image.fromarray(gradient(99)).save(root / other / f"{name}.png")
        path = root / file
        if name == "gone":
            path.symlink_to("deleted.png")
        elif name == "loop":
            path.symlink_to(path.name)
        elif name == "empty":
            path.write_bytes(b"")
        elif name == "cut":
            Image.fromarray(gradient(98, 64, 64)).save(path, quality=95)
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        elif name == "notes":
            path.write_text("not a picture\n")
        elif name == "bomb":
            make_bomb(path)
        elif name == "size":
            Image.fromarray(gradient(97, WIDTH, HEIGHT)).save(path)  # 48 high, 40 wide
        else:
            Image.fromarray(gradient(96)).save(path)
    return bad


@pytest.fixture
def mixed_data(tmp_path: Path, deny_reading, fingerprint, make_bomb):
    """``data/`` with four good pairs (RGB, grey, palette, RGB) and eight bad ones."""
    root = tmp_path / "data"
    for index, name in enumerate(GOOD):
        write_good_pair(root, name, index, mode={"2": "L", "3": "P"}.get(name, "RGB"))
    bad = write_bad_pairs(root, make_bomb)
    before = fingerprint(root)
    deny_reading(root / bad["locked"][0])
    yield root, bad
    assert fingerprint(root) == before  # nothing in the data was touched


# ------------------------------------------------------------------------------ evaluate
def test_evaluate_reports_each_bad_pair_once_and_scores_the_rest(
    mixed_data, weights_file, tmp_path, capsys, files_below
) -> None:
    root, bad = mixed_data
    json_path, outputs = tmp_path / "result.json", tmp_path / "outputs"
    status = main(
        [
            "evaluate",
            "--data",
            str(root),
            "--weights",
            str(weights_file),
            "--json",
            str(json_path),
            "--save-outputs",
            str(outputs),
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err
    assert len(lines) == len(bad), lines
    for name, (file, reason) in bad.items():
        mentions = [
            line for line in lines if line.startswith(f"lowlight evaluate: skipped {name}:")
        ]
        assert len(mentions) == 1, (name, lines)
        assert str(root / file) in mentions[0] and reason in mentions[0], mentions[0]
    result = json.loads(json_path.read_text())
    assert [record["name"] for record in result["images"]] == list(GOOD)
    assert all(math.isfinite(record["psnr"]) for record in result["images"])
    assert sorted(error["name"] for error in result["errors"]) == sorted(bad)
    assert files_below(outputs) == {f"{name}.png" for name in GOOD}
    for name in GOOD:
        assert f"{name:<16}" in captured.out  # a table row for every scored pair


def test_evaluate_with_only_bad_pairs_exits_1_and_says_so(tmp_path, capsys) -> None:
    root = tmp_path / "data"
    (root / "low").mkdir(parents=True)
    (root / "high").mkdir()
    (root / "low" / "a.png").write_bytes(b"")
    Image.fromarray(gradient(0)).save(root / "high" / "a.png")
    assert main(["evaluate", "--data", str(root), "--identity"]) == 1
    captured = capsys.readouterr()
    assert "no pair could be scored" in captured.out
    assert captured.err.strip() == (
        f"lowlight evaluate: skipped a: {root / 'low' / 'a.png'}: the file is empty (0 bytes)"
    )


# --------------------------------------------------------------------------------- train
def train(data: Path, run: Path, config: Path, *extra: str) -> int:
    return main(
        [
            "train",
            "--data",
            str(data),
            "--out",
            str(run),
            "--config",
            str(config),
            "--stage-epochs",
            "1,0,0",
            "--image-size",
            "32",
            "--batch-size",
            "2",
            *extra,
        ]
    )


def skipped_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "lowlight.train" and record.levelno == logging.WARNING
    ]


def test_train_warns_once_per_bad_pair_and_trains_on_the_rest(
    mixed_data, tiny_config, tmp_path, caplog, read_metrics
) -> None:
    root, bad = mixed_data
    validation = tmp_path / "val"
    write_good_pair(validation, "1", 10)
    write_good_pair(validation, "2", 11)
    (validation / "low" / "0.png").write_text("not a picture")  # first: within max_val_images
    Image.fromarray(gradient(12)).save(validation / "high" / "0.png")
    run = tmp_path / "run"

    with caplog.at_level(logging.WARNING, logger="lowlight.train"):
        status = train(root, run, tiny_config, "--val-data", str(validation))

    assert status == 0
    warnings = skipped_warnings(caplog)
    assert len(warnings) == len(bad) + 1, warnings
    for name, (file, reason) in bad.items():
        mentions = [w for w in warnings if w.startswith(f"skipped pair {name}: ")]
        assert len(mentions) == 1, (name, warnings)
        assert str(root / file) in mentions[0] and reason in mentions[0], mentions[0]
    assert [w for w in warnings if w.startswith("skipped pair 0: ")] == [
        f"skipped pair 0: {validation / 'low' / '0.png'}: not an image file Pillow can read"
    ]
    rows = read_metrics(run)
    assert len(rows) == 1 and math.isfinite(float(rows[0]["val_psnr"]))
    assert (run / "best.safetensors").is_file() and (run / "last.pt").is_file()


def test_train_with_no_usable_pair_exits_2_naming_a_file(
    tmp_path, tiny_config, capsys, caplog
) -> None:
    root = tmp_path / "data"
    for name in ("a", "b"):
        write_good_pair(root, name, 0)
        (root / "low" / f"{name}.png").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="lowlight.train"):
        status = train(root, tmp_path / "run", tiny_config, "--val-data", str(root))
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(skipped_warnings(caplog)) == 2
    assert err[-1].startswith("lowlight train: error: none of the 2 image pairs can be used: ")
    assert str(root / "low" / "a.png") in err[-1] and "1 more" in err[-1]
    assert not (tmp_path / "run" / "last.pt").exists()


def test_datasets_list_what_they_skipped(tmp_path, caplog) -> None:
    write_good_pair(tmp_path, "good", 0)
    write_good_pair(tmp_path, "small", 1)
    Image.fromarray(gradient(2, 20, 20)).save(tmp_path / "low" / "small.png")
    pairs = find_pairs(tmp_path)
    with caplog.at_level(logging.WARNING, logger="lowlight.train"):
        crops = PairedCropDataset(pairs, 32, samples_per_epoch=3)
        whole = PairedImageDataset(pairs)
    for dataset in (crops, whole):
        assert [name for name, _ in dataset.skipped] == ["small"]
        reason = dataset.skipped[0][1]
        assert "low is 20x20, high is 48x40" in reason
        assert str(tmp_path / "low" / "small.png") in reason
    assert len(crops.images) == len(whole) == 1 and whole.names == ["good"]
    assert [crops[i][0].shape for i in range(len(crops))] == [(3, 32, 32)] * 3
    assert len(skipped_warnings(caplog)) == 2  # one per dataset


def test_an_empty_validation_list_is_allowed_but_all_bad_is_not(tmp_path) -> None:
    assert len(PairedImageDataset([])) == 0  # val_fraction 0: no validation at all
    write_good_pair(tmp_path, "x", 0)
    (tmp_path / "high" / "x.png").write_bytes(b"GIF89a")
    with pytest.raises(LowlightError, match=r"none of the 1 image pairs can be used: pair x: "):
        PairedImageDataset(find_pairs(tmp_path))
