"""The ``lowlight`` front door: help, version, subcommands, module entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lowlight import __version__
from lowlight.cli import COMMANDS, OPENMP_SPIN_COUNT, main


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"lowlight {__version__}"


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: lowlight" in capsys.readouterr().out


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "lowlight", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"lowlight {__version__}"


@pytest.mark.parametrize("given", [None, "300000"])
def test_openmp_threads_spin_briefly_unless_the_environment_says(given):
    # The count is read when PyTorch loads OpenMP, so it must be set before anything imports
    # torch: the CLI module itself does not, its subcommands do.
    script = (
        "import os, sys, lowlight.cli\n"
        "loaded = 'torch' in sys.modules\n"
        "lowlight.cli.main([])\n"
        "print(loaded, 'torch' in sys.modules, os.environ['GOMP_SPINCOUNT'])\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if given is not None:
        environment["GOMP_SPINCOUNT"] = given
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True
    )
    expected = given or OPENMP_SPIN_COUNT
    assert done.stdout.splitlines()[-1] == f"False True {expected}"
