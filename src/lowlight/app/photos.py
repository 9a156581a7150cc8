"""Enhancing uploaded photos: full-resolution results in the upload's format, previews, a zip.

Nothing here needs Gradio; ``lowlight.app.page`` puts it on a web page.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from lowlight.errors import LowlightError
from lowlight.imageio import atomic_write, output_format, read_image, write_image
from lowlight.imageio.batch import CLASH_SUFFIX, IMAGE_EXTENSIONS
from lowlight.imageio.samples import to_samples
from lowlight.inference import WORKING_SIZE, choose_quality, enhance
from lowlight.models import UnifiedLowLightEnhancer

__all__ = [
    "EnhancedPhoto",
    "Batch",
    "enhance_photo",
    "enhance_uploads",
    "result_name",
    "preview",
    "bundle",
    "MAX_PREVIEW_SIDE",
    "ZIP_NAME",
]

MAX_PREVIEW_SIDE = 2048
"""Before/after pictures on the page are at most this long (pixels); downloads are full size."""
ZIP_NAME = "lowlight-enhanced.zip"
"""The download when several photos were enhanced at once."""
# Results of uploads in other formats (GIF, or no extension) are written as PNG.
_FALLBACK_EXTENSION = ".png"
# What the model can fail with on a photo the reader accepted (out of memory, above all).
_ENHANCE_ERRORS = (RuntimeError, ValueError, OSError, MemoryError)


@dataclass(frozen=True)
class EnhancedPhoto:
    """One uploaded photo, enhanced.

    Attributes:
        name: the upload's file name.
        result: the full-resolution result, in the upload's format where it is a photo format
            lowlight writes (with its bit depth, alpha, ICC profile and EXIF), else PNG.
        before, after: uint8 (h, w, 3) previews of the upload and the result, at most
            ``MAX_PREVIEW_SIDE`` pixels long.
        width, height: the photo's size in pixels (upright).
        seconds: the time from reading the upload to the written result.
        quality: how it was rendered: "fast" or "full" (see ``lowlight.enhance``).
    """

    name: str
    result: Path
    before: np.ndarray
    after: np.ndarray
    width: int
    height: int
    seconds: float
    quality: str = "full"


@dataclass(frozen=True)
class Batch:
    """The outcome of enhancing several uploads with the same settings.

    Attributes:
        photos: the photos enhanced, in upload order.
        failures: one line per upload that could not be enhanced: its name and the reason.
        download: the single result, a zip of several (``ZIP_NAME``), or None if none.
    """

    photos: list[EnhancedPhoto]
    failures: list[str]
    download: Path | None


def result_name(upload_name: str, taken: Collection[str] = ()) -> str:
    """The file name of an upload's result: its name with ``-enhanced``, unique in ``taken``.

    Examples:
        >>> result_name("dark.jpg")
        'dark-enhanced.jpg'
        >>> result_name("dark.jpg", taken={"dark-enhanced.jpg"})
        'dark-enhanced-2.jpg'
        >>> result_name("animation.gif"), result_name("no-extension")
        ('animation-enhanced.png', 'no-extension-enhanced.png')
    """
    path = Path(upload_name)
    extension = path.suffix if _writable_photo_format(path.suffix) else _FALLBACK_EXTENSION
    name, number = f"{path.stem}{CLASH_SUFFIX}{extension}", 1
    while name in taken:
        number += 1
        name = f"{path.stem}{CLASH_SUFFIX}-{number}{extension}"
    return name


def enhance_photo(
    upload: Path,
    model: UnifiedLowLightEnhancer,
    target: Path,
    exposure: float = 0.0,
    strength: float = 1.0,
    tile: int | None = None,
    on_pass: Callable[[int, int], None] | None = None,
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
) -> EnhancedPhoto:
    """Read ``upload``, enhance it and write the result to ``target`` (atomically).

    Args:
        upload: the uploaded file.
        model: the enhancer (see ``lowlight.load_model``).
        target: the result file; its extension chooses the format (see ``result_name``).
        exposure: as for ``lowlight.enhance``.
        strength: as for ``lowlight.enhance``.
        tile: see ``lowlight.inference.choose_tile`` (None: tiles above about 4 megapixels).
        on_pass: called with (passes done, passes in all) after each pass of the model.
        quality: as for ``lowlight.enhance`` (auto: fast above 1152 pixels).
        working_size: as for ``lowlight.enhance``.

    Raises:
        LowlightError: the upload cannot be read or enhanced, or the result cannot be
            written; the message starts with the upload's name (not its path on the server).
    """
    start = time.perf_counter()
    try:
        source = read_image(upload)
        rgb = enhance(
            source.rgb,
            model=model,
            tile=tile,
            exposure=exposure,
            strength=strength,
            on_pass=on_pass,
            quality=quality,
            working_size=working_size,
        )
        write_image(target, replace(source, rgb=rgb))
        seconds = time.perf_counter() - start
    except LowlightError as exc:
        message = str(exc)
        for path in (str(upload), str(target)):
            message = message.removeprefix(f"{path}: ")
        raise LowlightError(f"{upload.name}: {message}") from exc
    except _ENHANCE_ERRORS as exc:
        raise LowlightError(f"{upload.name}: {type(exc).__name__}: {exc}") from exc
    return EnhancedPhoto(
        name=upload.name,
        result=target,
        before=preview(source.rgb),
        after=preview(rgb),
        width=source.width,
        height=source.height,
        seconds=seconds,
        quality=choose_quality(source.height, source.width, quality, working_size),
    )


def enhance_uploads(
    uploads: Sequence[Path],
    model: UnifiedLowLightEnhancer,
    folder: Path,
    exposure: float = 0.0,
    strength: float = 1.0,
    tile: int | None = None,
    on_pass: Callable[[int, int, int], None] | None = None,
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
) -> Batch:
    """Enhance each upload into ``folder``; an upload that fails is reported, not raised.

    Args:
        uploads: the uploaded files, in order.
        model: the enhancer.
        folder: an existing folder for the results (and the zip of several).
        exposure: as for ``lowlight.enhance``, the same for every upload.
        strength: as for ``lowlight.enhance``, the same for every upload.
        tile: see ``lowlight.inference.choose_tile`` (None: tiles above about 4 megapixels).
        on_pass: called with (upload index, passes done, passes in all) after each pass of
            the model.
        quality: as for ``lowlight.enhance``.
        working_size: as for ``lowlight.enhance``.
    """
    photos: list[EnhancedPhoto] = []
    failures: list[str] = []
    taken: set[str] = {ZIP_NAME}
    for index, upload in enumerate(uploads):
        name = result_name(upload.name, taken)
        taken.add(name)
        report = None if on_pass is None else _for_upload(on_pass, index)
        try:
            photo = enhance_photo(
                upload,
                model,
                folder / name,
                exposure,
                strength,
                tile=tile,
                on_pass=report,
                quality=quality,
                working_size=working_size,
            )
        except LowlightError as exc:
            failures.append(str(exc))
        else:
            photos.append(photo)
    if len(photos) > 1:
        download = bundle([photo.result for photo in photos], folder / ZIP_NAME)
    else:
        download = photos[0].result if photos else None
    return Batch(photos=photos, failures=failures, download=download)


def preview(rgb: np.ndarray, max_side: int = MAX_PREVIEW_SIDE) -> np.ndarray:
    """A uint8 copy of float RGB (H, W, 3) in [0, 1], shrunk to at most ``max_side`` long.

    Examples:
        >>> preview(np.zeros((1000, 3000, 3), np.float32)).shape
        (683, 2048, 3)
        >>> preview(np.ones((4, 6, 3), np.float32))[0, 0]
        array([255, 255, 255], dtype=uint8)
    """
    image = Image.fromarray(to_samples(rgb, 8))
    scale = max_side / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(image)


def bundle(results: Sequence[Path], target: Path) -> Path:
    """Write ``results`` into the zip file ``target`` (atomically) under their own names.

    The images are stored as they are: they are compressed already.
    """
    with atomic_write(target) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as zip_:
        for result in results:
            zip_.write(result, arcname=result.name)
    return target


def _writable_photo_format(extension: str) -> bool:
    if extension.lower() not in IMAGE_EXTENSIONS:
        return False
    try:
        output_format(f"x{extension}")
    except LowlightError:
        return False
    return True


def _for_upload(on_pass: Callable[[int, int, int], None], index: int) -> Callable[[int, int], None]:
    return lambda done, total: on_pass(index, done, total)
