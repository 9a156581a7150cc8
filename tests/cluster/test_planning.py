"""Planning a Ray batch: local paths as ``lowlight enhance`` plans them, URIs by the same rules,
results already there, and the temporary files a killed writer leaves."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from cluster_photos import write_mixed_photos

from lowlight.cluster.planning import LOCAL, plan_tasks, unfinished
from lowlight.errors import LowlightError
from lowlight.imageio import find_inputs, plan_jobs

pytest.importorskip("pyarrow.fs")
from lowlight.cluster import locations  # noqa: E402  (needs pyarrow)

NAMES = ["a.png", "d.tif", "e.webp", "sub/b.jpg", "sub/c.png", "sub/f.png"]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = write_mixed_photos(tmp_path / "photos")
    (root / ".hidden.png").write_bytes((root / "a.png").read_bytes())
    (root / "notes.txt").write_text("not a picture")
    return root


def _relative(places, folder: Path | str) -> list[str]:
    return sorted(str(PurePosixPath(place.path).relative_to(folder)) for place in places)


def test_local_paths_are_planned_as_the_one_machine_command_plans_them(
    photos, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # names as given stay relative in messages
    plan = plan_tasks(["photos"], "out", extension=".png")
    jobs = plan_jobs(find_inputs(["photos"], exclude=Path("out")), Path("out"), ".png")
    assert [(task.source.shown, task.target.shown) for task in plan.tasks] == [
        (str(job.source), str(job.target)) for job in jobs
    ]
    assert {task.source.filesystem for task in plan.tasks} == {LOCAL}
    assert all(os.path.isabs(task.target.path) for task in plan.tasks)
    assert plan.output.path == str(tmp_path / "out") and plan.filesystems == []


def test_uris_keep_names_below_their_folder(photos, tmp_path):
    out = tmp_path / "out"
    plan = plan_tasks([f"file://{photos}/", f"file://{photos}/sub/b.jpg"], f"file://{out}")
    sources = [task.source for task in plan.tasks]
    assert _relative(sources, photos) == sorted([*NAMES, "sub/b.jpg"])
    assert _relative([task.target for task in plan.tasks[:6]], out) == NAMES
    assert plan.tasks[-1].target.path == f"{out}/b.jpg"
    assert plan.tasks[0].source.shown == f"file://{photos}/a.png"
    assert plan.tasks[0].target.shown == f"file://{out}/a.png"


def test_an_output_folder_inside_the_input_folder_is_not_read_back(photos):
    (photos / "enhanced").mkdir()
    (photos / "enhanced" / "a.png").write_bytes((photos / "a.png").read_bytes())
    plan = plan_tasks([f"file://{photos}"], f"file://{photos}/enhanced", extension=".png")
    assert _relative([task.source for task in plan.tasks], photos) == NAMES
    assert {PurePosixPath(task.target.path).suffix for task in plan.tasks} == {".png"}


def test_local_inputs_and_a_uri_output_mix(photos, tmp_path):
    plan = plan_tasks([photos / "sub"], f"file://{tmp_path}/out")
    assert [task.source.filesystem for task in plan.tasks] == [LOCAL] * 3
    assert _relative([task.target for task in plan.tasks], tmp_path / "out") == [
        "b.jpg",
        "c.png",
        "f.png",
    ]


def test_an_output_folder_that_is_an_input_folder_is_refused_or_suffixed(photos):
    with pytest.raises(LowlightError, match="is also an input folder"):
        plan_tasks([f"file://{photos}"], photos)
    plan = plan_tasks([f"file://{photos}/sub"], f"file://{photos}/sub", allow_same_folder=True)
    assert _relative([task.target for task in plan.tasks], photos / "sub") == [
        "b-enhanced.jpg",
        "c-enhanced.png",
        "f-enhanced.png",
    ]


def test_a_result_never_goes_over_an_input(photos, tmp_path):
    (tmp_path / "out").mkdir()
    os.link(photos / "a.png", tmp_path / "out" / "a.png")  # the same file, by another name
    with pytest.raises(LowlightError, match="would overwrite an input"):
        plan_tasks([f"file://{photos}/a.png"], f"file://{tmp_path}/out")


def test_two_inputs_for_one_result_are_refused(photos, tmp_path):
    (photos / "sub" / "a.webp").write_bytes((photos / "e.webp").read_bytes())
    sources = [f"file://{photos}/a.png", f"file://{photos}/sub/a.webp"]
    with pytest.raises(LowlightError, match="would both be written to"):
        plan_tasks(sources, tmp_path / "out", ".png")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing", "input not found: file://.*/missing$"),
        ("*.png", r"URIs take no patterns"),
    ],
)
def test_missing_uris_are_refused(photos, tmp_path, name, message):
    with pytest.raises(LowlightError, match=message):
        plan_tasks([f"file://{photos}/{name}"], tmp_path / "out")


def test_unknown_file_systems_are_refused(tmp_path):
    with pytest.raises(LowlightError, match="cannot open nosuchfs://bucket/x"):
        plan_tasks(["nosuchfs://bucket/x"], tmp_path / "out")


@pytest.mark.parametrize("uri", [False, True])
def test_video_clips_are_refused(photos, tmp_path, uri):
    (photos / "clip.mp4").write_bytes(b"not really a clip")
    source = f"file://{photos}" if uri else str(photos)
    with pytest.raises(LowlightError, match=r"1 video clip\(s\) \(.*clip.mp4, ...\)"):
        plan_tasks([source], tmp_path / "out")


@pytest.mark.parametrize("uri", [False, True])
def test_results_already_there_are_left_out(photos, tmp_path, uri):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "a.png").write_bytes(b"done")
    (out / "sub" / "c.png").write_bytes(b"done")
    (out / "sub" / ".f.png.abcd1234.tmp").write_bytes(b"half")  # not a result
    plan = plan_tasks([photos], f"file://{out}" if uri else out)
    left, done = unfinished(plan)
    assert done == 2
    assert _relative([task.target for task in left], out) == [
        "d.tif",
        "e.webp",
        "sub/b.jpg",
        "sub/f.png",
    ]


def test_a_killed_writers_temporary_files_are_removed(tmp_path):
    filesystem, folder = locations.open_uri(f"file://{tmp_path}")
    (tmp_path / "sub").mkdir()
    for name in (".a.png.x1y2z3_4.tmp", "sub/.b.jpg.abcd1234.tmp", ".other.png.abcd1234.tmp"):
        (tmp_path / name).write_bytes(b"half")
    (tmp_path / "a.png").write_bytes(b"done")
    targets = [f"{folder}/a.png", f"{folder}/sub/b.jpg"]
    assert locations.remove_temporaries(filesystem, folder, targets) == 2
    assert sorted(os.listdir(tmp_path)) == [".other.png.abcd1234.tmp", "a.png", "sub"]
    assert os.listdir(tmp_path / "sub") == []


def test_bytes_are_written_whole_or_not_at_all(tmp_path):
    filesystem, folder = locations.open_uri(f"file://{tmp_path}")
    locations.write_bytes(filesystem, f"{folder}/new/deeper/a.png", b"content")
    assert (tmp_path / "new" / "deeper" / "a.png").read_bytes() == b"content"
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(OSError):
        locations.write_bytes(filesystem, f"{folder}/file/a.png", b"content")
    assert sorted(os.listdir(tmp_path)) == ["file", "new"]
    assert os.listdir(tmp_path / "new" / "deeper") == ["a.png"]


def test_an_object_store_output_is_named_by_its_uri(photos):
    # With its region given, pyarrow sets up S3 without asking the network.
    plan = plan_tasks([photos / "sub"], "s3://archive/bright/?region=eu-west-1", ".png")
    assert plan.filesystems[0].type_name == "s3"
    assert [task.target.path for task in plan.tasks] == [
        "archive/bright/b.png",
        "archive/bright/c.png",
        "archive/bright/f.png",
    ]
    assert plan.tasks[0].target.shown == "s3://archive/bright/b.png"
    assert plan.output.shown == "s3://archive/bright"
