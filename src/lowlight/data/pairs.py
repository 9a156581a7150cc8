"""Finding ``low/`` + ``high/`` image pairs and splitting them by scene."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from PIL import Image

from lowlight.errors import LowlightError
from lowlight.imageio.batch import is_dead_link

__all__ = ["ImagePair", "find_pairs", "split_by_scene", "resolve_link_file", "natural_key"]

# Unpaired or clashing names listed in an error message before "and N more".
MAX_LISTED = 20


@dataclass(frozen=True)
class ImagePair:
    """A low-light image and its normal-light target, named by their shared file stem."""

    name: str
    low: Path
    high: Path  # with link files already followed (see ``resolve_link_file``)

    @property
    def scene(self) -> str:
        """The target's real path: names that share one target are one scene."""
        return os.path.realpath(self.high)


# A symbolic link checked out without link support is a tiny text file holding the target.
_LINK_FILE_MAX_BYTES = 1024


def resolve_link_file(path: Path) -> Path:
    """Follow ``path`` if it is a symlink stored as a text file naming a sibling file.

    Some checkouts (git with ``core.symlinks=false``, archives, copies from other systems)
    turn a relative symbolic link into a small file whose content is the link target.
    Anything else is returned unchanged.
    """
    try:
        if path.stat().st_size > _LINK_FILE_MAX_BYTES:
            return path
        text = path.read_bytes().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return path
    if not text or "\n" in text or "\0" in text:
        return path
    target = path.parent / text
    return target if target.is_file() and target.resolve() != path.resolve() else path


def natural_key(name: str) -> list[Any]:
    """Sort "2" before "10": digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _images_by_stem(folder: Path) -> dict[str, Path]:
    """Image files of ``folder`` by stem (link files followed); hidden files are ignored."""
    extensions = Image.registered_extensions()
    by_stem: dict[str, list[Path]] = {}
    for path in folder.iterdir():
        if path.name.startswith(".") or path.suffix.lower() not in extensions:
            continue
        # is_file() follows symbolic links: a linked target is an ordinary image. A broken or
        # looping link is kept too, so that reading it reports the link, not a missing partner.
        if path.is_file() or is_dead_link(path):
            by_stem.setdefault(path.stem, []).append(path)
    clashes = [paths for paths in by_stem.values() if len(paths) > 1]
    if clashes:
        listed = "; ".join(
            ", ".join(sorted(p.name for p in paths)) for paths in clashes[:MAX_LISTED]
        )
        raise LowlightError(
            f"{folder} has several images with the same name: {listed}; keep one file per name"
        )
    return {stem: resolve_link_file(paths[0]) for stem, paths in by_stem.items()}


def _name_list(names: set[str]) -> str:
    ordered = sorted(names, key=natural_key)
    more = len(ordered) - MAX_LISTED
    return ", ".join(ordered[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def find_pairs(root: str | os.PathLike) -> list[ImagePair]:
    """Pair ``root/low/NAME.ext`` with ``root/high/NAME.ext`` by file name stem.

    Any extension Pillow reads is accepted (the two sides may differ); symbolic links, and
    links stored as text files, are followed. A broken or looping symbolic link is paired by
    its name like a file, so that reading it reports the link. Pairs come in natural name
    order.

    Raises:
        LowlightError: the folder or its ``low/``/``high/`` subfolders are missing, there are
            no images, two files of one folder share a stem, or some names have no partner
            (all such names are listed).
    """
    root = Path(root)
    if not root.is_dir():
        raise LowlightError(
            f"data folder not found: {root}; pass a folder holding low/ and high/ subfolders"
        )
    folders = {side: root / side for side in ("low", "high")}
    for side, folder in folders.items():
        if not folder.is_dir():
            raise LowlightError(
                f"{root} has no {side}/ folder; expected {root}/low and {root}/high "
                "holding images paired by file name"
            )
    low = _images_by_stem(folders["low"])
    high = _images_by_stem(folders["high"])
    if not low and not high:
        raise LowlightError(f"no images found in {folders['low']} or {folders['high']}")
    low_only, high_only = set(low) - set(high), set(high) - set(low)
    if low_only or high_only:
        parts = []
        if low_only:
            parts.append(f"in low/ only: {_name_list(low_only)}")
        if high_only:
            parts.append(f"in high/ only: {_name_list(high_only)}")
        raise LowlightError(
            f"unpaired images in {root} ({'; '.join(parts)}); every low/NAME needs a "
            "high/NAME with the same name"
        )
    return [ImagePair(name, low[name], high[name]) for name in sorted(low, key=natural_key)]


class SceneItem(Protocol):
    """What ``split_by_scene`` splits: an ``ImagePair``, or a ``Photo`` (its own scene)."""

    @property
    def name(self) -> str: ...

    @property
    def scene(self) -> str: ...


Item = TypeVar("Item", bound=SceneItem)


def split_by_scene(
    pairs: Sequence[Item], val_fraction: float, seed: int
) -> tuple[list[Item], list[Item]]:
    """Seeded train/validation split that keeps every scene on one side.

    Returns ``(train, val)``; ``val`` holds about ``val_fraction`` of the items and at least
    one scene when there are two or more.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise LowlightError(f"val_fraction must be in [0, 1), got {val_fraction}")
    scenes: dict[str, list[Item]] = {}
    for pair in pairs:
        scenes.setdefault(pair.scene, []).append(pair)
    order = sorted(scenes)
    random.Random(seed).shuffle(order)
    wanted = val_fraction * len(pairs)
    val: list[Item] = []
    for scene in order[:-1]:
        if len(val) >= wanted or (val_fraction == 0.0):
            break
        val.extend(scenes[scene])
    val_names = {pair.name for pair in val}
    train = [pair for pair in pairs if pair.name not in val_names]
    return train, sorted(val, key=lambda pair: natural_key(pair.name))
