"""Reading and writing images for enhancement, training and evaluation."""

from lowlight.imageio.reading import read_rgb

__all__ = ["read_rgb"]
