"""Shared fixtures: weights files of a fresh and of a briefly trained model, their ONNX export,
a tiny paired dataset, and where the LOL data lives, if it is present on this machine.

The data is not part of the project. It is looked for in ``$LOWLIGHT_DATA`` (a folder holding
``lol-v1/``) and otherwise in ``../shared/data`` next to the repository; tests that need it skip
cleanly where it is absent.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight.cli import main
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.weights import load_model, save_weights

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised model (seed 0) saved as safetensors; read it, never change it."""
    with torch.random.fork_rng():  # the seed stays out of the other tests' random state
        torch.manual_seed(0)
        model = UnifiedLowLightEnhancer()
    path = tmp_path_factory.mktemp("weights") / "fresh.safetensors"
    save_weights(model, path)
    return path


HEIGHT, WIDTH = 40, 48
# Pair names written by ``write_pairs``; the targets of the LINKED names are symlinks to another
# name's target, so each linked name is one scene with its target.
PAIR_NAMES = ("1", "2", "3", "4", "5", "6")
LINKED = {"5": "1", "6": "2"}


def write_pairs(root: Path, seed: int = 0) -> Path:
    """``root/low`` and ``root/high``: 40x48 PNG pairs, low a dark noisy copy of high."""
    rng = np.random.default_rng(seed)
    (root / "low").mkdir(parents=True, exist_ok=True)
    (root / "high").mkdir(parents=True, exist_ok=True)
    targets: dict[str, np.ndarray] = {}
    for name in PAIR_NAMES:
        if name in LINKED:
            os.symlink(f"{LINKED[name]}.png", root / "high" / f"{name}.png")
            high = targets[LINKED[name]]
        else:
            # A smooth colourful gradient plus texture, so SSIM and saturation are meaningful.
            y, x = np.mgrid[0:HEIGHT, 0:WIDTH] / max(HEIGHT, WIDTH)
            base = np.stack([x, y, 1.0 - x], axis=-1) * 180 + 40
            high = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
            targets[name] = high
            Image.fromarray(high).save(root / "high" / f"{name}.png")
        noise = rng.normal(0, 3, high.shape)
        low = np.clip(high.astype(np.float64) * 0.12 + noise, 0, 255).astype(np.uint8)
        Image.fromarray(low).save(root / "low" / f"{name}.png")
    return root


@pytest.fixture
def pair_data(tmp_path: Path) -> Path:
    """A data folder (``tmp_path``) with ``low/`` and ``high/``: six pairs, four scenes."""
    return write_pairs(tmp_path)


@pytest.fixture(scope="session")
def trained_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``best.safetensors`` of a one-epoch ``lowlight train`` run on ``write_pairs`` data;
    read it, never change it."""
    data = write_pairs(tmp_path_factory.mktemp("pairs"))
    run = tmp_path_factory.mktemp("trained") / "run"
    options = ["--stage-epochs", "1,0,0", "--batch-size", "2", "--threads", "1"]
    assert main(["train", "--data", str(data), "--out", str(run), *options]) == 0
    return run / "best.safetensors"


@pytest.fixture(scope="session")
def exported_onnx(
    trained_weights: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """``lowlight export`` of ``trained_weights``: the ONNX file and what the command printed.

    Made once per session (an export takes seconds); skips without the ``onnx`` extra."""
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("onnx") / "trained.onnx"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["export", "-o", str(path), "--weights", str(trained_weights)])
    assert status == 0
    return path, printed.getvalue()


@pytest.fixture(scope="session")
def trained_onnx_cached(exported_onnx: tuple[Path, str], trained_weights: Path) -> Path:
    """The export of ``trained_weights``, placed in the session's cache where the onnxruntime
    backend looks for it, so that backend tests need no export of their own."""
    from lowlight.export import cached_onnx_path

    path = cached_onnx_path(load_model(trained_weights))
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(exported_onnx[0], path)
    return path


def data_root() -> Path:
    """The folder that holds the datasets (it may not exist)."""
    override = os.environ.get("LOWLIGHT_DATA")
    if override:
        return Path(override).expanduser()
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def lol_root() -> Path:
    """The ``lol-v1`` folder (with ``eval15/`` and ``train/``), or skip the test."""
    root = data_root() / "lol-v1"
    if not root.is_dir():
        pytest.skip(f"LOL-v1 data not found at {root} (set LOWLIGHT_DATA to the data folder)")
    return root


@pytest.fixture(scope="session")
def eval15_root(lol_root: Path) -> Path:
    """The LOL-v1 test set folder ``eval15/`` (``low/`` and ``high/``), or skip the test."""
    root = lol_root / "eval15"
    if not (root / "low").is_dir() or not (root / "high").is_dir():
        pytest.skip(f"LOL-v1 eval15 not found at {root}")
    return root


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """ONNX exports made on first use go to a folder of this session's, never the user's
    cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOWLIGHT_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tests run tiny forward passes: they gain nothing from threads and lose much on a
    shared machine. Code under test that sets its own thread count (the trainer's
    ``threads``) still does."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def read_metrics_csv(run: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a training run's ``metrics.csv``, as strings."""
    with open(Path(run) / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def read_metrics():
    """``read_metrics(run)``: the rows of the run folder's ``metrics.csv``."""
    return read_metrics_csv


def no_space(filename: str | os.PathLike | None = None) -> OSError:
    """The error a write to a full disk raises."""
    name = None if filename is None else os.fspath(filename)
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)


@pytest.fixture(name="no_space")
def no_space_fixture():
    """``no_space(filename=None)``: the ``OSError`` a write to a full disk raises."""
    return no_space


class _FillingFile:
    """A file on a disk with ``room[0]`` bytes left: the write that does not fit writes what
    fits, then raises ENOSPC, as a real full disk does."""

    def __init__(self, handle, room: list[int]) -> None:
        self._handle, self._room = handle, room

    def write(self, data) -> int:
        data = bytes(data)
        if len(data) > self._room[0]:
            self._handle.write(data[: self._room[0]])
            self._handle.flush()
            self._room[0] = 0
            raise no_space()
        self._room[0] -= len(data)
        return self._handle.write(data)

    def fileno(self) -> int:
        # Without a descriptor, Pillow's encoders write through write() like everyone else.
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.close()


@pytest.fixture
def fill_disk(monkeypatch: pytest.MonkeyPatch):
    """``fill_disk(room, name=None, after=0)``: from now on, files written through
    ``os.fdopen`` (how lowlight's atomic writes open their temporary files) share ``room``
    bytes, then hit ENOSPC. With ``name``, only the temporary files written for a file of that
    name (``.NAME.*``) fill, and the first ``after`` of them are written in full."""

    def fill(room: int, name: str | None = None, after: int = 0) -> None:
        left = [room]
        real_fdopen, real_mkstemp = os.fdopen, tempfile.mkstemp
        names: dict[int, str] = {}  # descriptor of a temporary file -> its file name
        matched = [0]

        def mkstemp(*args, **kwargs):
            fd, path = real_mkstemp(*args, **kwargs)
            names[fd] = os.path.basename(path)
            return fd, path

        def fills(fd: int) -> bool:
            if name is None:
                return True
            if not names.pop(fd, "").startswith(f".{name}."):
                return False
            matched[0] += 1
            return matched[0] > after

        def fdopen(fd, mode="r", *args, **kwargs):
            handle = real_fdopen(fd, mode, *args, **kwargs)
            return _FillingFile(handle, left) if "w" in mode and fills(fd) else handle

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(os, "fdopen", fdopen)

    return fill


@pytest.fixture
def record_bars(monkeypatch: pytest.MonkeyPatch):
    """``record_bars(module)``: from now on ``module.tqdm`` draws its bars into memory, as
    on a terminal, and returns the list that collects each bar's keyword arguments, with
    the bar itself under ``"bar"``."""
    from tqdm import tqdm

    def record(module) -> list[dict]:
        bars: list[dict] = []

        class RecordingBar(tqdm):
            def __init__(self, *args, **kwargs) -> None:
                bars.append(kwargs)
                super().__init__(*args, **{**kwargs, "disable": False, "file": io.StringIO()})
                kwargs["bar"] = self

        monkeypatch.setattr(module, "tqdm", RecordingBar)
        return bars

    return record
