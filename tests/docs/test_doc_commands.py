"""Every command in the shell blocks of the README and the documentation still works as
written: ``lowlight`` commands (also under ``torchrun``) parse with the CLI's own parser, the
scripts they run exist and take the options given, and ``pip install`` names real extras."""

from __future__ import annotations

import contextlib
import io
import re
from importlib.metadata import metadata

import pytest
from markdown_blocks import LANGUAGES, REPO_ROOT, Block, all_blocks, commands

from lowlight.cli import build_parser

SHELL_BLOCKS = all_blocks("bash")
# The extras of the installed lowlight (pip install -e . reads them from pyproject.toml).
EXTRAS = set(metadata("lowlight").get_all("Provides-Extra") or ())
_EXTRAS_NAMED = re.compile(r"^(?:\.|lowlight)\[(?P<extras>[\w,-]+)\]$")


def parse_error(argv: list[str]) -> str | None:
    """What the CLI's parser says about ``argv`` when it refuses it, else None."""
    said = io.StringIO()
    with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exit:
            return said.getvalue().strip() or f"exit status {exit.code}"
    return None


def problem(command: list[str]) -> str | None:
    """What is wrong with one command of a shell block, or None."""
    name, *args = command
    if name == "lowlight":
        return parse_error(args)
    if name == "torchrun":
        if "-m" not in args or args[args.index("-m") + 1] != "lowlight":
            return "torchrun runs something other than '-m lowlight'"
        return parse_error(args[args.index("-m") + 2 :])
    if name in ("python", "python3") and args and args[0].endswith(".py"):
        script = REPO_ROOT / args[0]
        if not script.is_file():
            return f"{args[0]} does not exist"
        source = script.read_text(encoding="utf-8")
        options = [arg.split("=")[0] for arg in args[1:] if arg.startswith("--")]
        unknown = [option for option in options if f'"{option}"' not in source]
        return f"{args[0]} takes no {', '.join(unknown)}" if unknown else None
    if name == "pip" and args[:1] == ["install"]:
        for arg in args[1:]:
            match = _EXTRAS_NAMED.match(arg)
            named = set(match["extras"].split(",")) if match else set()
            if named - EXTRAS:
                return f"no extra {', '.join(sorted(named - EXTRAS))} in lowlight"
        return None
    if name.startswith(("scripts/", "benchmarks/")) and not (REPO_ROOT / name).is_file():
        return f"{name} does not exist"
    return None


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda block: block.where)
def test_shell_commands_work_as_written(block: Block) -> None:
    found = [(command, problem(command)) for command in commands(block.code)]
    wrong = [f"{' '.join(command)}: {said}" for command, said in found if said]
    assert not wrong, f"{block.where}:\n" + "\n".join(wrong)


def test_the_commands_are_found() -> None:
    lowlight_commands = [
        command
        for block in SHELL_BLOCKS
        for command in commands(block.code)
        if command[0] in ("lowlight", "torchrun")
    ]
    assert len(lowlight_commands) >= 40
    assert {command[1] for command in lowlight_commands if command[0] == "lowlight"} == {
        "enhance",
        "evaluate",
        "export",
        "serve",
        "train",
    }


def test_a_wrong_option_is_caught() -> None:
    assert "unrecognized arguments: --brightness" in problem(
        ["lowlight", "enhance", "a.jpg", "-o", "out", "--brightness", "2"]
    )
    assert problem(["python", "benchmarks/enhance_speed.py", "--runs", "3"]) is None
    assert "takes no --laps" in problem(["python", "benchmarks/enhance_speed.py", "--laps", "3"])
    assert "no extra gui" in problem(["pip", "install", "-e", ".[app,gui]"])


def test_every_block_says_what_it_is() -> None:
    unknown = [block.where for block in all_blocks() if block.language not in LANGUAGES]
    assert not unknown, (
        f"fenced blocks without one of the languages {', '.join(LANGUAGES)} (which tell the "
        f"tests how to check them): {', '.join(unknown)}"
    )
