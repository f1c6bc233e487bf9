"""Raster refiners plugged into clipvg: a raster edit (diffusion) fitted back into vector paths.

    refiner = make_refiner("sd-inpaint")                 # or ImagicRefiner(...), UniTuneRefiner(...)
    image = refiner.refine(image, mask, "a red sports car", seed=0)   # (H, W, 3) in [0, 1]
    scene = refit(scene, image, paths)                    # the paths follow the refined raster

Diffusion refiners need the ``clipvg[diffusion]`` extra (diffusers, transformers, accelerate).
"""
from .apply import refine_layered, refine_prepared, refine_scene
from .base import BACKGROUND_TRIGGER, Refiner, removal_prompt
from .layered import LayeredRefiner
from .refit import refit
from .registry import NAMES, make_refiner

__all__ = ["BACKGROUND_TRIGGER", "LayeredRefiner", "NAMES", "Refiner", "make_refiner", "refine_layered",
           "refine_prepared", "refine_scene", "refit", "removal_prompt"]
