"""Every ``>>>`` example in the package's docstrings runs, and shows what it says it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lowlight


def _modules() -> list[str]:
    names = [lowlight.__name__]
    for info in pkgutil.walk_packages(lowlight.__path__, prefix=f"{lowlight.__name__}."):
        if not info.name.endswith(".__main__"):  # importing it runs the CLI
            names.append(info.name)
    return sorted(names)


MODULES = _modules()
# Modules of an optional extra import its packages; without them their examples cannot run.
OPTIONAL_PACKAGES = frozenset({"gradio", "gradio_client"})


def _import(name: str):
    """The module, or None when it needs an optional package that is not installed."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in OPTIONAL_PACKAGES:
            return None
        raise


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = _import(name)
    if module is None:
        pytest.skip(f"{name} needs an optional extra that is not installed")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name):
        for example in test.examples:
            skipped = example.options.get(doctest.SKIP, False)
            assert not skipped, f"{test.name}: an example that never runs: {example.source!r}"
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of {name} failed"


def test_the_examples_are_found() -> None:
    finder = doctest.DocTestFinder(exclude_empty=True)
    count = sum(
        len(test.examples)
        for name in MODULES
        if (module := _import(name)) is not None
        for test in finder.find(module, name)
    )
    assert count >= 19
