"""Paired low/normal-light data: discovery, scene-wise splits, training crops, exposure mix."""

from lowlight.data.exposure_mix import ExposureMix, ExposureMixDataset, synthesise_exposure
from lowlight.data.paired_dataset import PairedCropDataset, PairedImageDataset
from lowlight.data.pairs import ImagePair, find_pairs, split_by_scene

__all__ = [
    "ExposureMix",
    "ExposureMixDataset",
    "ImagePair",
    "PairedCropDataset",
    "PairedImageDataset",
    "find_pairs",
    "split_by_scene",
    "synthesise_exposure",
]
