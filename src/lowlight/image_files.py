"""Enhancing one image file into another, as ``lowlight enhance`` does for every picture.

The command's own loop and the workers of ``lowlight.cluster`` both call these, so a picture
comes out byte for byte the same whichever runs it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from lowlight.errors import LowlightError
from lowlight.imageio import ImageData, output_format, read_image, write_image
from lowlight.inference import enhance
from lowlight.runners import Runner

__all__ = [
    "Controls",
    "check_output_folder",
    "enhance_image_data",
    "enhance_image_file",
    "folders_for",
    "output_extension",
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

    The source is read first (a file that cannot be read says so, whatever the target), then
    the target's format is checked before the enhancement; its folders are made when the
    result is written (``folders_for``).

    Raises:
        LowlightError: the source cannot be read or the target cannot be written; the
            message names the file.
    """
    image = read_image(source)
    writable_format(target)
    enhanced = enhance_image_data(image, runner, controls)
    with folders_for(target):
        write_image(target, enhanced)


@contextlib.contextmanager
def folders_for(target: Path) -> Iterator[None]:
    """Create the folders ``target`` goes in for the block that writes it; if the block
    fails, remove those it created again, so a run whose every file fails leaves no empty
    output folder behind.

    Raises:
        LowlightError: a folder cannot be created.
    """
    missing = _missing_folders(target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LowlightError(f"cannot create folder {target.parent}: {exc}") from exc
    try:
        yield
    except BaseException:
        _remove_empty(missing)
        raise


def check_output_folder(folder: Path) -> None:
    """Refuse, before any work, an output folder that cannot be created or written.

    Folders made to find out are removed again: they are created when the first result is
    written (``folders_for``).

    Raises:
        LowlightError: it is a file, cannot be created or is not writable.
    """
    if folder.exists() and not folder.is_dir():
        raise LowlightError(f"output {folder} exists and is not a folder; choose another -o")
    missing = _missing_folders(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LowlightError(f"cannot create output folder {folder}: {exc.strerror or exc}") from exc
    try:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise LowlightError(f"output folder {folder} is not writable; choose another -o")
    finally:
        _remove_empty(missing)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist, deepest first."""
    return [path for path in (folder, *folder.parents) if not path.exists()]


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first), stopping at the first that is not empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break
