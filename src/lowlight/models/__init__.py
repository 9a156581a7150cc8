"""Network components of the low-light enhancer."""

from lowlight.models.colour import (
    EnhancedGlobalColorCorrection,
    GlobalColourAffine,
    saturation_boost,
)
from lowlight.models.curve_estimator import ImprovedCurveEstimator, apply_curves
from lowlight.models.decoder import TransformerDecoder
from lowlight.models.enhancer import EnhancerOutput, UnifiedLowLightEnhancer
from lowlight.models.mask import MaskPredictor
from lowlight.models.snr import snr_map

__all__ = [
    "EnhancedGlobalColorCorrection",
    "EnhancerOutput",
    "GlobalColourAffine",
    "ImprovedCurveEstimator",
    "MaskPredictor",
    "TransformerDecoder",
    "UnifiedLowLightEnhancer",
    "apply_curves",
    "saturation_boost",
    "snr_map",
]
