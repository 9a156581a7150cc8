"""Planning a batch for Ray workers: the image files the inputs name, on this machine's disk or
behind URIs, and where each result goes, never over an input.

Local inputs and output are planned by ``lowlight.imageio.plan_jobs``, as ``lowlight enhance``
plans them; with URIs the same rules hold: names relative to each input folder, an output
folder that is an input folder refused unless allowed, a result never written over an input
(it takes an ``-enhanced`` suffix where allowed), two inputs never written to one result.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from lowlight.cluster.locations import (
    file_paths_under,
    is_local_filesystem,
    is_uri,
    list_files,
    open_uri,
    shown_uri,
)
from lowlight.errors import LowlightError
from lowlight.imageio.batch import (
    CLASH_SUFFIX,
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    find_inputs,
    is_video,
    plan_jobs,
)

__all__ = ["LOCAL", "Place", "Task", "Plan", "plan_tasks", "unfinished"]

LOCAL = -1
"""``Place.filesystem`` of a file on this machine's disk, read and written by its path."""


@dataclass(frozen=True)
class Place:
    """Where a file is.

    Attributes:
        path: an absolute path on the disk (``filesystem`` is ``LOCAL``), else the path in
            the pyarrow file system ``Plan.filesystems[filesystem]``.
        filesystem: ``LOCAL`` or an index into ``Plan.filesystems``.
        shown: how messages name it: as the command line gave it, or its URI.
    """

    path: str
    filesystem: int
    shown: str


@dataclass(frozen=True)
class Task:
    """One picture to enhance: the file read and the file its result is written to."""

    source: Place
    target: Place


@dataclass(frozen=True)
class Plan:
    """The tasks of a batch, the pyarrow file systems their places index, and the output
    folder (a ``Place``)."""

    tasks: list[Task]
    filesystems: list[Any]
    output: Place


def plan_tasks(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    extension: str | None = None,
    allow_same_folder: bool = False,
) -> Plan:
    """Plan enhancing the image files ``inputs`` name into the folder ``output``.

    Args:
        inputs: files, folders (searched recursively) and glob patterns on this machine, and
            URIs of files or folders that pyarrow opens (``s3://bucket/night``).
        output: a folder on this machine, or a URI.
        extension: replaces each result's extension (``".png"``) when given.
        allow_same_folder: see ``lowlight.imageio.plan_jobs``.

    Raises:
        LowlightError: an input is missing, nothing was found, a video clip was found (Ray
            runs enhance images), or the names clash as ``plan_jobs`` explains.
    """
    specs = [os.fspath(spec) for spec in inputs]
    output_name = os.fspath(output)
    if is_uri(output_name) or any(is_uri(spec) for spec in specs):
        return _plan_with_uris(specs, output_name, extension, allow_same_folder)
    found = find_inputs(specs, exclude=Path(output_name))
    _refuse_videos(item.path for item in found)
    jobs = plan_jobs(found, Path(output_name), extension, allow_same_folder)
    tasks = [Task(_on_disk(job.source), _on_disk(job.target)) for job in jobs]
    return Plan(tasks, [], _on_disk(Path(output_name)))


def unfinished(plan: Plan) -> tuple[list[Task], int]:
    """The tasks whose result is not written yet, and how many are.

    A result is written atomically, so a file under its name is complete.
    """
    output = plan.output
    if output.filesystem == LOCAL:
        done = {task.target.path for task in plan.tasks if os.path.isfile(task.target.path)}
    else:
        done = file_paths_under(plan.filesystems[output.filesystem], output.path)
    left = [task for task in plan.tasks if task.target.path not in done]
    return left, len(plan.tasks) - len(left)


def _on_disk(path: Path) -> Place:
    return Place(os.path.abspath(path), LOCAL, str(path))


def _refuse_videos(paths: Iterable[str | os.PathLike]) -> None:
    videos = [str(path) for path in paths if is_video(PurePosixPath(os.fspath(path)))]
    if videos:
        raise LowlightError(
            f"--engine ray enhances images, and the inputs hold {len(videos)} video clip(s) "
            f"({videos[0]}, ...); enhance clips without --engine ray, or name only images"
        )


def _plan_with_uris(
    specs: list[str], output_name: str, extension: str | None, allow_same_folder: bool
) -> Plan:
    filesystems: list[Any] = []
    if is_uri(output_name):
        filesystem, path = open_uri(output_name)
        filesystems.append(filesystem)
        output = Place(path, 0, shown_uri(output_name, ""))
    else:
        output = _on_disk(Path(output_name))
    found: list[tuple[Place, PurePosixPath, Hashable]] = []
    local_specs = [spec for spec in specs if not is_uri(spec)]
    if local_specs:
        exclude = Path(output.path) if _on_this_disk(output, filesystems) else None
        for item in find_inputs(local_specs, exclude=exclude):
            source = Place(os.path.abspath(item.path), LOCAL, str(item.path))
            relative = PurePosixPath(item.relative.as_posix())
            found.append((source, relative, ("disk", str(item.folder))))
    for spec in (spec for spec in specs if is_uri(spec)):
        filesystem, path = open_uri(spec)
        filesystems.append(filesystem)
        index = len(filesystems) - 1
        same_store = _store(filesystem) == _store_of(output, filesystems)
        extensions = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
        exclude = output.path if same_store else None
        for item in list_files(filesystem, path, spec, extensions, exclude):
            source = Place(item.path, index, item.shown)
            found.append((source, item.relative, _folder_key(filesystem, item.folder)))
    if not found:
        raise LowlightError(f"no image files found in the inputs: {', '.join(specs)}")
    _refuse_videos(source.shown for source, _, _ in found)
    tasks = _targets(found, output, filesystems, extension, allow_same_folder)
    return Plan(tasks, filesystems, output)


def _targets(
    found: list[tuple[Place, PurePosixPath, Hashable]],
    output: Place,
    filesystems: list[Any],
    extension: str | None,
    allow_same_folder: bool,
) -> list[Task]:
    """Where each input's result goes, by ``plan_jobs``'s rules."""
    output_filesystem = None if output.filesystem == LOCAL else filesystems[output.filesystem]
    if not allow_same_folder and _folder_key(output_filesystem, output.path) in {
        folder for _, _, folder in found
    }:
        raise LowlightError(
            f"the output folder {output.shown} is also an input folder; choose another -o, "
            "or pass --allow-same-folder (inputs are never overwritten: results whose name "
            f"is taken by an input get a '{CLASH_SUFFIX}' suffix)"
        )
    inputs: set[Hashable] = set()
    for source, _, _ in found:
        inputs |= _identities(source, filesystems)
    tasks: list[Task] = []
    taken: dict[Hashable, str] = {}
    for source, relative, _ in found:
        target = _join(output, relative.with_suffix(extension) if extension else relative)
        if _identities(target, filesystems) & inputs:
            if not allow_same_folder:
                raise LowlightError(
                    f"{source.shown}: its result {target.shown} would overwrite an input; "
                    "choose another output folder"
                )
            target = _free_name(target, filesystems, inputs, taken)
        key = _name_key(target, filesystems)
        if key in taken:
            raise LowlightError(
                f"{taken[key]} and {source.shown} would both be written to {target.shown}; "
                "enhance them into different output folders"
            )
        taken[key] = source.shown
        tasks.append(Task(source, target))
    return tasks


def _join(folder: Place, relative: PurePosixPath) -> Place:
    if folder.filesystem == LOCAL:
        shown = str(Path(folder.shown) / relative)
        return Place(os.path.join(folder.path, *relative.parts), LOCAL, shown)
    path = posixpath.join(folder.path, str(relative))
    return Place(path, folder.filesystem, shown_uri(folder.shown, relative))


def _free_name(
    target: Place, filesystems: list[Any], inputs: set[Hashable], taken: dict[Hashable, str]
) -> Place:
    stem, suffix = posixpath.splitext(posixpath.basename(target.shown))
    for number in range(1, 10_000):
        label = CLASH_SUFFIX if number == 1 else f"{CLASH_SUFFIX}-{number}"
        name = f"{stem}{label}{suffix}"
        candidate = replace(
            target,
            path=posixpath.join(posixpath.dirname(target.path), name),
            shown=posixpath.join(posixpath.dirname(target.shown), name),
        )
        free = not _identities(candidate, filesystems) & inputs
        if free and _name_key(candidate, filesystems) not in taken:
            return candidate
    raise LowlightError(f"no free output name next to {target.shown}")


def _on_this_disk(place: Place, filesystems: list[Any]) -> bool:
    return place.filesystem == LOCAL or is_local_filesystem(filesystems[place.filesystem])


def _store(filesystem: Any) -> str:
    """What kind of storage a pyarrow file system is: "disk" for this machine's."""
    return "disk" if filesystem is None or is_local_filesystem(filesystem) else filesystem.type_name


def _store_of(place: Place, filesystems: list[Any]) -> str:
    return _store(None if place.filesystem == LOCAL else filesystems[place.filesystem])


def _folder_key(filesystem: Any, path: str) -> Hashable:
    store = _store(filesystem)
    return (store, os.path.realpath(path) if store == "disk" else path.rstrip("/"))


def _name_key(place: Place, filesystems: list[Any]) -> Hashable:
    store = _store_of(place, filesystems)
    return (store, os.path.realpath(place.path) if store == "disk" else place.path)


def _identities(place: Place, filesystems: list[Any]) -> set[Hashable]:
    """The keys a file is known by: its name, and on this disk its inode (hard links)."""
    keys: set[Hashable] = {_name_key(place, filesystems)}
    if _on_this_disk(place, filesystems):
        try:
            status = os.stat(place.path)
        except OSError:
            return keys
        keys.add(("inode", status.st_dev, status.st_ino))
    return keys
