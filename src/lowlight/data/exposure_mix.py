"""Training samples at many exposures: real pairs, synthetic under-exposures, identity pairs.

Synthetic and identity items may take their target from well-exposed photos instead of the
pairs' targets (``photos``): outdoor scenes, skin, sky and fine texture that indoor pairs
lack. Synthetic items may be darkened unevenly (``illumination``), some with their light
sources left bright (``keep_lights``): ``lowlight.data.illumination``.

A network trained on LOL-v1's pairs alone sees dark inputs only, so it learns one answer,
"brighten to about 0.45", and applies it to every picture. Teaching exposure as a function of
the picture needs inputs at every level from LOL-dark to normal, each with the normal image as
target, and the normal images themselves with themselves (identity pairs: a well-exposed
picture must come back unchanged).

Synthetic inputs are made the way a camera makes them: the target is taken to linear light,
scaled by an exposure gain, given shot noise (variance proportional to the signal) and read
noise (constant variance), so the noise relative to the signal grows as the light falls; then
clipped, encoded back to sRGB and quantised to 8 bits. Scaling sRGB values instead would give
clean, flat dark pictures that no camera produces.

The default noise ranges bracket LOL-v1's own dark pictures, whose residual variance in linear
light is about 4e-7 at a level of 0.001 and 2e-5 at 0.013 (texture included), and whose
linear exposure is 0.008-0.07 of their targets' (10th-90th percentile, median 0.025).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from kornia.color import linear_rgb_to_rgb, rgb_to_linear_rgb
from torch.utils.data import Dataset

from lowlight.data.illumination import uneven_gain
from lowlight.data.paired_dataset import PairedCropDataset
from lowlight.data.photos import PhotoCropDataset
from lowlight.errors import LowlightError

__all__ = ["ExposureMix", "ExposureMixDataset", "synthesise_exposure"]

# What an item of the mix is.
PAIRED, SYNTHETIC, IDENTITY = 0, 1, 2


@dataclass(frozen=True)
class ExposureMix:
    """The share of each kind of training sample, and the ranges synthetic ones are drawn from.

    Attributes:
        paired: share of samples that are the dataset's own (low, high) pairs.
        synthetic: share whose input is the target re-exposed by ``synthesise_exposure``.
        identity: share whose input is the target itself.
        gain: linear-light exposure range of synthetic inputs, drawn log-uniformly (so every
            stop between them is equally likely); 1 is the target's own exposure.
        shot_noise: range of the shot-noise variance per unit of linear signal, log-uniform.
        read_noise: range of the read-noise variance, log-uniform.
        photos: share of synthetic and identity items whose target is a crop of a well-exposed
            photo from ``photo_folders`` rather than a pair's target.
        photo_folders: folders of well-exposed photos (searched recursively); photos in
            ``lowlight.data.KODAK_HELD_OUT`` are never used.
        illumination: range of the spread, in stops, between the brightest and the darkest
            region of a synthetic input (uniform; 0 darkens evenly).
        keep_lights: share of synthetic items whose light sources keep their light.
    """

    paired: float = 0.5
    synthetic: float = 0.35
    identity: float = 0.15
    gain: tuple[float, float] = (0.008, 1.0)
    shot_noise: tuple[float, float] = (2e-4, 2e-3)
    read_noise: tuple[float, float] = (1e-7, 4e-6)
    photos: float = 0.0
    photo_folders: tuple[str, ...] = ()
    illumination: tuple[float, float] = (0.0, 0.0)
    keep_lights: float = 0.0

    def __post_init__(self) -> None:
        shares = (self.paired, self.synthetic, self.identity)
        if any(not share >= 0 for share in shares) or not math.isclose(sum(shares), 1.0):
            raise LowlightError(
                f"exposure_mix shares must be non-negative and sum to 1, got paired "
                f"{self.paired}, synthetic {self.synthetic}, identity {self.identity}"
            )
        for name in ("gain", "shot_noise", "read_noise"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise LowlightError(
                    f"exposure_mix {name} must be a range 0 < low <= high, got [{low}, {high}]"
                )
        if self.gain[1] > 1:
            raise LowlightError(f"exposure_mix gain may not exceed 1, got {self.gain[1]}")
        for name in ("photos", "keep_lights"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise LowlightError(
                    f"exposure_mix {name} must be a share in [0, 1], got {getattr(self, name)}"
                )
        if self.photos > 0 and not self.photo_folders:
            raise LowlightError("exposure_mix photos > 0 needs photo_folders to take them from")
        low, high = self.illumination
        if not 0 <= low <= high:
            raise LowlightError(
                f"exposure_mix illumination must be a range 0 <= low <= high, got [{low}, {high}]"
            )

    @classmethod
    def from_dict(cls, values: dict) -> ExposureMix:
        """Build from a YAML mapping; unknown keys and malformed ranges raise ``LowlightError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise LowlightError(
                f"unknown exposure_mix key(s): {', '.join(map(str, unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        typed = {}
        for key, value in values.items():
            if key == "photo_folders":
                if not isinstance(value, (list, tuple)) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise LowlightError(
                        f"exposure_mix photo_folders must be a list of folders, got {value!r}"
                    )
                value = tuple(value)
            elif key in ("gain", "shot_noise", "read_noise", "illumination"):
                if not isinstance(value, (list, tuple)) or len(value) != 2:
                    raise LowlightError(f"exposure_mix {key} must be [low, high], got {value!r}")
                value = tuple(float(v) for v in value)
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise LowlightError(f"exposure_mix {key} must be a number, got {value!r}")
            typed[key] = value
        return cls(**typed)

    def describe(self) -> str:
        """The shares, gains and light of the mix in a line, for a run's banner."""
        parts = [
            f"pairs {self.paired:g}, synthetic exposures {self.synthetic:g} "
            f"(gain {self.gain[0]:g}-{self.gain[1]:g}), identity {self.identity:g}"
        ]
        if self.photos > 0:
            parts.append(f"photos {self.photos:g} of synthetic and identity targets")
        low, high = self.illumination
        if high > 0:
            parts.append(f"uneven light {low:g}-{high:g} stops")
        if self.keep_lights > 0:
            parts.append(f"lights kept {self.keep_lights:g}")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def synthesise_exposure(
    target: torch.Tensor,
    gain: float | torch.Tensor,
    shot_noise: float,
    read_noise: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The picture ``target`` would have been with ``gain`` times the light, as a camera saw it.

    In linear light: ``signal = gain * linear(target)``, plus Gaussian noise of variance
    ``shot_noise * signal + read_noise``; clipped to [0, 1], sRGB-encoded, quantised to 8 bits.

    Args:
        target: (3, H, W) sRGB in [0, 1].
        gain: linear exposure factor in (0, 1]: one number, or one per pixel (1, H, W).
        shot_noise: the shot noise's variance per unit of signal (see above).
        read_noise: the read noise's variance (see above).
        generator: the source of the noise.

    Returns:
        (3, H, W) sRGB in [0, 1], multiples of 1/255.
    """
    signal = rgb_to_linear_rgb(target.float()) * gain
    noise = torch.randn(signal.shape, generator=generator, dtype=signal.dtype)
    exposed = (signal + noise * torch.sqrt(shot_noise * signal + read_noise)).clamp(0.0, 1.0)
    return torch.round(linear_rgb_to_rgb(exposed).clamp(0.0, 1.0) * 255.0) / 255.0


def _log_uniform(
    bounds: tuple[float, float], count: int, generator: torch.Generator
) -> torch.Tensor:
    """``count`` values drawn log-uniformly between ``bounds`` (float64)."""
    low, high = (math.log(b) for b in bounds)
    draws = torch.rand(count, generator=generator, dtype=torch.float64)
    return torch.exp(low + (high - low) * draws)


class ExposureMixDataset(Dataset):
    """``PairedCropDataset`` items, some replaced by synthetic or identity pairs (``ExposureMix``).

    Crops, flips and half-size decimation are the base dataset's; a synthetic or identity item
    is made from the target of the same draw, or, with ``photos``, from a crop of a
    well-exposed photo drawn the same way. Like the base, every choice comes from
    ``set_epoch(seed, epoch)``, so a resumed run repeats an uninterrupted one.

    Items are ``(low, high)``, each (3, S, S) (or (3, H, W)) float32 in [0, 1].

    Args:
        base: the pairs.
        mix: the shares and ranges.
        photos: crops of well-exposed photos of the base's crop size, one per base item;
            needed when ``mix.photos`` > 0.
    """

    def __init__(
        self, base: PairedCropDataset, mix: ExposureMix, photos: PhotoCropDataset | None = None
    ) -> None:
        if mix.photos > 0 and photos is None:
            raise LowlightError("exposure_mix photos > 0 needs a dataset of photos")
        if photos is not None and len(photos) != len(base):
            raise LowlightError(
                f"the photo crops ({len(photos)}) must match the pairs' items ({len(base)})"
            )
        self.base = base
        self.mix = mix
        self.photos = photos
        self.sizes = base.sizes
        self.skipped = base.skipped
        self.set_epoch(0, 0)

    def set_epoch(self, seed: int, epoch: int) -> None:
        """Draw the base dataset's choices and, per item, its kind, gain, light and noise."""
        self.base.set_epoch(seed, epoch)
        if self.photos is not None:
            self.photos.set_epoch(seed + 1, epoch)
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch + 7_919)
        n = len(self.base)
        shares = torch.tensor([self.mix.paired, self.mix.synthetic, self.mix.identity])
        self._kinds = torch.multinomial(shares, n, replacement=True, generator=generator)
        self._gains = _log_uniform(self.mix.gain, n, generator)
        self._shot = _log_uniform(self.mix.shot_noise, n, generator)
        self._read = _log_uniform(self.mix.read_noise, n, generator)
        self._noise_seeds = torch.randint(2**62, (n,), generator=generator)
        self._from_photo = torch.rand(n, generator=generator) < self.mix.photos
        low, high = self.mix.illumination
        self._stops = low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)
        self._keep_lights = torch.rand(n, generator=generator) < self.mix.keep_lights

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        low, high = self.base[item]
        kind = int(self._kinds[item])
        if kind == PAIRED:
            return low, high
        if self.photos is not None and bool(self._from_photo[item]):
            (high,) = self.photos[item]
        if kind == IDENTITY:
            return high.clone(), high
        generator = torch.Generator().manual_seed(int(self._noise_seeds[item]))
        gain = uneven_gain(
            high,
            float(self._gains[item]),
            float(self._stops[item]),
            bool(self._keep_lights[item]),
            generator,
        )
        low = synthesise_exposure(
            high, gain, float(self._shot[item]), float(self._read[item]), generator
        )
        return low, high
