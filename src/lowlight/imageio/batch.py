"""Planning a batch: which image and video files the inputs name, and where each result goes."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lowlight.errors import LowlightError
from lowlight.imageio.camera_raw import RAW_EXTENSIONS, RAW_RESULT_EXTENSION, is_camera_raw
from lowlight.imageio.heif import HEIF_EXTENSIONS
from lowlight.imageio.video_writer import video_output_path

__all__ = [
    "InputFile",
    "Job",
    "find_inputs",
    "plan_jobs",
    "is_dead_link",
    "is_video",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "CLASH_SUFFIX",
]

IMAGE_EXTENSIONS = (
    frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".tif", ".tiff", ".bmp", ".avif"})
    | HEIF_EXTENSIONS
    | RAW_EXTENSIONS
)
"""What a folder search picks up, in any case (files named explicitly are tried whatever their
extension): HEIC/HEIF and camera RAW files need lowlight[formats], and each one found without
it gets a line saying so."""
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm"})
"""Video clips (enhanced with ``lowlight.video``; a file named explicitly is a clip when its
extension is one of these)."""
CLASH_SUFFIX = "-enhanced"
"""Added to an output name that would otherwise be an input's (only with allow_same_folder)."""
_GLOB_CHARACTERS = frozenset("*?[")
_SEARCHED = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS


@dataclass(frozen=True)
class InputFile:
    """An image or video file to process.

    Attributes:
        path: the file, as found.
        relative: its name relative to the folder it was found under (the output keeps it).
        folder: that folder, resolved (a file's own folder when it was named directly).
    """

    path: Path
    relative: Path
    folder: Path


@dataclass(frozen=True)
class Job:
    """One file to read and the file its result is written to."""

    source: Path
    target: Path


def find_inputs(
    specs: Sequence[str], exclude: Path | None = None, videos: bool = True
) -> list[InputFile]:
    """The image and video files named by files, folders (searched recursively) and globs.

    Folder searches keep files with an image or video extension (``IMAGE_EXTENSIONS``,
    ``VIDEO_EXTENSIONS``; images only without ``videos``) and skip hidden files and folders
    and the ``exclude`` folder (the output folder, so earlier results are not taken as
    inputs). A glob's matches keep their path below the pattern's fixed leading folders. A
    file found twice is listed once.

    Raises:
        LowlightError: an input does not exist, a pattern matches nothing, or nothing at all
            was found.
    """
    extensions = _SEARCHED if videos else IMAGE_EXTENSIONS
    excluded = _resolved(exclude) if exclude is not None else None
    found: dict[Path, InputFile] = {}
    for spec in specs:
        for item in _expand(spec, excluded, extensions):
            found.setdefault(_resolved(item.path), item)
    if not found:
        kinds = "image or video files" if videos else "image files"
        raise LowlightError(
            f"no {kinds} found in the inputs (searched for {', '.join(sorted(extensions))})"
        )
    return list(found.values())


def plan_jobs(
    inputs: Sequence[InputFile],
    output_folder: Path,
    extension: str | None = None,
    allow_same_folder: bool = False,
) -> list[Job]:
    """Where each input's result goes: ``output_folder / relative``, never over an input.

    Args:
        inputs: from ``find_inputs``.
        output_folder: the folder results are written under.
        extension: replaces each image's extension (e.g. ``".png"``) when given. Without it,
            images keep theirs but camera RAW files, whose results are 16-bit TIFF
            (``.tif``). Videos keep theirs, except WebM, which cannot hold H.264 and becomes
            ``.mp4``.
        allow_same_folder: allow ``output_folder`` to be an input folder; results whose name
            would be an input's get ``CLASH_SUFFIX`` (then a number) before the extension.

    Raises:
        LowlightError: the output folder is an input folder (without ``allow_same_folder``),
            a result would overwrite an input (without ``allow_same_folder``), or two inputs
            would give the same output name.
    """
    output_folder = Path(output_folder)
    resolved_output = _resolved(output_folder)
    if not allow_same_folder and any(item.folder == resolved_output for item in inputs):
        raise LowlightError(
            f"the output folder {output_folder} is also an input folder; choose another -o, or "
            "pass --allow-same-folder (inputs are never overwritten: results whose name is "
            f"taken by an input get a '{CLASH_SUFFIX}' suffix)"
        )
    input_files = _Inputs(inputs)
    jobs: list[Job] = []
    taken: dict[Path, Path] = {}
    for item in inputs:
        relative = item.relative
        if is_video(relative):
            relative = video_output_path(relative)
        elif extension:
            relative = relative.with_suffix(extension)
        elif is_camera_raw(relative):
            relative = relative.with_suffix(RAW_RESULT_EXTENSION)
        target = output_folder / relative
        if target in input_files:
            if not allow_same_folder:
                raise LowlightError(
                    f"{item.path}: its result {target} would overwrite an input; choose "
                    "another output folder"
                )
            target = _free_name(target, input_files, taken)
        key = _resolved(target)
        if key in taken:
            raise LowlightError(
                f"{taken[key]} and {item.path} would both be written to {target}; enhance "
                "them into different output folders"
            )
        taken[key] = item.path
        jobs.append(Job(source=item.path, target=target))
    return jobs


def _expand(spec: str, excluded: Path | None, extensions: frozenset[str]) -> list[InputFile]:
    path = Path(spec)
    if path.is_file() or is_dead_link(path):  # a bad link gets its own per-file error
        return [InputFile(path, Path(path.name), _resolved(path).parent)]
    if path.is_dir():
        return _search(path, path, excluded, extensions)
    if not _GLOB_CHARACTERS & set(spec):
        raise LowlightError(f"input not found: {spec}")
    base = _glob_base(spec)
    items: list[InputFile] = []
    for match in sorted(glob.glob(spec, recursive=True)):
        found = Path(match)
        if _skipped(found, base, excluded):
            continue
        if found.is_dir():
            items.extend(_search(found, base, excluded, extensions))
        elif found.is_file() or is_dead_link(found):
            items.append(InputFile(found, _relative(found, base), _resolved(base)))
    if not items:
        raise LowlightError(f"no image files match {spec}")
    return items


def _search(
    folder: Path, base: Path, excluded: Path | None, extensions: frozenset[str]
) -> list[InputFile]:
    """Files with one of ``extensions`` below ``folder``, named relative to ``base``."""
    items = []
    for root, folders, files in os.walk(folder):
        root_path = Path(root)
        folders[:] = sorted(
            name
            for name in folders
            if not name.startswith(".") and not _skipped(root_path / name, base, excluded)
        )
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in extensions:
                found = root_path / name
                items.append(InputFile(found, _relative(found, base), _resolved(base)))
    return items


def _skipped(path: Path, base: Path, excluded: Path | None) -> bool:
    """Whether a search under ``base`` skips ``path``: it lies in the output folder, and that
    folder is inside ``base`` (when it is ``base`` itself, the inputs are its files)."""
    if excluded is None or _resolved(base) not in excluded.parents:
        return False
    resolved = _resolved(path)
    return resolved == excluded or excluded in resolved.parents


def _resolved(path: Path) -> Path:
    """``path`` made absolute with links followed; unlike ``Path.resolve`` on Python < 3.13,
    a symbolic link loop does not raise (the looping link is kept as it is)."""
    return Path(os.path.realpath(path))


def is_video(path: Path) -> bool:
    """Whether ``path`` names a video clip (by its extension, ``VIDEO_EXTENSIONS``)."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


def is_dead_link(path: Path) -> bool:
    """A symbolic link that leads nowhere: its target is missing, or it loops back to itself.

    Searches keep such links, so that reading one reports the link rather than nothing.
    """
    return path.is_symlink() and not path.exists()


def _glob_base(pattern: str) -> Path:
    """The pattern's leading folders that hold no glob characters."""
    fixed = []
    for part in Path(pattern).parts[:-1]:
        if _GLOB_CHARACTERS & set(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _relative(path: Path, base: Path) -> Path:
    relative = Path(os.path.relpath(path, base))
    # A pattern such as "*/../x.png" can match above its fixed folders: keep just the name.
    return Path(path.name) if ".." in relative.parts else relative


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


class _Inputs:
    """The input files, recognised by path or, for hard links, by inode."""

    def __init__(self, inputs: Sequence[InputFile]) -> None:
        self.paths = {_resolved(item.path) for item in inputs}
        self.identities = {_identity(item.path) for item in inputs} - {None}

    def __contains__(self, target: Path) -> bool:
        return _resolved(target) in self.paths or _identity(target) in self.identities


def _free_name(target: Path, inputs: _Inputs, taken: dict[Path, Path]) -> Path:
    stem, suffix = target.stem, target.suffix
    for number in range(1, 10_000):
        label = CLASH_SUFFIX if number == 1 else f"{CLASH_SUFFIX}-{number}"
        candidate = target.with_name(f"{stem}{label}{suffix}")
        if candidate not in inputs and _resolved(candidate) not in taken:
            return candidate
    raise LowlightError(f"no free output name next to {target}")
