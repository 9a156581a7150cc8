"""The one exception type a user of lowlight can hit."""

from __future__ import annotations

__all__ = ["LowlightError"]


class LowlightError(Exception):
    """A problem the user can fix: bad path, unreadable image, invalid config.

    The message says what went wrong and what to do; the CLI prints it without a traceback
    and exits with status 2.
    """
