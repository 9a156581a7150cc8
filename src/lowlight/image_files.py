"""Enhancing one image file into another, as ``lowlight enhance`` does for every picture.

The command's own loop and the workers of ``lowlight.cluster`` both call these, so a picture
comes out byte for byte the same whichever runs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from lowlight.errors import LowlightError
from lowlight.imageio import ImageData, output_format, read_image, write_image
from lowlight.inference import enhance
from lowlight.runners import Runner

__all__ = [
    "Controls",
    "enhance_image_data",
    "enhance_image_file",
    "make_parent",
    "output_extension",
    "prepare_output_folder",
    "writable_format",
]


@dataclass(frozen=True)
class Controls:
    """How every picture of a batch is enhanced.

    Attributes:
        tile: see ``lowlight.inference.choose_tile`` (None: automatic, 0: never).
        exposure: stops relative to the model's own exposure.
        strength: from 0 (the input unchanged) to 1 (the full enhancement).
        progress: show a bar over the tiles of a tiled picture (on a terminal).
    """

    tile: int | None = None
    exposure: float = 0.0
    strength: float = 1.0
    progress: bool = False


def writable_format(target: str | os.PathLike) -> str:
    """The Pillow format ``target`` is written in, by its extension.

    Raises:
        LowlightError: no format can be written under that extension; the message says to
            pass ``--format``.
    """
    try:
        return output_format(target)
    except LowlightError as exc:
        raise LowlightError(f"{exc} (pass --format)") from exc


def output_extension(format_name: str | None) -> str | None:
    """The extension ``--format`` names (``"png"`` -> ``".png"``), or None to keep each input's.

    Raises:
        LowlightError: no file of that format can be written.

    Example:
        >>> output_extension("PNG"), output_extension(None)
        ('.png', None)
    """
    if format_name is None:
        return None
    extension = "." + format_name.lower().lstrip(".")
    output_format(f"x{extension}")  # raises LowlightError for a format that cannot be written
    return extension


def enhance_image_data(image: ImageData, runner: Runner, controls: Controls) -> ImageData:
    """``image`` enhanced with ``runner``, keeping what writing it like its source needs."""
    enhanced = enhance(
        image.rgb,
        model=runner,
        tile=controls.tile,
        progress=controls.progress,
        exposure=controls.exposure,
        strength=controls.strength,
    )
    return replace(image, rgb=enhanced)


def enhance_image_file(source: Path, target: Path, runner: Runner, controls: Controls) -> None:
    """Read ``source``, enhance it and write the result to ``target`` atomically.

    The target's format is checked before any work, and its folder made if need be.

    Raises:
        LowlightError: the source cannot be read or the target cannot be written; the
            message names the file.
    """
    writable_format(target)
    enhanced = enhance_image_data(read_image(source), runner, controls)
    make_parent(target)
    write_image(target, enhanced)


def make_parent(target: Path) -> None:
    """Create the folder ``target`` is written into (and its parents)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LowlightError(f"cannot create folder {target.parent}: {exc}") from exc


def prepare_output_folder(folder: Path) -> None:
    """Create the output folder if need be and check that results can be written into it.

    Raises:
        LowlightError: it is a file, cannot be created or is not writable.
    """
    if folder.exists() and not folder.is_dir():
        raise LowlightError(f"output {folder} exists and is not a folder; choose another -o")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LowlightError(f"cannot create output folder {folder}: {exc.strerror or exc}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LowlightError(f"output folder {folder} is not writable; choose another -o")
