"""``lowlight enhance``: folders, globs, names, safety of inputs, per-file errors, exit codes."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lowlight import cli, weights
from lowlight.commands import enhance as enhance_command
from lowlight.imageio import read_image


def _dark(shape: tuple[int, ...], seed: int = 0, dtype=np.uint8) -> np.ndarray:
    peak = np.iinfo(dtype).max
    values = np.random.default_rng(seed).uniform(0, 0.15, shape)
    return np.round(values * peak).astype(dtype)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """in/a.png, in/sub/b.jpg (greyscale), in/sub/deeper/c.png (16-bit RGBA), a text file
    and a hidden image."""
    root = tmp_path / "in"
    (root / "sub" / "deeper").mkdir(parents=True)
    Image.fromarray(_dark((20, 28, 3), 1)).save(root / "a.png")
    Image.fromarray(_dark((22, 18), 2)).save(root / "sub" / "b.jpg")
    from lowlight.imageio import ImageData, write_image

    rgba16 = _dark((16, 24, 4), 3, np.uint16) / np.float32(65535)
    write_image(
        root / "sub" / "deeper" / "c.png",
        ImageData(rgb=rgba16[..., :3], alpha=rgba16[..., 3] + 0.5, bit_depth=16, mode="RGBA"),
    )
    (root / "notes.txt").write_text("not an image")
    Image.fromarray(_dark((8, 8, 3), 4)).save(root / ".hidden.png")
    return root


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def _run(*args: str | Path) -> int:
    # The command's handling of files, on the reference backend; tests/test_runners.py runs
    # it with ONNX Runtime.
    return cli.main(["enhance", "--backend", "pytorch", *map(str, args)])


def test_folder_recursion_keeps_relative_names_and_inputs(photos, weights_file, tmp_path):
    before = _fingerprint(photos)
    out = tmp_path / "out"
    assert _run(photos, "-o", out, "--weights", weights_file) == 0
    assert _files(out) == {"a.png", "sub/b.jpg", "sub/deeper/c.png"}
    assert _fingerprint(photos) == before

    grey = read_image(out / "sub" / "b.jpg")
    assert grey.is_greyscale and (grey.height, grey.width) == (22, 18)
    deep = read_image(out / "sub" / "deeper" / "c.png")
    assert deep.bit_depth == 16 and deep.alpha is not None
    source_alpha = read_image(photos / "sub" / "deeper" / "c.png").alpha
    np.testing.assert_array_equal(deep.alpha, source_alpha)
    assert not np.array_equal(read_image(out / "a.png").rgb, read_image(photos / "a.png").rgb)


def test_glob_patterns_and_single_files(photos, weights_file, tmp_path):
    out = tmp_path / "out"
    pattern = str(photos / "**" / "*.png")
    assert _run(pattern, photos / "sub" / "b.jpg", "-o", out, "--weights", weights_file) == 0
    assert _files(out) == {"a.png", "sub/deeper/c.png", "b.jpg"}


def test_format_option_changes_the_extension(photos, weights_file, tmp_path):
    out = tmp_path / "out"
    assert _run(photos / "sub", "-o", out, "--format", "tif", "--weights", weights_file) == 0
    assert _files(out) == {"b.tif", "deeper/c.tif"}
    assert read_image(out / "deeper" / "c.tif").bit_depth == 16


def test_output_folder_equal_to_an_input_folder_is_refused(photos, weights_file, capsys):
    before = _fingerprint(photos)
    assert _run(photos, "-o", photos, "--weights", weights_file) == 2
    assert "also an input folder" in capsys.readouterr().err
    assert _fingerprint(photos) == before


def test_allow_same_folder_never_overwrites_inputs(photos, weights_file):
    before = _fingerprint(photos)
    assert _run(photos, "-o", photos, "--allow-same-folder", "--weights", weights_file) == 0
    after = _fingerprint(photos)
    assert {name: after[name] for name in before} == before
    assert set(after) - set(before) == {
        "a-enhanced.png",
        "sub/b-enhanced.jpg",
        "sub/deeper/c-enhanced.png",
    }


def test_a_corrupt_file_gives_one_line_and_exit_1(photos, weights_file, tmp_path, capsys):
    (photos / "sub" / "broken.png").write_bytes((photos / "a.png").read_bytes()[:60])
    out = tmp_path / "out"
    assert _run(photos, "-o", out, "--weights", weights_file) == 1
    assert _files(out) == {"a.png", "sub/b.jpg", "sub/deeper/c.png"}
    errors = capsys.readouterr().err.strip().splitlines()
    broken = [line for line in errors if "broken.png" in line]
    assert len(broken) == 1 and broken[0].startswith(f"{photos / 'sub' / 'broken.png'}: ")
    assert "Traceback" not in "\n".join(errors)
    assert errors[-1] == "lowlight enhance: 1 of 4 images failed"


def test_the_model_is_loaded_once(photos, weights_file, tmp_path, monkeypatch):
    calls = []
    load_model = weights.load_model

    def counting_load_model(*args, **kwargs):
        calls.append(args)
        return load_model(*args, **kwargs)

    monkeypatch.setattr(weights, "load_model", counting_load_model)
    assert _run(photos, "-o", tmp_path / "out", "--weights", weights_file) == 0
    assert len(calls) == 1


def test_an_output_folder_inside_the_input_is_not_read_back(photos, weights_file):
    out = photos / "enhanced"
    assert _run(photos, "-o", out, "--weights", weights_file) == 0
    assert _run(photos, "-o", out, "--weights", weights_file) == 0
    assert _files(out) == {"a.png", "sub/b.jpg", "sub/deeper/c.png"}
    assert not [name for name in os.listdir(out) if name.startswith(".")]  # no temp files


def test_two_inputs_with_one_output_name_are_refused(photos, weights_file, tmp_path, capsys):
    Image.fromarray(_dark((8, 8, 3))).save(photos / "sub" / "a.png")
    args = (photos / "a.png", photos / "sub" / "a.png", "-o", tmp_path / "out")
    assert _run(*args, "--weights", weights_file) == 2
    assert "would both be written to" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing_folder"], "input not found"),
        (["*.nothing"], "no image files match"),
        (["--tile", "8"], "at least 32"),
        (["--format", "xyz"], "cannot write .xyz files"),
        (["--weights", "absent.safetensors"], "weights file not found"),
        (["--strength", "1.5"], "strength must be between 0 and 1"),
        (["--exposure", "12"], "exposure must be between"),
    ],
)
def test_usage_errors_exit_2(photos, weights_file, tmp_path, capsys, arguments, message):
    inputs = [] if arguments[0].startswith("--") else [str(tmp_path / arguments[0])]
    options = [] if inputs else arguments
    if "--weights" not in options:
        options += ["--weights", str(weights_file)]
    code = _run(*(inputs or [photos]), "-o", tmp_path / "out", *options)
    assert code == 2
    assert message in capsys.readouterr().err


def test_an_output_path_that_is_a_file_exits_2(photos, weights_file, tmp_path, capsys):
    (tmp_path / "taken").write_text("a file")
    assert _run(photos, "-o", tmp_path / "taken", "--weights", weights_file) == 2
    assert "not a folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_an_unwritable_output_folder_exits_2(photos, weights_file, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert _run(photos, "-o", locked, "--weights", weights_file) == 2
    assert "not writable" in capsys.readouterr().err


def test_exposure_and_strength_reach_every_result(photos, weights_file, tmp_path):
    from lowlight import enhance, load_model

    model = load_model(weights_file)
    out = tmp_path / "out"
    assert _run(photos / "a.png", "-o", out, "--weights", weights_file, "--exposure", "1",
                "--strength", "0.5") == 0  # fmt: skip
    source = np.array(Image.open(photos / "a.png"))
    expected = enhance(source, model=model, exposure=1.0, strength=0.5)
    assert np.array_equal(np.array(Image.open(out / "a.png")), expected)
    assert _run(photos / "a.png", "-o", tmp_path / "same", "--weights", weights_file,
                "--strength", "0") == 0  # fmt: skip
    assert np.array_equal(np.array(Image.open(tmp_path / "same" / "a.png")), source)


SUMMARY = r"(\d+) enhanced, (\d+) failed -> (.+) in \d+(\.\d)? s"


def test_a_summary_line_ends_the_output(photos, weights_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(photos, "-o", out, "--weights", weights_file) == 0
    captured = capsys.readouterr()
    last = captured.out.strip().splitlines()[-1]
    assert re.fullmatch(SUMMARY, last).groups()[:3] == ("3", "0", f"{out}{os.sep}"), last
    # No terminal here: no bar, only the line naming the backend.
    assert (
        captured.err == f"lowlight enhance: backend PyTorch {torch.__version__} (cpu, 1 thread)\n"
    )


def test_the_summary_counts_failures_too(photos, weights_file, tmp_path, capsys):
    (photos / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    assert _run(photos, "-o", out, "--weights", weights_file) == 1
    captured = capsys.readouterr()
    last = captured.out.strip().splitlines()[-1]
    assert re.fullmatch(SUMMARY, last).groups()[:3] == ("3", "1", f"{out}{os.sep}"), last
    assert captured.err.strip().splitlines()[-1] == "lowlight enhance: 1 of 4 images failed"


def test_quiet_prints_neither_bar_nor_summary(photos, weights_file, tmp_path, capsys):
    assert _run(photos, "-o", tmp_path / "out", "--weights", weights_file, "--quiet") == 0
    assert capsys.readouterr() == ("", "")
    assert _files(tmp_path / "out") == {"a.png", "sub/b.jpg", "sub/deeper/c.png"}


@pytest.mark.parametrize(("options", "disable"), [((), None), (("-q",), True)])
def test_the_bar_runs_over_the_files_on_a_terminal(
    photos, weights_file, tmp_path, record_bars, options, disable
):
    bars = record_bars(enhance_command)
    assert _run(photos, "-o", tmp_path / "out", "--weights", weights_file, *options) == 0
    [settings] = [bar for bar in bars if bar.get("desc") == "enhance"]
    # tqdm's disable=None draws the bar only when its stream is a terminal.
    assert settings["disable"] is disable and settings["total"] == 3
    assert settings["bar"].n == 3 and settings["unit"] == "image"


def test_skip_existing_resumes_a_stopped_run(photos, weights_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(photos, "-o", out, "--weights", weights_file) == 0
    done = {name: (out / name).stat().st_mtime_ns for name in ("a.png", "sub/b.jpg")}
    (out / "sub" / "deeper" / "c.png").unlink()  # as if the run had stopped before it
    capsys.readouterr()
    assert _run(photos, "-o", out, "--weights", weights_file, "--skip-existing") == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"1 enhanced, 0 failed, 2 already there -> {out}{os.sep} in ")
    assert {name: (out / name).stat().st_mtime_ns for name in done} == done
    assert _files(out) == {"a.png", "sub/b.jpg", "sub/deeper/c.png"}


def test_skip_existing_with_everything_done_loads_no_model(
    photos, weights_file, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    assert _run(photos, "-o", out, "--weights", weights_file) == 0
    capsys.readouterr()
    monkeypatch.setattr(weights, "load_model", None)  # any load would fail
    assert _run(photos, "-o", out, "--weights", weights_file, "--skip-existing") == 0
    assert capsys.readouterr().out.startswith("0 enhanced, 0 failed, 3 already there -> ")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--ray-address", "head:6379"], "--ray-address is an option of --engine ray"),
        (["--num-gpus-per-worker", "1"], "--num-gpus-per-worker is an option of --engine ray"),
        (["--engine", "ray", "--device", "cuda"], "--num-gpus-per-worker N, not --device"),
        (["-o", "s3://bucket/out"], "s3://bucket/out is a URI: URIs are read and written with"),
    ],
)
def test_ray_options_belong_to_the_ray_engine(photos, tmp_path, capsys, arguments, message):
    output = [] if "-o" in arguments else ["-o", tmp_path / "out"]
    assert _run(photos, *output, *arguments) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_ray_engine_without_ray_says_what_to_install(photos, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is absent
    assert _run(photos, "-o", tmp_path / "out", "--engine", "ray") == 2
    assert 'needs ray, which is not installed: pip install "lowlight[ray]"' in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()
