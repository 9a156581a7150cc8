"""A corpus of good and bad image files generated per test, and simulated system failures.

Every bad file is one a user can plausibly hand to lowlight: empty, cut short (PNG, JPEG, and
with lowlight[formats] HEIC and a camera RAW DNG), not an image, a decompression bomb, a folder
named like an image, unreadable, a symbolic link loop. Every
good file is an edge case that must work: tiny sizes, 16-bit, greyscale, palette, alpha,
CMYK, EXIF rotation, names with spaces and non-ASCII letters.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import yaml
from photo_files import write_dng, write_heic
from PIL import Image

from lowlight.imageio import ImageData, write_image

ORIENTATION = 0x0112
# The header of the bomb declares this many pixels a side (2.5 gigapixels, about 7.5 GB as RGB).
BOMB_SIDE = 50_000


def dark(shape: tuple[int, ...], seed: int = 0, dtype=np.uint8) -> np.ndarray:
    """Dark noise of ``shape`` (values up to 15% of the dtype's range)."""
    peak = np.iinfo(dtype).max
    values = np.random.default_rng(seed).uniform(0, 0.15, shape)
    return np.round(values * peak).astype(dtype)


def write_bomb(path: Path, side: int = BOMB_SIDE) -> None:
    """A valid small PNG whose IHDR is patched to declare ``side`` x ``side`` (CRC fixed)."""
    Image.fromarray(dark((4, 4, 3))).save(path)
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", side, side)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


def _have_formats_extra() -> bool:
    try:
        import pillow_heif  # noqa: F401
        import rawpy  # noqa: F401
    except ImportError:
        return False
    return True


def truncated(path: Path, source: Path, fraction: float = 0.5) -> None:
    """``path`` holds the first ``fraction`` of ``source``'s bytes."""
    content = source.read_bytes()
    path.write_bytes(content[: int(len(content) * fraction)])


@dataclass
class Corpus:
    """The generated files under ``root`` (all names relative to it).

    Attributes:
        root: the folder holding everything.
        good: readable images -> the (height, width) their result must have.
        bad: files that must fail -> a fragment the one-line reason must contain.
        folders: folders named like images (searched like any folder).
        unreadable: the file ``deny_reading`` makes unreadable.
    """

    root: Path
    good: dict[str, tuple[int, int]] = field(default_factory=dict)
    bad: dict[str, str] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)
    unreadable: str = "locked.png"

    def path(self, name: str) -> Path:
        return self.root / name


def build_corpus(root: Path) -> Corpus:
    """Write every good and bad case into ``root`` (created)."""
    root.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(root)

    def good(name: str, image: Image.Image, size: tuple[int, int] | None = None, **options):
        image.save(root / name, **options)
        corpus.good[name] = size or (image.height, image.width)

    good("one_pixel.png", Image.fromarray(dark((1, 1, 3), 1)))
    good("two_by_two.png", Image.fromarray(dark((2, 2, 3), 2)))
    good("grey.png", Image.fromarray(dark((9, 11), 3)))
    good("palette.png", Image.fromarray(dark((10, 7, 3), 4)).convert("P"))
    rgba = dark((8, 12, 4), 5)
    rgba[..., 3] = 200
    good("alpha.png", Image.fromarray(rgba))
    good("grey16.tif", Image.fromarray(dark((7, 9), 6, np.uint16)))
    rgb16 = dark((6, 10, 3), 7, np.uint16) / np.float32(65535)
    write_image(root / "rgb16.tif", ImageData(rgb=rgb16, bit_depth=16))
    corpus.good["rgb16.tif"] = (6, 10)
    good("cmyk.jpg", Image.fromarray(dark((12, 10, 3), 8)).convert("CMYK"), quality=95)
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # stored 8 wide, 4 high; shown (and enhanced) 4 wide, 8 high
    good("rotated.jpg", Image.fromarray(dark((4, 8, 3), 9)), size=(8, 4), exif=exif)
    good("nuit étoilée 夜.png", Image.fromarray(dark((5, 6, 3), 10)))
    good("with space.png", Image.fromarray(dark((6, 5, 3), 11)))
    (root / "dir.png").mkdir()
    corpus.folders.append("dir.png")
    good("dir.png/inside.png", Image.fromarray(dark((5, 5, 3), 12)))
    good(corpus.unreadable, Image.fromarray(dark((5, 5, 3), 13)))
    del corpus.good[corpus.unreadable]
    corpus.bad[corpus.unreadable] = "permission denied"

    Image.fromarray(dark((64, 64, 3), 14)).save(root / "whole.png")
    Image.fromarray(dark((64, 64, 3), 15)).save(root / "whole.jpg", quality=95)
    (root / "empty.png").write_bytes(b"")
    corpus.bad["empty.png"] = "empty"
    truncated(root / "truncated.png", root / "whole.png")
    corpus.bad["truncated.png"] = "cannot read image"
    truncated(root / "truncated.jpg", root / "whole.jpg")
    corpus.bad["truncated.jpg"] = "cannot read image"
    (root / "whole.png").unlink()
    (root / "whole.jpg").unlink()
    (root / "notes.png").write_text("these are my notes, not a picture\n")
    corpus.bad["notes.png"] = "not an image file"
    write_bomb(root / "bomb.png")
    corpus.bad["bomb.png"] = "decompression bomb"
    if _have_formats_extra():  # lowlight[formats]: HEIC and camera RAW cut short
        write_heic(root / "whole.heic", dark((24, 32, 3), 16) / np.float32(255))
        truncated(root / "truncated.heic", root / "whole.heic")
        corpus.bad["truncated.heic"] = "cannot read image"
        write_dng(root / "whole.dng", dark((24, 32, 3), 17) / np.float32(255))
        truncated(root / "truncated.dng", root / "whole.dng")
        corpus.bad["truncated.dng"] = "LibRaw cannot read this camera RAW file: it is cut short"
        (root / "whole.heic").unlink()
        (root / "whole.dng").unlink()
    os.symlink("loop_b.png", root / "loop_a.png")
    os.symlink("loop_a.png", root / "loop_b.png")
    corpus.bad["loop_a.png"] = "symbolic link loop"
    corpus.bad["loop_b.png"] = "symbolic link loop"
    return corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    """The corpus in ``tmp_path/corpus``."""
    return build_corpus(tmp_path / "corpus")


@pytest.fixture
def deny_reading(monkeypatch: pytest.MonkeyPatch):
    """``deny_reading(path)``: opening ``path`` for reading fails as for another user's 0600
    file (the tests run as root, which chmod cannot lock out)."""
    real_open = builtins.open
    denied: set[str] = set()

    def guarded_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) in denied:
            if "r" in mode or "+" in mode:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
        return real_open(file, mode, *args, **kwargs)

    def deny(path: Path) -> None:
        denied.add(os.path.abspath(path))
        monkeypatch.setattr(builtins, "open", guarded_open)

    return deny


def _fingerprint(folder: Path) -> dict[str, str]:
    prints = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            prints[name] = "-> " + os.readlink(path)
        elif path.is_dir():
            prints[name] = "folder"
        else:
            prints[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return prints


def _files_below(folder: Path) -> set[str]:
    if not folder.exists():
        return set()
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def make_bomb():
    """``make_bomb(path)``: write a decompression bomb (see ``write_bomb``)."""
    return write_bomb


@pytest.fixture
def fingerprint():
    """``fingerprint(folder)``: every entry below it -> a file's SHA-256, a link's target, or
    "folder" (compare before and after to prove nothing was touched)."""
    return _fingerprint


@pytest.fixture
def files_below():
    """``files_below(folder)``: names of all files below it, hidden ones included."""
    return _files_below


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A training config YAML for seconds-long runs: 4 crops per epoch, 2 validation images."""
    path = tmp_path / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {"samples_per_epoch": 4, "max_val_images": 2, "threads": 1, "warmup_iterations": 2}
        )
    )
    return path
