"""The line that closes a batch of ``lowlight enhance``, whichever engine ran it."""

from __future__ import annotations

import os

__all__ = ["summary"]


def summary(
    enhanced: int, failed: int, output: str | os.PathLike, seconds: float, skipped: int = 0
) -> str:
    """The closing line: ``73 enhanced, 0 failed -> out/ in 56 s``.

    Example:
        >>> from pathlib import Path
        >>> summary(73, 0, Path("out"), 56.2)
        '73 enhanced, 0 failed -> out/ in 56 s'
        >>> summary(2, 1, Path("results/"), 3.14)
        '2 enhanced, 1 failed -> results/ in 3.1 s'
        >>> summary(500, 0, Path("out"), 754)
        '500 enhanced, 0 failed -> out/ in 12 min 34 s'
        >>> summary(3, 0, "s3://bucket/out", 9, skipped=70)
        '3 enhanced, 0 failed, 70 already there -> s3://bucket/out/ in 9.0 s'
    """
    folder = os.path.join(output, "")  # with one trailing separator
    counts = f"{enhanced} enhanced, {failed} failed"
    if skipped:
        counts += f", {skipped} already there"
    return f"{counts} -> {folder} in {_duration(seconds)}"


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
