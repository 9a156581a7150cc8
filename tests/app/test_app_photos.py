"""Enhancing uploads for the app: results like ``lowlight enhance``'s, previews, zips, failures."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lowlight
from lowlight.app import photos
from lowlight.errors import LowlightError
from lowlight.imageio import ImageData, read_image, write_image

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _upload(tmp_path: Path, sample: str, folder: str = "upload") -> Path:
    """A copy of a sample where the server keeps uploads (one folder per upload)."""
    target = tmp_path / folder / sample
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLES / sample, target)
    return target


def test_a_result_is_lowlight_enhance_written_in_the_uploads_format(model, tmp_path) -> None:
    upload = _upload(tmp_path, "chelsea_dark.png")
    target = tmp_path / "chelsea_dark-enhanced.png"
    photo = photos.enhance_photo(upload, model, target, exposure=0.7, strength=0.6)
    expected = lowlight.enhance(Image.open(upload), model=model, exposure=0.7, strength=0.6)
    assert np.array_equal(np.asarray(Image.open(target)), np.asarray(expected))
    assert (photo.name, photo.result, photo.width, photo.height) == (upload.name, target, 320, 213)
    assert photo.seconds > 0
    assert np.array_equal(photo.before, np.asarray(Image.open(upload)))  # small: not shrunk
    assert np.array_equal(photo.after, np.asarray(expected))


def test_the_quality_options_reach_the_result(model, tmp_path) -> None:
    upload = _upload(tmp_path, "chelsea_dark.png")
    target = tmp_path / "chelsea_dark-enhanced.png"
    photo = photos.enhance_photo(upload, model, target, quality="fast", working_size=100)
    expected = lowlight.enhance(Image.open(upload), model=model, quality="fast", working_size=100)
    assert np.array_equal(np.asarray(Image.open(target)), np.asarray(expected))
    assert photo.quality == "fast"
    assert photos.enhance_photo(upload, model, target, working_size=300).quality == "full"


def test_sixteen_bits_and_metadata_are_kept(model, tmp_path) -> None:
    rgb = np.random.default_rng(0).uniform(0, 0.1, (24, 40, 3)).astype(np.float32)
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    upload = tmp_path / "deep.png"
    write_image(upload, ImageData(rgb=rgb, bit_depth=16, exif=exif.tobytes()))
    target = tmp_path / photos.result_name(upload.name)
    photos.enhance_photo(upload, model, target)
    result = read_image(target)
    assert (result.bit_depth, result.format) == (16, "PNG")
    assert Image.open(target).getexif()[0x010F] == "Camera maker"


def test_several_uploads_make_a_zip_and_a_bad_one_is_reported_by_name(model, tmp_path) -> None:
    first = _upload(tmp_path, "coffee_dark.png", "one")
    second = _upload(tmp_path, "coffee_dark.png", "two")  # the same name, uploaded twice
    broken = tmp_path / "three" / "broken.jpg"
    broken.parent.mkdir()
    broken.write_bytes(b"not a picture")
    results = tmp_path / "results"
    results.mkdir()
    progress: list[tuple[int, int, int]] = []
    batch = photos.enhance_uploads(
        [first, broken, second], model, results, on_pass=lambda *step: progress.append(step)
    )
    assert [photo.result.name for photo in batch.photos] == [
        "coffee_dark-enhanced.png",
        "coffee_dark-enhanced-2.png",
    ]
    assert batch.failures == ["broken.jpg: not an image file Pillow can read"]
    assert str(tmp_path) not in batch.failures[0]  # the server's folders stay private
    assert batch.download == results / photos.ZIP_NAME
    with zipfile.ZipFile(batch.download) as bundle:
        assert bundle.namelist() == [photo.result.name for photo in batch.photos]
        assert bundle.read("coffee_dark-enhanced-2.png") == batch.photos[1].result.read_bytes()
    assert progress == [(0, 1, 1), (2, 1, 1)]  # one pass each; the broken one never ran


def test_one_upload_is_downloaded_as_it_is_and_none_gives_nothing(model, tmp_path) -> None:
    upload = _upload(tmp_path, "rocket_dark.png")
    batch = photos.enhance_uploads([upload], model, tmp_path)
    assert batch.download == tmp_path / "rocket_dark-enhanced.png"
    empty = tmp_path / "empty.png"
    empty.touch()
    batch = photos.enhance_uploads([empty], model, tmp_path)
    assert (batch.photos, batch.download) == ([], None)
    assert batch.failures == ["empty.png: the file is empty (0 bytes)"]


def test_a_tiled_photo_reports_each_tile(model, tmp_path) -> None:
    upload = _upload(tmp_path, "rocket_dark.png")  # 320 x 214
    steps: list[tuple[int, int]] = []
    photos.enhance_photo(
        upload, model, tmp_path / "out.png", tile=128, on_pass=lambda *s: steps.append(s)
    )
    # 128-pixel tiles overlapping by 32: 3 x 2 of them, then the pass that sets the tone.
    assert steps == [(done, 7) for done in range(1, 8)]


def test_controls_out_of_range_are_a_message_naming_the_upload(model, tmp_path) -> None:
    upload = _upload(tmp_path, "chelsea_dark.png")
    with pytest.raises(LowlightError, match=r"^chelsea_dark\.png: strength must be"):
        photos.enhance_photo(upload, model, tmp_path / "out.png", strength=1.5)
    assert not (tmp_path / "out.png").exists()


def test_large_previews_are_shrunk_and_keep_their_shape() -> None:
    rgb = np.full((3000, 1000, 3), 0.5, np.float32)
    small = photos.preview(rgb)
    assert (small.shape, small.dtype) == ((2048, 683, 3), np.uint8)
    assert np.all(small == 128)
