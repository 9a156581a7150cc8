"""Finding low/ + high/ pairs (errors, link files, natural order) and the scene-wise split."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowlight.data import find_pairs, split_by_scene
from lowlight.data.pairs import MAX_LISTED, resolve_link_file
from lowlight.errors import LowlightError


def write_image(path: Path, value: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 10, 3), value, dtype=np.uint8)).save(path)
    return path


def write_dataset(root: Path, names: list[str], links: dict[str, str] | None = None) -> Path:
    """``root/low/NAME.png`` and ``root/high/NAME.png``; ``links`` maps a name to the name whose
    target its ``high/`` entry links to (a real symbolic link)."""
    links = links or {}
    for index, name in enumerate(names):
        write_image(root / "low" / f"{name}.png", index)
        if name in links:
            (root / "high").mkdir(parents=True, exist_ok=True)
            os.symlink(f"{links[name]}.png", root / "high" / f"{name}.png")
        else:
            write_image(root / "high" / f"{name}.png", 100 + index)
    return root


# ------------------------------------------------------------------------------ errors
def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(LowlightError, match="data folder not found") as caught:
        find_pairs(missing)
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize("side", ["low", "high"])
def test_missing_side(tmp_path: Path, side: str) -> None:
    other = "high" if side == "low" else "low"
    write_image(tmp_path / other / "1.png")
    with pytest.raises(LowlightError, match=f"no {side}/ folder"):
        find_pairs(tmp_path)


def test_no_images(tmp_path: Path) -> None:
    (tmp_path / "low").mkdir()
    (tmp_path / "high").mkdir()
    (tmp_path / "low" / "notes.txt").write_text("not an image")
    with pytest.raises(LowlightError, match="no images found"):
        find_pairs(tmp_path)


def test_unpaired_names_are_listed(tmp_path: Path) -> None:
    write_dataset(tmp_path, ["1", "2"])
    write_image(tmp_path / "low" / "only-low.png")
    write_image(tmp_path / "low" / "also-low.png")
    write_image(tmp_path / "high" / "only-high.png")
    with pytest.raises(LowlightError, match="unpaired") as caught:
        find_pairs(tmp_path)
    message = str(caught.value)
    assert "in low/ only: also-low, only-low" in message
    assert "in high/ only: only-high" in message


def test_long_unpaired_lists_are_cut(tmp_path: Path) -> None:
    write_dataset(tmp_path, ["a"])
    for index in range(MAX_LISTED + 5):
        write_image(tmp_path / "low" / f"x{index}.png")
    with pytest.raises(LowlightError, match="and 5 more"):
        find_pairs(tmp_path)


def test_two_files_with_one_name(tmp_path: Path) -> None:
    write_dataset(tmp_path, ["1"])
    write_image(tmp_path / "low" / "1.jpg")
    with pytest.raises(LowlightError, match="same name: 1.jpg, 1.png"):
        find_pairs(tmp_path)


# --------------------------------------------------------------------------- discovery
def test_pairs_in_natural_order_ignoring_other_files(tmp_path: Path) -> None:
    write_dataset(tmp_path, ["10", "2", "1", "b"])
    write_image(tmp_path / "low" / ".hidden.png")
    (tmp_path / "high" / "readme.txt").write_text("hello")
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["1", "2", "10", "b"]
    assert all(p.low == tmp_path / "low" / f"{p.name}.png" for p in pairs)


def test_extensions_may_differ(tmp_path: Path) -> None:
    write_image(tmp_path / "low" / "1.png")
    write_image(tmp_path / "high" / "1.jpg")
    (pair,) = find_pairs(tmp_path)
    assert pair.high.name == "1.jpg"


def test_real_symlinks_share_a_scene(tmp_path: Path) -> None:
    write_dataset(tmp_path, ["1", "2", "3"], links={"3": "1"})
    pairs = {p.name: p for p in find_pairs(tmp_path)}
    assert pairs["3"].scene == pairs["1"].scene != pairs["2"].scene


@pytest.mark.parametrize("content", ["1.png", "1.png\n"])
def test_link_files_are_followed(tmp_path: Path, content: str) -> None:
    write_dataset(tmp_path, ["1", "2"])
    write_image(tmp_path / "low" / "3.png")
    (tmp_path / "high" / "3.png").write_text(content)  # a symlink checked out as text
    pairs = {p.name: p for p in find_pairs(tmp_path)}
    assert pairs["3"].high == tmp_path / "high" / "1.png"
    assert pairs["3"].scene == pairs["1"].scene
    assert pairs["3"].low == tmp_path / "low" / "3.png"


def test_broken_and_looping_links_are_paired_by_name(tmp_path: Path) -> None:
    # Dropped, they would make their partners look unpaired; kept, reading them says why.
    write_dataset(tmp_path, ["1", "2", "3"])
    (tmp_path / "low" / "2.png").unlink()
    (tmp_path / "low" / "2.png").symlink_to("deleted.png")
    (tmp_path / "high" / "3.png").unlink()
    (tmp_path / "high" / "3.png").symlink_to("3.png")
    (tmp_path / "low" / "folder.png").mkdir()  # a folder named like an image is no image
    pairs = {p.name: p for p in find_pairs(tmp_path)}
    assert sorted(pairs) == ["1", "2", "3"]
    assert pairs["2"].low == tmp_path / "low" / "2.png"
    assert pairs["3"].high == tmp_path / "high" / "3.png"


def test_link_files_that_name_nothing_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_text("missing.png")
    assert resolve_link_file(tmp_path / "a.png") == tmp_path / "a.png"
    (tmp_path / "b.png").write_text("b.png")  # itself
    assert resolve_link_file(tmp_path / "b.png") == tmp_path / "b.png"
    image = write_image(tmp_path / "c.png")
    assert resolve_link_file(image) == image


# ------------------------------------------------------------------------------- split
NAMES = [str(i) for i in range(1, 13)]
# 12 names in 7 scenes: 7, 8, 9 share 1's target, 10 shares 2's, 11 and 12 share 3's.
LINKS = {"7": "1", "8": "1", "9": "1", "10": "2", "11": "3", "12": "3"}


@pytest.fixture
def scenes(tmp_path: Path) -> list:
    return find_pairs(write_dataset(tmp_path, NAMES, LINKS))


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.8])
def test_split_keeps_scenes_together(scenes: list, fraction: float) -> None:
    for seed in range(12):
        train, val = split_by_scene(scenes, fraction, seed)
        assert val and train
        assert sorted(p.name for p in train + val) == sorted(NAMES)
        train_scenes, val_scenes = {p.scene for p in train}, {p.scene for p in val}
        assert not train_scenes & val_scenes
        assert len(val) >= fraction * len(scenes) or len(train_scenes) == 1


def test_split_is_seeded(scenes: list) -> None:
    def names(seed: int) -> tuple:
        train, val = split_by_scene(scenes, 0.3, seed)
        return tuple(p.name for p in train), tuple(p.name for p in val)

    assert names(5) == names(5)
    assert len({names(seed) for seed in range(10)}) > 1


def test_split_with_no_validation(scenes: list) -> None:
    train, val = split_by_scene(scenes, 0.0, 0)
    assert val == [] and train == scenes


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 2.0])
def test_split_fraction_out_of_range(scenes: list, fraction: float) -> None:
    with pytest.raises(LowlightError, match="val_fraction"):
        split_by_scene(scenes, fraction, 0)
