"""Writing files atomically: a reader sees the old file or the complete new one, never half."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "atomic_write_text", "atomic_path"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file next to ``path`` for writing; on success it replaces ``path``.

    The temporary file is flushed to disk, given the permissions a new file would get (or
    those of the file it replaces) and renamed over ``path`` with ``os.replace``. If the
    block raises, the temporary file is removed and ``path`` is untouched.

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.bin"
        >>> with atomic_write(target) as handle:
        ...     _ = handle.write(b"done")
        >>> target.read_bytes()
        b'done'
    """
    with _replacing(Path(path)) as (fd, _):
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary file next to ``path`` for a writer that opens files by name; on success it
    replaces ``path``.

    The block writes the temporary file and closes it; it is then flushed to disk, given the
    permissions of a new file (or of the file it replaces) and renamed over ``path``. If the
    block raises, the temporary file is removed and ``path`` is untouched. The temporary
    name is hidden (it starts with a dot) and ends in ``.tmp``.

    Examples:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_path(folder / "clip.mp4") as temporary:
        ...     print(temporary.name.startswith(".clip.mp4."), temporary.suffix)
        ...     _ = temporary.write_bytes(b"done")
        True .tmp
        >>> [path.name for path in folder.iterdir()]
        ['clip.mp4']
    """
    with _replacing(Path(path)) as (fd, temporary):
        os.close(fd)
        yield Path(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[tuple[int, str]]:
    """A temporary file next to ``path`` (its descriptor and name) for the block to write;
    then given its permissions and renamed over ``path``, or removed if the block raises."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        yield fd, temporary
        os.chmod(temporary, _permissions_for(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8 with ``atomic_write``.

    Raises:
        OSError: ``path`` cannot be written (it is then unchanged and no temporary file is
            left); the error names ``path`` even when the failed write itself did not
            (a full disk).
    """
    try:
        with atomic_write(path) as handle:
            handle.write(text.encode("utf-8"))
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from exc


def _permissions_for(path: Path) -> int:
    """The permission bits of the file being replaced, else those of a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # mkstemp creates files 0600; a new image should get the usual umask-derived mode.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current
