"""``lowlight enhance`` on the whole corpus at once: one line per bad file, results for the
good ones, inputs untouched, exit status 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowlight import cli
from lowlight.imageio import read_image

ORIENTATION = 0x0112


def enhance(capsys: pytest.CaptureFixture, *args: str | Path) -> tuple[int, list[str]]:
    """Run ``lowlight enhance`` with PyTorch; the exit status and the lines it wrote to stderr
    after the first, which names the backend."""
    status = cli.main(["enhance", "--backend", "pytorch", *map(str, args)])
    backend, *lines = capsys.readouterr().err.strip().splitlines()
    assert backend.startswith("lowlight enhance: backend PyTorch"), backend
    return status, lines


def inputs_and_results(how: str, corpus) -> tuple[list[Path | str], dict[str, tuple[int, int]]]:
    """The inputs naming the whole corpus, and each good file's result name -> its size."""
    if how == "folder":
        return [corpus.root], dict(corpus.good)
    if how == "glob":
        return [str(corpus.root / "*")], dict(corpus.good)
    # Every entry named on the command line: a folder named like an image is searched as a
    # folder, so the files in it keep their names relative to it.
    results = {name.removeprefix("dir.png/"): size for name, size in corpus.good.items()}
    return sorted(corpus.root.iterdir()), results


@pytest.mark.parametrize("how", ["folder", "glob", "each name"])
def test_each_bad_file_gets_one_line_good_files_are_written_inputs_unchanged(
    corpus, deny_reading, fingerprint, files_below, weights_file, tmp_path, capsys, how
) -> None:
    before = fingerprint(corpus.root)
    deny_reading(corpus.path(corpus.unreadable))
    inputs, results = inputs_and_results(how, corpus)
    out = tmp_path / "out"

    status, lines = enhance(capsys, *inputs, "-o", out, "--weights", weights_file)

    assert status == 1
    assert not any("Traceback" in line for line in lines)
    total = len(corpus.good) + len(corpus.bad)
    assert lines[-1] == f"lowlight enhance: {len(corpus.bad)} of {total} images failed"
    assert len(lines) == len(corpus.bad) + 1, lines  # nothing else: one line per bad file
    for name, reason in corpus.bad.items():
        prefix = f"{corpus.path(name)}: "
        mentions = [line for line in lines if line.startswith(prefix)]
        assert len(mentions) == 1, (name, lines)
        assert reason in mentions[0], mentions[0]
    assert files_below(out) == set(results)  # nothing for a bad file, no temporary files
    for name, size in results.items():
        result = read_image(out / name)
        assert (result.height, result.width) == size, name
    assert fingerprint(corpus.root) == before


def test_results_keep_what_the_source_was(corpus, weights_file, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    status, _ = enhance(capsys, corpus.root, "-o", out, "--weights", weights_file)
    assert status == 1  # the bad files

    grey16 = read_image(out / "grey16.tif")
    assert grey16.is_greyscale and grey16.bit_depth == 16
    assert read_image(out / "rgb16.tif").bit_depth == 16
    assert read_image(out / "grey.png").is_greyscale
    assert read_image(out / "alpha.png").alpha is not None
    assert read_image(out / "palette.png").mode == "RGB"
    assert read_image(out / "cmyk.jpg").mode == "RGB"
    with Image.open(out / "rotated.jpg") as rotated:  # upright pixels, so no rotation tag
        assert rotated.size == (4, 8) and rotated.getexif().get(ORIENTATION, 1) == 1
    for name in corpus.good:  # every input went through the network
        assert not np.array_equal(read_image(out / name).rgb, read_image(corpus.path(name)).rgb)


def test_only_bad_files_exit_1_and_leave_no_output_folder(
    corpus, weights_file, tmp_path, capsys
) -> None:
    bad = [corpus.path(name) for name in sorted(corpus.bad) if name != corpus.unreadable]
    out = tmp_path / "out"
    status, lines = enhance(capsys, *bad, "-o", out, "--weights", weights_file)
    assert status == 1
    assert lines[-1] == f"lowlight enhance: {len(bad)} of {len(bad)} images failed"
    assert not out.exists()  # no result, so no (empty) output folder either


def test_the_bomb_is_refused_from_its_header(corpus, weights_file, tmp_path, capsys) -> None:
    # It declares 50000 x 50000: decoding would need about 7.5 GB; refusing it needs none.
    bomb = corpus.path("bomb.png")
    status, lines = enhance(capsys, bomb, "-o", tmp_path / "out", "--weights", weights_file)
    assert status == 1
    assert lines[0].startswith(f"{bomb}: refused") and "2500000000 pixels" in lines[0]


def test_a_broken_link_is_reported_like_a_bad_file(
    corpus, files_below, weights_file, tmp_path, capsys
) -> None:
    dangling = corpus.path("gone.png")
    dangling.symlink_to("deleted.png")
    out = tmp_path / "out"
    status, lines = enhance(
        capsys, dangling, corpus.path("grey.png"), "-o", out, "--weights", weights_file
    )
    assert status == 1
    assert lines[0] == f"{dangling}: broken symbolic link to deleted.png"
    assert files_below(out) == {"grey.png"}


def test_libraw_complaints_end_up_in_the_files_one_line(
    corpus, weights_file, tmp_path, capfd
) -> None:
    # LibRaw prints "Unexpected end of file" to the process's stderr itself, from C.
    if "truncated.dng" not in corpus.bad:
        pytest.skip("needs lowlight[formats]")
    dng = corpus.path("truncated.dng")
    options = ["-q", "--backend", "pytorch", "--weights", str(weights_file)]
    status = cli.main(["enhance", *options, str(dng), "-o", str(tmp_path / "out")])
    lines = capfd.readouterr().err.strip().splitlines()
    assert status == 1
    assert lines == [
        f"{dng}: LibRaw cannot read this camera RAW file: it is cut short or damaged "
        "(Unexpected end of file; Input/output error)",
        "lowlight enhance: 1 of 1 images failed",
    ]
