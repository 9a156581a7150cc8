"""Reading and writing images for enhancement, training and evaluation, and tiling.

- ``read_image`` / ``write_image``: files <-> ``ImageData`` (float RGB plus bit depth, alpha,
  ICC profile, EXIF), 8- and 16-bit, written atomically.
- ``read_image_bytes`` / ``encode_image``: the same from and to bytes, for object stores.
- ``read_rgb``: just the float RGB array.
- ``tile_process``: run an image-to-image function on overlapping, blended tiles.
- ``find_inputs`` / ``plan_jobs``: which files a batch names and where results go.
"""

from lowlight.imageio.atomic import atomic_path, atomic_write, atomic_write_text
from lowlight.imageio.batch import InputFile, Job, find_inputs, plan_jobs
from lowlight.imageio.image_data import ImageData
from lowlight.imageio.reading import read_image, read_image_bytes, read_rgb
from lowlight.imageio.tiling import tile_process
from lowlight.imageio.writing import encode_image, output_format, write_image

__all__ = [
    "ImageData",
    "InputFile",
    "Job",
    "atomic_path",
    "atomic_write",
    "atomic_write_text",
    "encode_image",
    "find_inputs",
    "output_format",
    "plan_jobs",
    "read_image",
    "read_image_bytes",
    "read_rgb",
    "tile_process",
    "write_image",
]
