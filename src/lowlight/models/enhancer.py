"""The full low-light enhancer: curves, restoration, mask blend, colour, saturation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lowlight.models.colour import (
    EnhancedGlobalColorCorrection,
    GlobalColourAffine,
    apply_saturation_boost,
    saturation_boost_factor,
)
from lowlight.models.curve_estimator import ImprovedCurveEstimator
from lowlight.models.decoder import TransformerDecoder
from lowlight.models.detail import bounded_detail, bounded_texture
from lowlight.models.finishing import blend_strength, expose, per_image, soft_shoulder
from lowlight.models.mask import MaskPredictor
from lowlight.models.snr import snr_map
from lowlight.models.texture_gate import texture_gate

__all__ = ["UnifiedLowLightEnhancer", "EnhancerOutput"]

# Smallest padded side: the SNR map's 5x5 filter and the 1/8-scale stages need room.
MIN_SIDE = 16


@dataclass
class EnhancerOutput:
    """What one forward pass produces; every tensor is cropped to the input size.

    Attributes:
        image: the enhanced image (B, 3, H, W) in [0, 1].
        curve_image: the Zero-DCE curve output (B, 3, H, W) in [0, 1].
        decoder_image: curve image plus the decoder's residual (B, 3, H, W); in [0, 1] when the
            residual is bounded (``tone_sigma``), unclamped otherwise.
        mask: weight of the curve image in the blend (B, 1, H, W) in [0, 1].
        curve_params: curve alphas (B, 3, H, W) in [-1, 1].
        snr: the SNR map the network saw (B, 1, H, W) in [0, 1].
    """

    image: torch.Tensor
    curve_image: torch.Tensor
    decoder_image: torch.Tensor
    mask: torch.Tensor
    curve_params: torch.Tensor
    snr: torch.Tensor


class UnifiedLowLightEnhancer(nn.Module):
    """Low-light enhancer: RGB in [0, 1] of any size -> enhanced RGB in [0, 1].

    Pipeline, all on the input padded (replicate) to a multiple of the network's grid:

    1. SNR map from the RGB input; the network sees RGB + SNR (4 channels).
    2. ``TransformerDecoder`` denoises and restores the input into an image estimate, and
       hands its bottleneck's view of the scene to the curve estimator.
    3. ``ImprovedCurveEstimator`` sets the exposure with Zero-DCE curves on the RGB channels,
       informed by that view: monotone and bounded, so the curve image is in [0, 1] and
       never clips. One curve per pixel serves all three channels, so the curve image keeps
       the input's colour balance: tone is the curves' job, colour the decoder's.
    4. Of the decoder's estimate only the detail is kept (``bounded_detail``): its difference
       to the curve image without the luma's low frequencies, squashed into the room each
       pixel has, so the decoder restores detail, noise, local contrast and colour on top of
       the curves' tone and cannot push the picture out of [0, 1].

    5. ``MaskPredictor`` blends the curve image back where it is as good as the decoder's:
       with ``mask_texture_sigma``, only its fine texture, where the picture is clean
       enough for the texture to be real.
    6. ``GlobalColourAffine`` then ``EnhancedGlobalColorCorrection`` adjust colour globally.
    7. A smooth saturation boost lifts washed-out results.
    8. Optional controls: ``exposure`` (stops, in linear light) and ``strength`` (blend with
       the input). With ``highlight_knee`` everything above the knee then rolls off smoothly
       (``soft_shoulder``) instead of being clipped by the colour stages.

    Files from before the tone split (``tone_sigma`` None) run as they were trained: curves
    first, then the decoder on (curve image, input, SNR) adding an unbounded residual that
    carries the exposure too, and a hard clip at 1 (``highlight_knee`` None).

    Why detail on top of curve tone: the curves are the one part that cannot clip, and they
    see the whole picture's exposure through a global branch, so they are where exposure
    belongs; a decoder free to move every frequency takes the exposure over and with it the
    clipping. Why the decoder runs first, on the input: its bottleneck recognises the scene,
    which says more about the right exposure than any statistic of a dark picture, and an
    estimate made from the input alone keeps what it learnt before the split (it used to see
    a curve image close to a scaled input). Why ``tone_sigma`` 32: the tone of regions beyond
    about 64 pixels (the picture's exposure, and the balance of its large areas) is the
    curves'; below that lie noise, texture, chroma blotches and local contrast, where the
    decoder's larger network does better than a per-pixel curve. Why a knee of 0.9: values
    below it pass unchanged, so well-exposed pictures come back as they went in, while an
    overshoot of 0.3 still keeps visible gradations.

    Why the mask blends texture (``mask_texture_sigma``): the decoder restores at reduced
    resolution and learnt to smooth LOL's heavy noise, so on a clean photo it smooths real
    texture away too (gravel, foliage, fabric). On real dark photos its image scored NIQE
    4.37 (dark) and 4.79 (mid) against the curve image's 3.96 and 4.13, with the same tone.
    Blending the whole curve image would also bring back its colour, which the decoder
    corrects, so no loss ever opens such a mask; blending only the curve image's texture
    finer than about two pixels lets the mask open where that texture is real (a clean
    picture) and keep the decoder's where it is noise.

    Why a computed gate beside the learnt mask (``texture_gate_margin``): the mask sees the
    pictures at half resolution, where noise and fine texture look alike, and LOL's noisy
    pairs teach it to close; restarted half open, it closed to 0.06-0.10 on real dark photos
    within 14 epochs, while the curve image's texture there scored NIQE 2.6-4.2 against the
    final image's 3.7-4.7. The input's own noise level, carried through the curves' gain,
    says where the texture is real: with a margin of 1 on the same weights, real dark photos
    went from NIQE 4.38 to 3.79, at a cost of 0.07 dB and 0.003 SSIM on LOL validation pairs.

    Why the curves may take their scene features from a fixed-size view (``scene_size``):
    the bottleneck's features at the picture's own size describe the scene at a scale that
    moves with the picture's size, and the exposure moves with them. The default model, fed
    held-out LOL-v1 pictures at half their size, settled on a level 0.69 to 1.26 times its
    level at full size (spread 0.12); with the scene read from the picture resized to a
    longer side of 256, trained 5 epochs from the same weights, the spread was 0.05, and the
    fast rendering from half size lost 0.006 SSIM to the full rendering rather than 0.010
    (``docs/history.md`` has the rest of that pilot, which is not the default).

    Why the decoder's detail stops at the knee (``detail_ceiling``): beside a light source
    the decoder's estimate is brighter than the curve image (its targets' lamps and windows
    are white), and squashed into the room up to 1 that detail still reaches 0.98 and more,
    so lit walls and skies near lamps turn near-white. On dark versions of 65 Sun80 and
    Urban100 photos (lights kept bright) near-white pixels (a channel at 250 or more) were
    2.6 % of the inputs, 4.3 % of the targets and 7.8 % of the results; with the ceiling at
    the highlight knee 5.7 %, NIQE 3.46 against 3.47, and the 46 held-out LOL pairs 21.97 /
    0.848 against 21.96 / 0.848, without retraining.

    The same code runs in training and evaluation (no dropout, no batch statistics, no
    train-only branches).

    Args:
        widths: the decoder's channels at 1/2, 1/4 and 1/8 resolution (``TransformerDecoder``).
        depths: the decoder's blocks per encoder stage (the last is the bottleneck).
        decoder_depths: the decoder's blocks per decoder stage, from 1/4 back up to 1/2.
        heads: the decoder's attention heads per stage.
        curve_iterations: the curve estimator's iterations (``ImprovedCurveEstimator``).
        curve_scale: how many times smaller than the picture the curves are estimated.
        tone_sigma: the decoder's detail leaves the luma's low frequencies beyond this Gaussian
            sigma (pixels, >= 8) to the curves; None for an unbounded residual.
        highlight_knee: start of the soft highlight shoulder in (0, 1), or None to clip at 1.
        curve_guided: carry the curve parameters to full resolution along the input's edges
            (``ImprovedCurveEstimator``'s ``guided``) instead of bilinearly.
        mask_texture_sigma: the mask blends in only the curve image's texture finer than
            this Gaussian sigma (pixels; ``bounded_texture``) instead of the whole curve image;
            None for the whole.
        mask_initial_bias: the mask's initial logit everywhere (-4: almost closed, the
            decoder decides; 0: half open, so the loss sees both sources from the start).
        texture_gate_margin: open the texture mask further wherever the texture stands this
            many times above the noise the input's noise level predicts (``texture_gate``);
            None for the learnt mask alone. Needs ``mask_texture_sigma``.
        scene_size: the curves take the decoder's bottleneck features of the picture
            resized to this longer side (pixels, at least 32) rather than of the picture
            itself, so the tone does not depend on the picture's size; None for the
            picture's own.
        detail_ceiling: the decoder's detail may not lift a pixel past this value (in
            (0, 1]; ``bounded_detail``'s ``ceiling``): above it, tone is the curves' alone;
            None for 1. Needs ``tone_sigma``.
    """

    def __init__(
        self,
        widths: Sequence[int] = (16, 48, 96),
        depths: Sequence[int] = (0, 1, 4),
        decoder_depths: Sequence[int] = (0, 1),
        heads: Sequence[int] = (1, 2, 4),
        curve_iterations: int = 8,
        curve_scale: int = 4,
        tone_sigma: float | None = 32.0,
        highlight_knee: float | None = 0.9,
        curve_guided: bool = False,
        mask_texture_sigma: float | None = None,
        mask_initial_bias: float = -4.0,
        texture_gate_margin: float | None = None,
        scene_size: int | None = None,
        detail_ceiling: float | None = None,
    ) -> None:
        super().__init__()
        if tone_sigma is not None and not tone_sigma >= 8:
            raise ValueError(f"tone_sigma must be at least 8 pixels or None, got {tone_sigma}")
        if mask_texture_sigma is not None and not mask_texture_sigma > 0:
            raise ValueError(
                f"mask_texture_sigma must be positive or None, got {mask_texture_sigma}"
            )
        if texture_gate_margin is not None and not (
            mask_texture_sigma is not None and texture_gate_margin > 0
        ):
            raise ValueError(
                "texture_gate_margin must be positive and needs mask_texture_sigma, got "
                f"{texture_gate_margin} with mask_texture_sigma {mask_texture_sigma}"
            )
        if scene_size is not None and not (scene_size >= 32 and tone_sigma is not None):
            raise ValueError(
                "scene_size must be at least 32 pixels and needs tone_sigma, got "
                f"{scene_size} with tone_sigma {tone_sigma}"
            )
        ceiling_ok = detail_ceiling is None or (
            0.0 < detail_ceiling <= 1.0 and tone_sigma is not None
        )
        if not ceiling_ok:
            raise ValueError(
                "detail_ceiling must be in (0, 1] and needs tone_sigma, got "
                f"{detail_ceiling} with tone_sigma {tone_sigma}"
            )
        if highlight_knee is not None and not 0.0 < highlight_knee < 1.0:
            raise ValueError(f"highlight_knee must be in (0, 1) or None, got {highlight_knee}")
        self.config = {
            "widths": list(widths),
            "depths": list(depths),
            "decoder_depths": list(decoder_depths),
            "heads": list(heads),
            "curve_iterations": curve_iterations,
            "curve_scale": curve_scale,
            "tone_sigma": tone_sigma,
            "highlight_knee": highlight_knee,
            "curve_guided": curve_guided,
            "mask_texture_sigma": mask_texture_sigma,
            "mask_initial_bias": mask_initial_bias,
            "texture_gate_margin": texture_gate_margin,
            "scene_size": scene_size,
            "detail_ceiling": detail_ceiling,
        }
        self.tone_sigma = tone_sigma
        self.highlight_knee = highlight_knee
        self.mask_texture_sigma = mask_texture_sigma
        self.texture_gate_margin = texture_gate_margin
        self.scene_size = scene_size
        self.detail_ceiling = 1.0 if detail_ceiling is None else detail_ceiling
        split = tone_sigma is not None
        self.curve_estimator = ImprovedCurveEstimator(
            iterations=curve_iterations,
            scale=curve_scale,
            scene_channels=widths[-1] if split else None,
            curves=1 if split else 3,
            guided=curve_guided,
        )
        self.decoder = TransformerDecoder(4 if split else 7, widths, depths, decoder_depths, heads)
        self.mask_predictor = MaskPredictor(initial_bias=mask_initial_bias)
        self.colour_affine = GlobalColourAffine(enable_vibrance=False, identity_clamp=0.15)
        ceiling = None if highlight_knee is not None else 1.0
        self.colour_correction = EnhancedGlobalColorCorrection(ceiling=ceiling)
        # Each image's saturation boost, (B,) in [0, 1], passes through this identity (no
        # parameters) so that a forward hook can read or replace it: ``lowlight.video``
        # smooths it across the frames of a clip.
        self.saturation_factor = nn.Identity()
        # The decoder's 1/8 stages, the curve estimate's grid and the detail's 8 x 8 blocks
        # must tile.
        self.pad_multiple = math.lcm(self.decoder.factor, curve_scale, 8)

    def restart_(self, component: str) -> None:
        """Give one component (e.g. ``"mask_predictor"``) the initial weights of a new model.

        A component that training has driven into saturation (a mask closed everywhere,
        whose sigmoid no longer passes a gradient) can learn again from its initial state
        while the rest of the network keeps what it learnt.

        Raises:
            ValueError: ``component`` is not one of the model's components.
        """
        components = {
            name: module
            for name, module in self.named_children()
            if next(module.parameters(), None) is not None
        }
        if component not in components:
            names = ", ".join(components)
            raise ValueError(f"no component {component!r} to restart; components: {names}")
        fresh = UnifiedLowLightEnhancer(**self.config)
        components[component].load_state_dict(getattr(fresh, component).state_dict())

    def clamp_parameters_(self) -> None:
        """Project the bounded colour parameters back into range (call after optimiser steps)."""
        self.colour_affine.clamp_parameters_()
        self.colour_correction.clamp_parameters_()

    def _pad(self, rgb: torch.Tensor) -> torch.Tensor:
        height, width = rgb.shape[-2:]
        m = self.pad_multiple
        # No branch on the size (a size that fits is padded by zero pixels) and ``sym_max``
        # rather than ``max``: the network then exports with symbolic height and width
        # (``lowlight.export``), one graph for every size.
        pad_h = torch.sym_max(MIN_SIDE - height, -height % m)
        pad_w = torch.sym_max(MIN_SIDE - width, -width % m)
        return F.pad(rgb, (0, pad_w, 0, pad_h), mode="replicate")

    def _scene_view(self, rgb: torch.Tensor) -> torch.Tensor:
        """The decoder's bottleneck features of ``rgb`` (B, 3, H, W) resized so that its longer
        side is ``scene_size`` (rounded to the decoder's grid): the same view of the scene
        whatever the picture's size. Bilinear with antialiasing, which exports to ONNX for any
        size; integer arithmetic, so that the exported graph computes the size."""
        height, width = rgb.shape[-2:]
        longer = torch.sym_max(height, width)
        step = self.decoder.factor
        size = [
            torch.sym_max(step, (side * self.scene_size + longer // 2) // longer // step * step)
            for side in (height, width)
        ]
        small = F.interpolate(rgb, size=size, mode="bilinear", antialias=True, align_corners=False)
        snr = snr_map(small)
        return self.decoder.scene(torch.cat([small, snr], dim=1), snr)

    def _finish(
        self,
        coloured: torch.Tensor,
        exposure: float | torch.Tensor | None,
    ) -> torch.Tensor:
        """The saturation boost, the exposure control, then the soft shoulder (or the clip at 1)."""
        ceiling = None if self.highlight_knee is not None else 1.0
        boost = self.saturation_factor(saturation_boost_factor(coloured))
        image = apply_saturation_boost(coloured, boost, ceiling=ceiling)
        if exposure is not None:
            image = expose(image, per_image(exposure, image))
        if self.highlight_knee is None:
            return image.clamp(0.0, 1.0)
        return soft_shoulder(image, self.highlight_knee)

    def forward(
        self,
        rgb: torch.Tensor,
        exposure: float | torch.Tensor | None = None,
        strength: float | torch.Tensor | None = None,
    ) -> EnhancerOutput:
        """Enhance a (B, 3, H, W) batch in [0, 1]; see ``EnhancerOutput``.

        Args:
            rgb: (B, 3, H, W) in [0, 1].
            exposure: stops relative to the network's own choice, one number or one per image
                (0 or None: automatic; +1 doubles the result's linear light).
            strength: from 0 (the input unchanged) to 1 or None (the full enhancement), one
                number or one per image.
        """
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, H, W) tensor, got {tuple(rgb.shape)}")
        height, width = rgb.shape[-2:]
        padded = self._pad(rgb)
        snr = snr_map(padded)
        rgb_snr = torch.cat([padded, snr], dim=1)
        if self.tone_sigma is None:
            curve_image, curve_params = self.curve_estimator(rgb_snr)
            decoded = self.decoder(torch.cat([curve_image, padded, snr], dim=1), snr)
            decoder_image = curve_image + decoded
        else:
            decoded, scene = self.decoder.restore(rgb_snr, snr)
            if self.scene_size is not None:
                scene = self._scene_view(padded)
            curve_image, curve_params = self.curve_estimator(rgb_snr, scene)
            detail = bounded_detail(decoded, curve_image, self.tone_sigma, self.detail_ceiling)
            decoder_image = curve_image + detail
        mask = self.mask_predictor(curve_image, decoder_image, snr)
        if self.mask_texture_sigma is None:
            blended = decoder_image + mask * (curve_image - decoder_image)
        else:
            texture = bounded_texture(curve_image, decoder_image, self.mask_texture_sigma)
            if self.texture_gate_margin is not None:
                gate = texture_gate(texture, curve_image, padded, self.texture_gate_margin)
                mask = mask + (1.0 - mask) * gate
            blended = decoder_image + mask * texture
        image = self._finish(self.colour_correction(self.colour_affine(blended)), exposure)

        def crop(t: torch.Tensor) -> torch.Tensor:
            return t[..., :height, :width]

        image = crop(image)
        if strength is not None:
            image = blend_strength(rgb, image, per_image(strength, image))
        return EnhancerOutput(
            image=image,
            curve_image=crop(curve_image),
            decoder_image=crop(decoder_image),
            mask=crop(mask),
            curve_params=crop(curve_params),
            snr=crop(snr),
        )
