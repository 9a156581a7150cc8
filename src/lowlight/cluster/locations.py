"""Files named by URIs that pyarrow opens (``s3://``, ``gs://``, ``hdfs://``, ``file://``):
finding them, reading them, and writing them atomically under a temporary name."""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from lowlight.cluster.extra import import_ray_extra
from lowlight.errors import LowlightError

__all__ = [
    "RemoteFile",
    "is_uri",
    "open_uri",
    "list_files",
    "shown_uri",
    "read_bytes",
    "write_bytes",
    "file_paths_under",
    "remove_temporaries",
    "is_local_filesystem",
]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Object stores have no folders: an object's name is all it needs.
_OBJECT_STORES = frozenset({"s3", "gcs", "abfs"})
# The temporary names results are written under, here and by ``lowlight.imageio.atomic``:
# ``.NAME.`` and eight characters, then ``.tmp``.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")
_GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class RemoteFile:
    """A file found under a URI.

    Attributes:
        path: the file's path in its file system (``bucket/night/1.jpg`` for S3).
        relative: its name relative to the folder the URI named (the output keeps it).
        folder: the path of that folder in the file system.
        shown: how messages name the file (its URI).
    """

    path: str
    relative: PurePosixPath
    folder: str
    shown: str


def is_uri(name: str | os.PathLike) -> bool:
    """Whether ``name`` is a URI (``scheme://...``) rather than a local path.

    Example:
        >>> is_uri("s3://bucket/night"), is_uri("night/1.jpg"), is_uri("C:/photos")
        (True, False, False)
    """
    return bool(_URI.match(os.fspath(name)))


def is_local_filesystem(filesystem: Any) -> bool:
    """Whether a pyarrow file system is this machine's disk (a ``file://`` URI)."""
    return filesystem.type_name == "local"


def open_uri(uri: str) -> tuple[Any, str]:
    """The pyarrow file system ``uri`` names and the path in it.

    Raises:
        LowlightError: pyarrow knows no such file system, or cannot set it up.
    """
    fs = import_ray_extra("pyarrow.fs", "reading and writing URIs")
    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
    except (ValueError, OSError) as exc:
        raise LowlightError(f"cannot open {uri}: {exc}") from exc
    if is_local_filesystem(filesystem):
        path = os.path.normpath(path)  # file:///a/b/../c is /a/c
    return filesystem, path


def shown_uri(uri: str, relative: PurePosixPath | str) -> str:
    """How messages name ``relative`` under the folder ``uri`` (its options left out).

    Example:
        >>> shown_uri("s3://bucket/night/?region=eu-west-1", PurePosixPath("a/1.jpg"))
        's3://bucket/night/a/1.jpg'
    """
    base = uri.split("?", 1)[0].rstrip("/")
    return f"{base}/{relative}" if str(relative) else base


def list_files(
    filesystem: Any,
    path: str,
    uri: str,
    extensions: frozenset[str],
    exclude: str | None = None,
) -> list[RemoteFile]:
    """The files ``uri`` (``path`` in ``filesystem``) names: itself, or those below a folder.

    A folder is searched recursively for files with one of ``extensions``, leaving out
    hidden files and folders and anything below the path ``exclude`` (the output folder,
    when it lies inside the folder searched). Files come in name order.

    Raises:
        LowlightError: nothing is at ``uri`` (URIs take no glob patterns).
    """
    fs = import_ray_extra("pyarrow.fs", "reading and writing URIs")
    info = filesystem.get_file_info(path)
    if info.type == fs.FileType.File:
        name = PurePosixPath(info.base_name)
        return [RemoteFile(path, name, posixpath.dirname(path), shown_uri(uri, ""))]
    if info.type != fs.FileType.Directory:
        if _GLOB_CHARACTERS & set(uri):
            raise LowlightError(f"input not found: {uri} (URIs take no patterns: name a folder)")
        raise LowlightError(f"input not found: {uri}")
    if exclude is not None and exclude.rstrip("/") == path.rstrip("/"):
        exclude = None  # the output folder is this folder: its files are the inputs
    found = []
    for entry in filesystem.get_file_info(fs.FileSelector(path, recursive=True)):
        relative = PurePosixPath(posixpath.relpath(entry.path, path))
        if entry.type != fs.FileType.File or _hidden(relative):
            continue
        if exclude is not None and _below(entry.path, exclude):
            continue
        if relative.suffix.lower() in extensions:
            found.append(RemoteFile(entry.path, relative, path, shown_uri(uri, relative)))
    return sorted(found, key=lambda item: item.path)


def read_bytes(filesystem: Any, path: str) -> bytes:
    """The whole content of the file at ``path``."""
    with filesystem.open_input_stream(path) as stream:
        return stream.read()


def write_bytes(filesystem: Any, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` under a hidden temporary name, then rename it there.

    A reader sees no file or the complete one: on an object store the rename is a copy made
    by the store, which creates the object whole. If writing fails the temporary file is
    removed and ``path`` is untouched.
    """
    parent, name = posixpath.split(path)
    if filesystem.type_name not in _OBJECT_STORES:
        filesystem.create_dir(parent, recursive=True)
    temporary = posixpath.join(parent, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        with filesystem.open_output_stream(temporary) as stream:
            stream.write(data)
        filesystem.move(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            filesystem.delete_file(temporary)
        raise


def file_paths_under(filesystem: Any, folder: str) -> set[str]:
    """The paths of every file below ``folder`` (none if it does not exist)."""
    fs = import_ray_extra("pyarrow.fs", "reading and writing URIs")
    selector = fs.FileSelector(folder, recursive=True, allow_not_found=True)
    return {
        entry.path for entry in filesystem.get_file_info(selector) if entry.type == fs.FileType.File
    }


def remove_temporaries(filesystem: Any, folder: str, targets: Iterable[str]) -> int:
    """Remove what a killed writer left below ``folder``: the temporary files of
    ``targets`` (paths in ``filesystem``). Returns how many were removed.

    Call it once no writer of these targets runs any more.
    """
    wanted = set(targets)
    removed = 0
    for path in file_paths_under(filesystem, folder):
        parent, name = posixpath.split(path)
        match = _TEMPORARY.match(name)
        if match and posixpath.join(parent, match["name"]) in wanted:
            with contextlib.suppress(FileNotFoundError):
                filesystem.delete_file(path)
                removed += 1
    return removed


def _hidden(relative: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _below(path: str, folder: str) -> bool:
    folder = folder.rstrip("/")
    return path == folder or path.startswith(folder + "/")
