"""Training configuration: a typed dataclass, read from YAML and command-line overrides."""

from __future__ import annotations

import dataclasses
import inspect
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lowlight.data import ExposureMix
from lowlight.devices import parse_device
from lowlight.errors import LowlightError
from lowlight.imageio.atomic import atomic_write_text
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.loss_weights import RAMP_WARMUP_EPOCHS, TRAINING_DEFAULTS
from lowlight.training.unpaired_recipe import UNPAIRED_DEFAULTS, UnpairedLoss
from lowlight.weights import default_weights_path

__all__ = ["TrainConfig", "load_config", "DEFAULT_STAGE_EPOCHS"]

DEFAULT_STAGE_EPOCHS = (12, 6, 4)
"""Default stage lengths, in epochs: the shape of the shipped model's runs (docs/model-card.md). On
LOL-v1 validation PSNR keeps rising through stage 1 (exposure and denoising are learnt there), so
it gets half the run; stage 2 then a quarter, stage 3 the rest. The total is a budget: --epochs N
keeps these proportions."""


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved resolved as ``config.yaml`` in the run folder.

    Attributes mirror the ``lowlight train`` options; ``stage_epochs`` are the lengths of
    stages 1-3. ``samples_per_epoch`` (None: one crop per training pair) sets how many crops
    make an epoch; ``image_size`` 0 trains on whole images instead of square crops.
    ``downscale`` trains on every ``downscale``-th pixel of each pair, a picture that many
    times smaller (validation always scores full-size images).
    ``split_seed`` (None: ``seed``) seeds the split by scene alone, so that a run
    continuing another can keep its held-out pairs while drawing new samples with its own
    ``seed``. ``init_weights`` starts from a safetensors model (e.g. the shipped default, to
    fine-tune it on your own data) instead of a random initialisation. ``ema_decay`` (e.g. 0.999)
    validates and keeps an exponential moving average of the weights (``WeightAverage``)
    instead of the latest ones; None keeps the latest. ``exposure_mix`` (None: the pairs
    alone) mixes synthetic under-exposures and identity pairs into training, with the keys
    and defaults of ``lowlight.data.ExposureMix``. ``restart`` names components of the model
    (e.g. ``mask_predictor``) that start from a new model's initial weights rather than from
    ``init_weights`` (``UnifiedLowLightEnhancer.restart_``). Learning rates and clipping default to
    ``TRAINING_DEFAULTS``.

    ``unpaired`` fine-tunes on ``data``, a folder of photos without targets, with the
    objective ``unpaired_loss`` (the keys and defaults of
    ``lowlight.training.unpaired_recipe.UnpairedLoss``), starting from ``init_weights`` (the
    shipped model by default: without targets, nothing but a trained model can be a starting
    point). ``load_config`` gives such a run ``UNPAIRED_DEFAULTS`` for every option it does not
    set.
    """

    data: str = ""
    out: str = ""
    val_data: str | None = None
    val_fraction: float = 0.1
    stage_epochs: tuple[int, int, int] = DEFAULT_STAGE_EPOCHS
    image_size: int = TRAINING_DEFAULTS["image_size"]
    batch_size: int = TRAINING_DEFAULTS["batch_size"]
    samples_per_epoch: int | None = None
    downscale: int = 1
    seed: int = 0
    split_seed: int | None = None
    device: str = "cpu"
    threads: int | None = None
    num_workers: int = 0
    lr_decoder: float = TRAINING_DEFAULTS["lr_decoder"]
    lr_curve: float = TRAINING_DEFAULTS["lr_curve"]
    lr_mask: float = TRAINING_DEFAULTS["lr_mask"]
    lr_other: float = TRAINING_DEFAULTS["lr_other"]
    weight_decay: float = 1e-4
    warmup_iterations: int = 100
    grad_clip_norm: float = TRAINING_DEFAULTS["grad_clip_norm"]
    ramp_warmup_epochs: int = RAMP_WARMUP_EPOCHS
    perceptual_weights: str | None = None
    init_weights: str | None = None
    max_val_images: int | None = None
    ema_decay: float | None = None
    exposure_mix: dict | None = None
    restart: tuple[str, ...] = ()
    model: dict = field(default_factory=dict)
    unpaired: bool = False
    unpaired_loss: dict = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return sum(self.stage_epochs)

    @property
    def held_out_seed(self) -> int:
        """The seed of the split by scene: ``split_seed``, or ``seed`` when that is None."""
        return self.seed if self.split_seed is None else self.split_seed

    def validate(self) -> None:
        """Raise ``LowlightError`` for values no run could use."""
        if self.batch_size <= 0:
            raise LowlightError(f"batch_size must be positive, got {self.batch_size}")
        if self.image_size < 0:
            raise LowlightError(
                f"image_size must be 0 (whole images) or positive, got {self.image_size}"
            )
        if len(self.stage_epochs) != 3 or any(e < 0 for e in self.stage_epochs):
            raise LowlightError(
                f"stage_epochs must be three non-negative numbers, got {self.stage_epochs}"
            )
        if self.epochs == 0:
            raise LowlightError("the run has no epochs (stage_epochs sums to 0)")
        if self.downscale < 1:
            raise LowlightError(f"downscale must be 1 or more, got {self.downscale}")
        if self.samples_per_epoch is not None and self.samples_per_epoch <= 0:
            raise LowlightError(f"samples_per_epoch must be positive, got {self.samples_per_epoch}")
        for name in ("lr_decoder", "lr_curve", "lr_mask", "lr_other", "grad_clip_norm"):
            if not getattr(self, name) > 0:
                raise LowlightError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("weight_decay", "warmup_iterations", "ramp_warmup_epochs"):
            if not getattr(self, name) >= 0:
                raise LowlightError(f"{name} must be 0 or positive, got {getattr(self, name)}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise LowlightError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.threads is not None and self.threads <= 0:
            raise LowlightError(
                f"threads must be positive (or null for all cores), got {self.threads}"
            )
        if self.num_workers < 0:
            raise LowlightError(
                f"num_workers must be 0 (load in the main process) or positive, "
                f"got {self.num_workers}"
            )
        if self.max_val_images is not None and self.max_val_images < 1:
            raise LowlightError(
                f"max_val_images must be 1 or more (or null for all), got {self.max_val_images}"
            )
        if self.ema_decay is not None and not 0.0 <= self.ema_decay < 1.0:
            raise LowlightError(
                f"ema_decay must be in [0, 1) (or null for none), got {self.ema_decay}"
            )
        parse_device(self.device)
        _check_model_keys(self.model)
        self.mix()
        self.unpaired_objective()
        if self.unpaired and self.exposure_mix is not None:
            raise LowlightError("exposure_mix makes pairs; an unpaired run has none to mix")
        if not self.data:
            raise LowlightError(
                "no training data given (--data DIR, or --unpaired DIR for photos without targets)"
            )
        if self.unpaired and self.init_weights is None:
            raise LowlightError("an unpaired run fine-tunes a trained model: set init_weights")
        if self.restart and self.init_weights is None:
            raise LowlightError("restart renews components of init_weights: set init_weights")
        if not self.out:
            raise LowlightError("no run folder given (--out DIR)")

    def mix(self) -> ExposureMix | None:
        """The validated ``exposure_mix``, or None to train on the pairs alone."""
        return None if self.exposure_mix is None else ExposureMix.from_dict(self.exposure_mix)

    def unpaired_objective(self) -> UnpairedLoss:
        """The validated ``unpaired_loss``, its missing keys at their defaults."""
        return UnpairedLoss.from_dict(self.unpaired_loss)

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["stage_epochs"] = list(self.stage_epochs)
        return values

    def save(self, path: str | os.PathLike, header: str = "") -> None:
        """Write the config as YAML (loadable by ``load_config``), after ``#`` comment lines."""
        comments = "".join(f"# {line}\n" for line in header.splitlines())
        atomic_write_text(path, comments + yaml.safe_dump(self.to_dict(), sort_keys=False))


def _check_model_keys(model: dict) -> None:
    """Refuse ``model`` keys that ``UnifiedLowLightEnhancer`` does not take."""
    parameters = inspect.signature(UnifiedLowLightEnhancer.__init__).parameters
    known = [name for name in parameters if name != "self"]
    unknown = sorted(str(key) for key in model if key not in known)
    if unknown:
        raise LowlightError(
            f"unknown model key(s): {', '.join(unknown)}; the model takes {', '.join(known)}"
        )


def _coerce(name: str, value: object, annotation: object) -> object:
    """Check ``value`` against a field's type annotation, converting lists to tuples."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(name, value, inner[0])
    if origin is tuple and args[-1] is Ellipsis:
        if not isinstance(value, (list, tuple)):
            raise LowlightError(f"config '{name}' must be a list, got {value!r}")
        return tuple(_coerce(name, v, args[0]) for v in value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise LowlightError(
                f"config '{name}' must be a list of {len(args)} values, got {value!r}"
            )
        return tuple(_coerce(name, v, a) for v, a in zip(value, args, strict=True))
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = origin or annotation
    if isinstance(value, bool) and expected is not bool or not isinstance(value, expected):
        raise LowlightError(
            f"config '{name}' must be {getattr(expected, '__name__', expected)}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value


def _read_yaml(path: str | os.PathLike) -> dict:
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise LowlightError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise LowlightError(
            f"config {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc
    except yaml.YAMLError as exc:
        raise LowlightError(f"config {path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise LowlightError(f"config {path} must be a mapping of option: value")
    return loaded


def load_config(
    path: str | os.PathLike | None = None,
    *,
    base: str | os.PathLike | None = None,
    **overrides: object,
) -> TrainConfig:
    """A validated ``TrainConfig``: ``base`` YAML, then ``path`` YAML, then non-None ``overrides``.

    ``base`` is a resumed run's saved ``config.yaml``; later sources win key by key. An
    unpaired run takes ``UNPAIRED_DEFAULTS`` for the keys none of them sets, starts from the
    shipped model unless ``init_weights`` says otherwise, and keeps its ``unpaired_loss``
    with every key, so that ``config.yaml`` shows the whole objective.
    """
    values: dict = {}
    for source in (base, path):
        if source is not None:
            values.update(_read_yaml(source))
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("unpaired") is True:
        values = {**UNPAIRED_DEFAULTS, **values}
        if values.get("init_weights") is None:
            values["init_weights"] = str(default_weights_path())
    hints = typing.get_type_hints(TrainConfig)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise LowlightError(f"unknown config key(s): {', '.join(unknown)}")
    typed = {name: _coerce(name, value, hints[name]) for name, value in values.items()}
    config = TrainConfig(**typed)
    config.validate()
    if config.unpaired:
        config.unpaired_loss = config.unpaired_objective().to_dict()
    return config
