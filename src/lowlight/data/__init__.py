"""Paired low/normal-light data: discovery, scene-wise splits, training crops."""

from lowlight.data.paired_dataset import PairedCropDataset, PairedImageDataset
from lowlight.data.pairs import ImagePair, find_pairs, split_by_scene

__all__ = [
    "ImagePair",
    "PairedCropDataset",
    "PairedImageDataset",
    "find_pairs",
    "split_by_scene",
]
