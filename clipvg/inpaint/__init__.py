"""Inpaint, outpaint, object removal and layer separation in the vector domain (no diffusion needed).

    prepared = prepare_outpaint(scene, left=64, right=64, seed=0)   # or prepare_inpaint / prepare_removal
    result = edit_prepared(prepared, area_options(prepared, "a beach at sunset", iterations=150))

Only the new layer's paths move (``prepared.path_mask``); the loss looks at ``prepared.boxes``.
``outpaint``, ``inpaint`` and ``remove`` do all of it in one call.
"""
from .api import inpaint, outpaint, remove
from .inpaint import BACKGROUND_PROMPT, prepare_inpaint, prepare_removal
from .layers import foreground_mask, separate_layers
from .masks import bounding_box, dilate, load_mask, parse_box
from .outpaint import extend_canvas, prepare_outpaint, seed_outpaint
from .prepared import AreaEditOptions, Prepared, area_options, edit_prepared, make_editor
from .seed import add_noise, fill_from_border, mirror_extend

__all__ = ["AreaEditOptions", "BACKGROUND_PROMPT", "Prepared", "add_noise", "area_options", "bounding_box",
           "dilate", "edit_prepared", "extend_canvas", "fill_from_border", "foreground_mask", "inpaint",
           "load_mask", "make_editor", "mirror_extend", "outpaint", "parse_box", "prepare_inpaint",
           "prepare_outpaint", "prepare_removal", "remove", "seed_outpaint", "separate_layers"]
