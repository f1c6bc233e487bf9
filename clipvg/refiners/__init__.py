"""Raster refiners plugged into clipvg: a raster edit (diffusion) fitted back into vector paths.

    refiner = make_refiner("sd-inpaint")      # or "controlnet-inpaint", "imagic", "unitune", "layerdiffusion"
    image = refiner.refine(image, mask, "a red sports car", seed=0)   # (H, W, 3) in [0, 1]
    scene = refit(scene, image, paths)                    # the paths follow the refined raster

``HighResRefiner(refiner, native=512)`` handles pictures above the model's size (crop, repaint shrunk,
super-resolve, feathered blend); ``precision=`` (``--refiner-precision``) loads weights as fp32, fp16,
bf16 or int8 (torchao). ``python -m clipvg.refiners.train_mask_controlnet`` trains a mask ControlNet.

Diffusion refiners need the ``clipvg[diffusion]`` extra (diffusers, transformers, accelerate); int8
needs ``clipvg[int8]`` (torchao).
"""
from typing import TYPE_CHECKING

from clipvg.lazy import lazy_attributes

if TYPE_CHECKING:  # what the names are, for type checkers and the API reference
    from .apply import refine_layered, refine_prepared, refine_scene
    from .base import BACKGROUND_TRIGGER, Refiner, removal_prompt
    from .highres import HighResRefiner
    from .layered import LayeredRefiner
    from .refit import refit
    from .registry import NAMES, make_refiner

__all__ = ["BACKGROUND_TRIGGER", "HighResRefiner", "LayeredRefiner", "NAMES", "Refiner", "make_refiner", "refine_layered",
           "refine_prepared", "refine_scene", "refit", "removal_prompt"]
# Names load on first use, so the command line's refiner options (clipvg.refiners.registry) import no torch
# before the arguments are checked.
__getattr__ = lazy_attributes(__name__, {
    "refine_layered": ".apply", "refine_prepared": ".apply", "refine_scene": ".apply", "BACKGROUND_TRIGGER": ".base",
    "Refiner": ".base", "removal_prompt": ".base", "HighResRefiner": ".highres", "LayeredRefiner": ".layered",
    "refit": ".refit", "NAMES": ".registry", "make_refiner": ".registry"}, globals())
