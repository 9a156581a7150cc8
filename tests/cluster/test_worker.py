"""What a Ray worker runs, called here directly: the one-machine command's files from disks and
URIs alike, and one reason per failed picture, naming files as the inputs did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cluster_photos import fingerprint, write_mixed_photos

from lowlight.cli import main
from lowlight.cluster.planning import LOCAL, Place, Task, plan_tasks
from lowlight.cluster.worker import TASK_COLUMNS, FileEnhancer, task_row
from lowlight.image_files import Controls
from lowlight.weights import load_model

pytest.importorskip("pyarrow.fs")


def _batch(tasks: list[Task]) -> dict[str, np.ndarray]:
    rows = [task_row(index, task) for index, task in enumerate(tasks)]
    return {name: np.array([row[name] for row in rows]) for name in TASK_COLUMNS}


def _worker(weights_file: Path, filesystems: list, **controls) -> FileEnhancer:
    model = load_model(weights_file)
    return FileEnhancer(model, "pytorch", "cpu", 1, Controls(**controls), filesystems)


@pytest.mark.parametrize(
    ("source_uri", "output_uri"), [(False, False), (True, True), (False, True)]
)
def test_the_files_are_the_one_machine_commands(weights_file, tmp_path, source_uri, output_uri):
    photos = write_mixed_photos(tmp_path / "photos")
    plain = tmp_path / "plain"
    options = ["--weights", str(weights_file), "--backend", "pytorch", "--exposure", "0.5", "-q"]
    assert main(["enhance", str(photos), "-o", str(plain), *options]) == 0

    out = tmp_path / "out"
    source = f"file://{photos}" if source_uri else photos
    plan = plan_tasks([source], f"file://{out}" if output_uri else out)
    worker = _worker(weights_file, plan.filesystems, exposure=0.5)
    result = worker(_batch(plan.tasks))
    assert list(result["error"]) == [""] * 6
    assert list(result["index"]) == list(range(6))
    assert fingerprint(out) == fingerprint(plain)


def test_each_failure_gets_its_reason_and_the_rest_carry_on(weights_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    photos = write_mixed_photos(Path("photos"))
    (photos / "broken.png").write_bytes(b"not a png")
    Path("elsewhere").mkdir()
    Path("elsewhere", "cut.png").write_bytes((photos / "a.png").read_bytes()[:80])
    plan = plan_tasks([str(photos), f"file://{tmp_path}/elsewhere/cut.png"], "out")
    odd_format = Task(plan.tasks[0].source, Place(str(tmp_path / "out" / "a.xyz"), LOCAL, "a.xyz"))
    worker = _worker(weights_file, plan.filesystems)
    errors = list(worker(_batch([*plan.tasks, odd_format]))["error"])
    shown = [task.source.shown for task in plan.tasks]
    assert dict(zip(shown, errors[:-1], strict=True)) == {
        "photos/a.png": "",
        "photos/broken.png": "not an image file Pillow can read",
        "photos/d.tif": "",
        "photos/e.webp": "",
        "photos/sub/b.jpg": "",
        "photos/sub/c.png": "",
        "photos/sub/f.png": "",
        f"file://{tmp_path}/elsewhere/cut.png": "cannot read image (image file is truncated)",
    }
    assert errors[-1].startswith("cannot write .xyz files;") and "(pass --format)" in errors[-1]
    assert not (tmp_path / "out" / "broken.png").exists()
