"""Training data: low/normal-light pairs (discovery, scene-wise splits, crops, exposure mix) and
photos without references (discovery, crops, whole photos)."""

from lowlight.data.crops import CropDataset
from lowlight.data.exposure_mix import ExposureMix, ExposureMixDataset, synthesise_exposure
from lowlight.data.held_out import KODAK_HELD_OUT, is_held_out
from lowlight.data.paired_dataset import PairedCropDataset, PairedImageDataset
from lowlight.data.pairs import ImagePair, find_pairs, split_by_scene
from lowlight.data.photos import Photo, PhotoCropDataset, PhotoDataset, find_photos

__all__ = [
    "CropDataset",
    "ExposureMix",
    "ExposureMixDataset",
    "ImagePair",
    "KODAK_HELD_OUT",
    "PairedCropDataset",
    "PairedImageDataset",
    "Photo",
    "PhotoCropDataset",
    "PhotoDataset",
    "find_pairs",
    "find_photos",
    "is_held_out",
    "split_by_scene",
    "synthesise_exposure",
]
