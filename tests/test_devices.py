"""Device names from the command line and config files."""

from __future__ import annotations

import pytest
import torch

from lowlight.devices import parse_device
from lowlight.errors import LowlightError


def test_cpu_is_a_device() -> None:
    assert parse_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu7", "", "cuda:x"])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(LowlightError, match=f"unknown device {name!r}; use cpu, cuda or cuda:N"):
        parse_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_cuda_without_cuda_is_refused(name: str) -> None:
    with pytest.raises(LowlightError, match="CUDA is not available here; use cpu"):
        parse_device(name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_device_beyond_the_last_is_refused() -> None:
    assert parse_device("cuda") == torch.device("cuda")
    count = torch.cuda.device_count()
    with pytest.raises(LowlightError, match=f"has {count} CUDA device"):
        parse_device(f"cuda:{count}")
