"""SVG filter primitives as tensor ops on premultiplied RGBA images (4, H, W), one module per family
(kornia-style, a function per operation), and ``apply_filter`` that runs a ``Filter`` node."""
from .compositing import arithmetic, blend, blend_images, porter_duff
from .chain import PRIMITIVES, apply_filter
from .color import color_matrix, component_transfer, flood, hue_rotate_matrix, saturate_matrix, to_linear, to_srgb
from .lighting import lighting
from .spatial import convolve, displacement_map, morphology, offset, tile
from .turbulence import turbulence

__all__ = ["PRIMITIVES", "apply_filter", "arithmetic", "blend", "blend_images", "color_matrix",
           "component_transfer", "convolve", "displacement_map", "flood", "hue_rotate_matrix", "lighting",
           "morphology", "offset", "porter_duff", "saturate_matrix", "tile", "to_linear", "to_srgb", "turbulence"]
