"""The Ray engine's driver before and around a run: its checks, how many workers fit, and a
batch with nothing left to do, which starts no Ray at all."""

from __future__ import annotations

import pytest
from cluster_photos import write_mixed_photos

from lowlight.cluster import engine, enhance_on_ray
from lowlight.errors import LowlightError

ray = pytest.importorskip("ray")


class _Cluster:
    """Stands in for the ``ray`` module where only the cluster's resources are read."""

    def __init__(self, **resources: float) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


@pytest.mark.parametrize(
    ("cpus", "gpus", "resources", "workers"),
    [
        (1.0, 0.0, {"CPU": 2.0}, 2),
        (0.5, 0.0, {"CPU": 2.0}, 4),
        (2.0, 0.0, {"CPU": 7.0}, 3),
        (1.0, 1.0, {"CPU": 16.0, "GPU": 4.0}, 4),
        (1.0, 0.5, {"CPU": 3.0, "GPU": 2.0}, 3),
    ],
)
def test_as_many_workers_as_the_cluster_holds(cpus, gpus, resources, workers):
    settings = engine._Settings("pytorch", "cpu", cpus, gpus, None)
    assert engine._workers_that_fit(_Cluster(**resources), settings) == workers


@pytest.mark.parametrize(
    ("cpus", "gpus", "resources", "message"),
    [
        (4.0, 0.0, {"CPU": 2.0}, "no worker of 4 CPU fits .* 2 CPU and 0 GPU"),
        (1.0, 1.0, {"CPU": 2.0}, "no worker of 1 CPU and 1 GPU fits .* --workers N"),
    ],
)
def test_a_cluster_that_holds_no_worker_is_said_so(cpus, gpus, resources, message):
    settings = engine._Settings("pytorch", "cuda", cpus, gpus, None)
    with pytest.raises(LowlightError, match=message):
        engine._workers_that_fit(_Cluster(**resources), settings)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "at least 1"),
        ({"cpus_per_worker": 0.0}, "CPUs per Ray worker must be more than 0"),
        ({"gpus_per_worker": -1.0}, "GPUs per Ray worker must be 0 or more"),
        ({"tile": 8}, "at least 32"),
        ({"strength": 2.0}, "strength must be between 0 and 1"),
        ({"format": "xyz"}, "cannot write .xyz files"),
        ({"backend": "onnxruntime", "gpus_per_worker": 1.0}, "runs on the CPU"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(tmp_path, options, message):
    photos = write_mixed_photos(tmp_path / "photos")
    with pytest.raises(LowlightError, match=message):
        enhance_on_ray([photos], tmp_path / "out", **options)
    assert not (tmp_path / "out").exists() and not ray.is_initialized()


def test_a_batch_with_every_result_there_starts_no_ray(tmp_path):
    photos = write_mixed_photos(tmp_path / "photos")
    out = tmp_path / "out"
    for path in photos.rglob("*.*"):
        (out / path.relative_to(photos)).parent.mkdir(parents=True, exist_ok=True)
        (out / path.relative_to(photos)).write_bytes(b"done")
    result = enhance_on_ray([photos], out, skip_existing=True, backend="pytorch")
    assert (result.enhanced, result.skipped, result.failures) == (0, 6, [])
    assert result.output == str(out) and not ray.is_initialized()
