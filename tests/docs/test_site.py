"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a missing
anchor, a page left out of the nav or a docstring that does not match its signature fails it),
reads offline, and its API reference lists every public name of ``lowlight`` with its
docstring."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_blocks import DOCS, REPO_ROOT

import lowlight

pytest.importorskip("mkdocs", reason="the site needs the docs extra: pip install -e '.[docs]'")
pytest.importorskip("material", reason="the site needs the docs extra: pip install -e '.[docs]'")
pytest.importorskip("mkdocstrings_handlers.python", reason="the site needs the docs extra")
griffe = pytest.importorskip("griffe")

REFERENCE = DOCS / "reference"
# An address in an attribute or CSS function that makes a browser fetch it from elsewhere.
_REMOTE_LOAD = re.compile(
    r"""(?:\b(?:src|srcset|poster|data)\s*=\s*["']?|<link\b[^>]*\bhref\s*=\s*["']?"""
    r"""|url\(\s*["']?|@import\s+["']?)"""
    r"""\s*(?:https?:)?//""",
    re.IGNORECASE,
)
_ANCHOR = re.compile(r'\bid="([\w.]+)"')


def modules() -> list[str]:
    """Every module of the package but ``__main__`` (importing it runs the CLI)."""
    found = [lowlight.__name__]
    for info in pkgutil.walk_packages(lowlight.__path__, prefix=f"{lowlight.__name__}."):
        if not info.name.endswith(".__main__"):
            found.append(info.name)
    return sorted(found)


def public_names() -> list[tuple[str, str]]:
    """(module, name) for every name in every module's ``__all__``."""
    return [
        (module, name)
        for module in modules()
        for name in getattr(importlib.import_module(module), "__all__", ())
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built with ``mkdocs build --strict`` into a temporary folder."""
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}"
    return folder


@pytest.fixture(scope="module")
def anchors(site: Path) -> set[str]:
    """The ids of every heading of the API reference's pages."""
    pages = (site / "reference").rglob("*.html")
    return {anchor for page in pages for anchor in _ANCHOR.findall(page.read_text("utf-8"))}


@pytest.fixture(scope="module")
def package():
    """The package as mkdocstrings sees it: loaded from the source by griffe."""
    return griffe.load("lowlight", search_paths=[str(REPO_ROOT / "src")], docstring_parser="google")


def test_every_page_is_built(site: Path) -> None:
    for page in DOCS.rglob("*.md"):
        relative = page.relative_to(DOCS).with_suffix("")
        built = site / (relative.as_posix() + ".html")
        assert built.is_file(), f"{page} was not built"


def test_the_site_reads_offline(site: Path) -> None:
    """Nothing is fetched from elsewhere when a page is opened: no fonts, scripts, styles or
    pictures from the internet."""
    for page in site.rglob("*.html"):
        remote = _REMOTE_LOAD.search(page.read_text("utf-8"))
        assert remote is None, f"{page.relative_to(site)} loads {remote.group(0)!r}..."


def test_every_module_has_a_reference(anchors: set[str]) -> None:
    missing = sorted(set(modules()) - anchors)
    assert not missing, (
        f"modules without a reference page: {', '.join(missing)}; add '::: MODULE' to the "
        f"page of its package under {REFERENCE.relative_to(REPO_ROOT)}/"
    )


def documented(package, module: str, name: str):
    """griffe's view of ``module.name``: where it is defined, and its docstring."""
    owner = package if module == "lowlight" else package[module.removeprefix("lowlight.")]
    return owner[name]


def test_every_public_name_is_in_the_reference(anchors: set[str], package) -> None:
    """Each name is listed where it is defined; the names of ``lowlight`` itself are also
    listed under ``lowlight.``, its reference's first page."""
    missing = []
    for module, name in public_names():
        found = documented(package, module, name)
        path = found.path if module == "lowlight" else found.canonical_path
        if path not in anchors:
            missing.append(f"{module}.{name} ({path})")
    assert not missing, f"public names the API reference does not list: {', '.join(missing)}"


def test_every_public_name_has_a_docstring(package) -> None:
    undocumented = []
    for module, name in public_names():
        docstring = documented(package, module, name).docstring
        if docstring is None or not docstring.value.strip():
            undocumented.append(f"{module}.{name}")
    assert not undocumented, f"public names without a docstring: {', '.join(undocumented)}"


def test_the_reference_shows_the_docstrings(site: Path) -> None:
    page = (site / "reference" / "index.html").read_text("utf-8")
    assert "Enhance one image and return it as the same kind of object." in page
    assert "Build the enhancer from a safetensors file" in page
