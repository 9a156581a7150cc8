"""The web page (Gradio Blocks): upload photos, compare before and after, adjust, download.

The page has one tab, "Photos"; the tabs leave room for a video tab. Every enhancement runs
one at a time on the one model the page was built with. The Gradio API endpoint
``/enhance`` takes one image, ``exposure`` and ``strength`` and returns the result.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder

from lowlight.app.photos import Batch, enhance_photo, enhance_uploads, result_name
from lowlight.errors import LowlightError
from lowlight.inference import WORKING_SIZE
from lowlight.models import UnifiedLowLightEnhancer

__all__ = ["build_app", "enhance_handler", "describe", "results_area", "EXPOSURE_RANGE", "TITLE"]

TITLE = "lowlight"
"""The page's title, in the browser's tab and at the top of the page."""
EXPOSURE_RANGE = (-3.0, 3.0)
"""The exposure slider's range in stops; the API accepts what ``lowlight.enhance`` does."""
_INTRO = (
    "# lowlight\n"
    "Drop one or several dark photos. Move the slider on the picture to compare before and "
    "after, adjust exposure and strength, and download the results at full resolution in "
    "their own format (a zip for several). Everything runs on this computer."
)


def results_area() -> Path:
    """The folder results are written under: inside Gradio's upload folder, which it serves."""
    return Path(get_upload_folder()) / "results"


def build_app(
    model: UnifiedLowLightEnhancer,
    tile: int | None = None,
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
) -> gr.Blocks:
    """The page and its ``/enhance`` API endpoint, enhancing with ``model``.

    Results are written under ``results_area()``; each browser session keeps only its latest
    results there. Launch it with ``lowlight.app.server.launch``.

    Args:
        model: the enhancer (see ``lowlight.load_model``).
        tile: see ``lowlight.inference.choose_tile`` (None: photos above about 4 megapixels
            are enhanced in tiles, with a progress bar over them).
        quality: as for ``lowlight.enhance`` (auto: photos longer than 1152 pixels are
            rendered fast); the status says which each photo got.
        working_size: as for ``lowlight.enhance``.
    """
    area = results_area()
    rendering = {"tile": tile, "quality": quality, "working_size": working_size}
    with gr.Blocks(title=TITLE, analytics_enabled=False) as blocks:
        gr.Markdown(_INTRO)
        with gr.Tabs():
            with gr.Tab("Photos"):
                _photos_tab(model, area, rendering)
        gr.api(_api_endpoint(model, area, rendering), api_name="enhance")
    return blocks


def describe(batch: Batch, exposure: float, strength: float) -> str:
    """What the page says about a batch: each photo's size and time, and each failure.

    Examples:
        >>> print(describe(Batch(photos=[], failures=["bad.png: the file is empty"],
        ...                      download=None), 0.5, 1.0))
        - could not enhance bad.png: the file is empty
        <BLANKLINE>
        exposure +0.5 stops, strength 1.00
    """
    lines = [
        f"- **{_escape(photo.name)}**: {photo.width} x {photo.height}, {photo.seconds:.2f} s, "
        f"{photo.quality}"
        for photo in batch.photos
    ]
    lines += [f"- could not enhance {_escape(failure)}" for failure in batch.failures]
    return "\n".join(lines) + f"\n\nexposure {exposure:+.1f} stops, strength {strength:.2f}"


def _photos_tab(model: UnifiedLowLightEnhancer, area: Path, rendering: dict) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            uploads = gr.File(
                label="Dark photos",
                file_count="multiple",
                file_types=["image"],
                type="filepath",
                elem_id="uploads",
            )
            exposure = gr.Slider(
                *EXPOSURE_RANGE,
                value=0.0,
                step=0.1,
                label="Exposure (stops)",
                info="0: the model's own choice; +1 doubles the light, -1 halves it",
                elem_id="exposure",
            )
            strength = gr.Slider(
                0.0,
                1.0,
                value=1.0,
                step=0.05,
                label="Strength",
                info="0: the photo as it was; 1: fully enhanced",
                elem_id="strength",
            )
            status = gr.Markdown(elem_id="status")
            download = gr.DownloadButton(
                "Download", variant="primary", interactive=False, elem_id="download"
            )
        with gr.Column(scale=2):
            comparison = gr.ImageSlider(
                label="Before / after",
                type="numpy",
                interactive=False,
                buttons=["fullscreen"],  # a download here would be the preview, not the result
                elem_id="comparison",
            )
            choice = gr.Dropdown(label="Compare", visible=False, elem_id="choice")
    pairs = gr.State([])
    folder = gr.State(None)
    gr.on(
        triggers=[uploads.change, exposure.change, strength.change],
        fn=enhance_handler(model, area, **rendering),
        inputs=[uploads, exposure, strength, folder],
        outputs=[comparison, choice, pairs, folder, status, download],
        trigger_mode="always_last",
        show_progress_on=[comparison],
        api_visibility="private",
    )
    choice.input(
        lambda index, shown: shown[index],
        inputs=[choice, pairs],
        outputs=comparison,
        api_visibility="private",
    )


def enhance_handler(
    model: UnifiedLowLightEnhancer,
    area: Path,
    tile: int | None,
    quality: str = "auto",
    working_size: int = WORKING_SIZE,
) -> Callable:
    """The page's function: uploads, exposure, strength and the session's previous results
    folder in; the comparison, the photo choice, the previews, the new results folder, the
    status text and the download button out. Progress goes to Gradio's bar over the passes
    of the model. ``tile``, ``quality`` and ``working_size`` as for ``lowlight.enhance``."""
    rendering = {"tile": tile, "quality": quality, "working_size": working_size}

    def enhance_all(
        files: list[str] | None,
        exposure: float,
        strength: float,
        previous: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio asks for a bar)
    ) -> tuple:
        if previous:  # a session keeps only its latest results
            shutil.rmtree(previous, ignore_errors=True)
        if not files:
            hidden = gr.update(choices=[], value=None, visible=False)
            return None, hidden, [], None, "", gr.update(value=None, interactive=False)
        uploads = [Path(file) for file in files]

        def report(index: int, done: int, total: int) -> None:
            name = f"{uploads[index].name} ({index + 1} of {len(uploads)})"
            progress((done, total), desc=name, unit="passes")

        run_folder = _new_folder(area)
        batch = enhance_uploads(
            uploads, model, run_folder, exposure, strength, on_pass=report, **rendering
        )
        shown = [(photo.before, photo.after) for photo in batch.photos]
        names = [(photo.name, index) for index, photo in enumerate(batch.photos)]
        choice = gr.update(choices=names, value=0 if names else None, visible=len(names) > 1)
        button = gr.update(value=batch.download, interactive=batch.download is not None)
        status = describe(batch, exposure, strength)
        return shown[0] if shown else None, choice, shown, str(run_folder), status, button

    return enhance_all


def _api_endpoint(model: UnifiedLowLightEnhancer, area: Path, rendering: dict) -> Callable:
    def enhance(image: FileData, exposure: float = 0.0, strength: float = 1.0) -> FileData:
        """Enhance one image: the result at full resolution, in the image's own format.

        Args:
            image: the dark image (PNG, JPEG, WebP, TIFF, 8 or 16 bit).
            exposure: stops relative to the model's own exposure (0: automatic).
            strength: from 0 (the image unchanged) to 1 (the full enhancement).
        """
        upload = Path(image["path"] if isinstance(image, dict) else image.path)
        target = _new_folder(area) / result_name(upload.name)
        try:
            photo = enhance_photo(upload, model, target, exposure, strength, **rendering)
        except LowlightError as exc:
            raise gr.Error(html.escape(str(exc)), print_exception=False) from exc
        return FileData(path=str(photo.result), orig_name=photo.result.name)

    return enhance


def _new_folder(area: Path) -> Path:
    try:
        area.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=area))
    except OSError as exc:
        reason = html.escape(f"cannot write results to {area}: {exc.strerror or exc}")
        raise gr.Error(reason, print_exception=False) from exc


def _escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped, so a file name shows as it is."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", text)
