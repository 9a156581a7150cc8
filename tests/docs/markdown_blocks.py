"""The fenced code blocks of the README and the documentation pages, and the commands in them,
for the tests that run or check them."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
# What a block's language says the tests do with it: run it, check it, or show it as it is.
LANGUAGES = {
    "python": "run as a script",
    "pycon": "run as a doctest",
    "bash": "commands checked against the CLI, the scripts and the extras",
    "yaml": "loaded as lowlight train options",
    "text": "shown as it is (output, layouts)",
}
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_SEPARATORS = {"&&", "||", ";", "|"}


@dataclass(frozen=True)
class Block:
    """A fenced code block: the page (relative to the repository), the line of its opening
    fence (from 1), its language and its code (without the list indentation around it)."""

    page: str
    line: int
    language: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    """The README and every Markdown page of the documentation."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """The fenced code blocks of one Markdown file, in order."""
    page = path.relative_to(REPO_ROOT).as_posix()
    found: list[Block] = []
    opening: re.Match | None = None
    start, lines = 0, []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(text)
        if opening is None:
            if match:
                opening, start, lines = match, number, []
            continue
        fence = opening["fence"]
        if match and match["fence"].startswith(fence) and not match["info"]:
            code = "".join(line.removeprefix(opening["indent"]) + "\n" for line in lines)
            found.append(Block(page, start, opening["info"], code))
            opening = None
        else:
            lines.append(text)
    return found


def all_blocks(language: str | None = None) -> list[Block]:
    """Every block of every page, or those of one language."""
    found = [block for path in pages() for block in blocks_of(path)]
    return [block for block in found if language is None or block.language == language]


def commands(code: str) -> list[list[str]]:
    """The simple commands of a shell block: lines joined where they end in a backslash,
    comments dropped, split at ``&&``, ``||``, ``;`` and ``|``, leading ``NAME=value``
    assignments dropped."""
    found = []
    for line in code.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token in _SEPARATORS:
                while command and re.fullmatch(r"[A-Za-z_]\w*=.*", command[0]):
                    command.pop(0)
                if command:
                    found.append(command)
                command = []
            else:
                command.append(token)
    return found
