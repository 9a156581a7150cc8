"""The line ``lowlight enhance --quality auto`` says once per run: which quality pictures get."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lowlight.imageio.batch import is_video
from lowlight.inference import AUTO_FAST_RATIO, choose_quality

__all__ = ["QualityNote", "auto_rule"]


def auto_rule(working_size: int) -> str:
    """The rule of ``--quality auto`` for ``working_size``, in words.

    Example:
        >>> auto_rule(768)
        'fast for pictures over 1152 pixels long, full for the others'
    """
    return f"fast for pictures over {_threshold(working_size)} pixels long, full for the others"


class QualityNote:
    """Says once per run, on the first picture, which quality ``--quality auto`` gave it and
    the rule it follows; silent for a quality that was asked for.

    Example:
        >>> note = QualityNote("auto", print)
        >>> note(Path("IMG_1.jpg"), 3024, 4032, working_size=768)
        quality auto: fast for IMG_1.jpg (4032x3024) and all pictures over 1152 pixels long
        >>> note(Path("small.png"), 400, 600, working_size=768)
    """

    def __init__(self, quality: str, say: Callable[[str], None]) -> None:
        self.quality, self.say = quality, say
        self.said = quality != "auto"

    def __call__(self, source: Path, height: int, width: int, working_size: int) -> None:
        """Note the quality of the picture or clip ``source`` (``height`` x ``width``
        pixels) at ``working_size``, if it is the run's first."""
        if self.said:
            return
        self.said = True
        chosen = choose_quality(height, width, self.quality, working_size)
        which = "over" if chosen == "fast" else "up to"
        kind = "clips" if is_video(source) else "pictures"
        self.say(
            f"quality auto: {chosen} for {source.name} ({width}x{height}) and all {kind} "
            f"{which} {_threshold(working_size)} pixels long"
        )


def _threshold(working_size: int) -> int:
    """The longest side, in pixels, that ``--quality auto`` renders in full."""
    return round(AUTO_FAST_RATIO * working_size)
