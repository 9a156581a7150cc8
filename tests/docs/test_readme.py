"""The README a newcomer reads: short, its first lines the two commands to run (the first one
working on the bundled samples, the second the one CI runs), links that lead somewhere, and
results that are what the benchmarks wrote."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from markdown_blocks import README, REPO_ROOT, blocks_of, commands
from PIL import Image

MAX_LINES = 120
RESULTS = REPO_ROOT / "benchmarks" / "results"
FIRST_COMMAND_END = "lowlight enhance samples -o enhanced"
_LINK = re.compile(r"\]\((?!https?://|#)([^)\s]+)\)")


def readme() -> str:
    return README.read_text(encoding="utf-8")


def first_commands() -> list[str]:
    """The command lines (not the comments) of the README's first code block."""
    code = blocks_of(README)[0].code
    return [line for line in code.splitlines() if line.strip() and not line.startswith("#")]


def test_the_readme_is_short() -> None:
    lines = readme().splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines; keep it to {MAX_LINES}"


def test_the_first_lines_are_the_two_commands() -> None:
    first = blocks_of(README)[0]
    assert first.line <= 5, "the README's first code block should follow its title and tagline"
    install_and_enhance, install_and_test = first_commands()
    assert install_and_enhance.endswith(FIRST_COMMAND_END)
    assert install_and_test.endswith("ruff check . && pytest")


def test_ci_runs_the_readme_s_test_command() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, install_and_test = first_commands()
    assert install_and_test in ci.splitlines(), ".ci/run must run the README's test command"


def test_the_first_command_enhances_the_samples(tmp_path: Path) -> None:
    """The first command's enhancing part, on a copy of the repository's samples."""
    install_and_enhance, _ = first_commands()
    [*_, enhance] = commands(install_and_enhance)
    assert enhance == FIRST_COMMAND_END.split()
    shutil.copytree(REPO_ROOT / "samples", tmp_path / "samples")
    done = subprocess.run(
        [sys.executable, "-m", "lowlight", *enhance[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    samples = sorted((tmp_path / "samples").glob("*.png"))
    assert len(samples) == 5
    for sample in samples:
        dark = np.asarray(Image.open(sample).convert("RGB"), dtype=float)
        bright = np.asarray(Image.open(tmp_path / "enhanced" / sample.name).convert("RGB"))
        assert bright.mean() > 2 * dark.mean(), sample.name
    assert done.stdout.strip().splitlines()[-1].startswith("5 enhanced, 0 failed -> enhanced")


def test_the_links_lead_somewhere() -> None:
    targets = _LINK.findall(readme())
    assert len(targets) >= 10
    missing = [target for target in targets if not (REPO_ROOT / target.split("#")[0]).exists()]
    assert not missing, f"README.md links to files that do not exist: {', '.join(missing)}"


def _json(name: str) -> dict:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def quality_row(label: str, eval15: dict, exposure: dict) -> str:
    """The README's quality row of one model, from what the benchmarks wrote."""
    mean, well = eval15["mean"], exposure["well_exposed"]
    return (
        f"| {label} | {mean['psnr']:.2f} / {mean['ssim']:.3f} | "
        f"{mean['psnr_gt_mean']:.2f} / {mean['ssim_gt_mean']:.3f} | "
        f"{well['psnr']:.2f} dB, {well['added_clipped_points']:+.2f} pts |"
    )


def speed_cell(case: dict) -> str:
    seconds = case["median_s"]
    time = f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{time}, {case['peak_rss_mb'] / 1024:.1f} GB"


def real_photo_cells(summary: dict) -> str:
    """NIQE / grey / clipped / near-white / crushed, as ``benchmarks/real_photos.py`` prints."""
    return (
        f"{summary['niqe']:.2f} / {summary['grey']:.3f} / {100 * summary['clipped']:.1f} % / "
        f"{100 * summary['near_white']:.1f} % / {100 * summary['crushed']:.1f} %"
    )


def real_photo_row(label: str, real_photos: dict, model: str) -> str:
    """The README's real-dark row of one model (dark, mid and all photos), from the JSON."""
    groups = real_photos["real_dark"]["models"][model]
    cells = " | ".join(real_photo_cells(groups[g]) for g in ("dark", "mid", "all"))
    return f"| {label} | {cells} |"


def test_the_results_are_what_the_benchmarks_wrote() -> None:
    text = readme()
    expected = quality_row(
        "default (in the package)",
        _json("eval15_quality.json"),
        _json("exposure_robustness.json")["default"],
    )
    assert expected in text, f"README.md should have the row\n{expected}"
    real_photos = _json("real_photos.json")
    for label, model in (("input", "input"), ("default", "default"), ("Zero-DCE", "Zero-DCE")):
        expected = real_photo_row(label, real_photos, model)
        assert expected in text, f"README.md should have the row\n{expected}"
    held_out = real_photos["kodak"]["models"]["default"]
    identity = (
        f"{held_out['psnr_held_out']:.2f} dB against themselves; clipped pixels "
        f"{held_out['added_clipped_held_out']:+.2f} pts"
    )
    assert identity in text, f"README.md should say {identity}"
    speed = _json("enhance_speed.json")
    for backend, label in (("onnxruntime", "ONNX Runtime"), ("pytorch", "PyTorch")):
        for quality in ("fast", "full"):
            cases = [
                case
                for case in speed["cases"]
                if case["backend"] == backend and case["quality"] == quality
            ]
            assert cases, f"enhance_speed.json has no {label} {quality} case"
            cells = " | ".join(speed_cell(case) for case in cases)
            row = next(
                (
                    line
                    for line in text.splitlines()
                    if line.startswith(f"| {label}")
                    and line.split(" | ")[0].endswith(f", {quality}")
                ),
                "",
            )
            assert row.endswith(f" | {cells} |"), (
                f"README.md's {label}, {quality} row should end in | {cells} |"
            )
    load = speed["load_average"]["before"][0]
    assert f"load average {load:.1f}" in text, "README.md should give the speed run's load"
