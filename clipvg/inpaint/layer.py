"""New layers of paths from a raster, and where existing paths lie relative to a mask."""
from __future__ import annotations

import dataclasses
import warnings

import torch

from ..render import pixels_covered
from ..scene import Scene, concat


def path_coverage(scene: Scene, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per path of ``scene``: the area (px) its fill and stroke cover on the canvas, and the part of
    it inside ``mask`` (H, W) bool; two (N,) float tensors on the CPU (occlusion ignored)."""
    height, width = mask.shape
    area = torch.zeros(scene.num_paths)
    inside = torch.zeros(scene.num_paths)
    if scene.num_paths == 0:
        return area, inside
    pixel, path, coverage = pixels_covered(scene, width, height)
    area.index_add_(0, path, coverage)
    inside.index_add_(0, path, coverage * mask.cpu().flatten()[pixel].float())
    return area, inside


def vectorize_layer(image: torch.Tensor, mask: torch.Tensor, name: str, colors: int = 12, seed: int = 0,
                    min_area: int = 6) -> Scene:
    """Vectorize the pixels of ``mask`` (H, W) bool of ``image`` (H, W, 3) in [0, 1] into one layer
    ``name``: a partition of the mask into filled cubic-Bézier paths of ``colors`` colours at most,
    on the image's canvas (no backdrop, nothing outside the mask)."""
    import vectorize

    rgba = torch.cat([image.detach().float().cpu(), mask.cpu().float()[..., None]], -1).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vectorize.ResizeWarning)
        layer = vectorize.vectorize(rgba, rounds=(colors,), max_size=None, min_area=min_area, backdrop=False,
                                    seed=seed)
    return rename_layers(layer, name)


def vectorize_touching(image: torch.Tensor, mask: torch.Tensor, name: str, colors: int = 12,
                       seed: int = 0, min_area: int = 6) -> Scene:
    """Vectorize all of ``image`` (H, W, 3) into ``colors`` colour regions and keep, as layer ``name``,
    the regions (with their holes) that reach into ``mask`` (H, W) bool: their outlines follow the
    picture's colours across the mask's border, never the mask itself."""
    import vectorize

    from ..edit.regions import paths_touching

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vectorize.ResizeWarning)
        full = vectorize.vectorize(image.detach().float().cpu().numpy(), rounds=(colors,), max_size=None,
                                   min_area=min_area, backdrop=False, seed=seed)
    area, inside = path_coverage(full, mask)
    keep = paths_touching(full, mask.cpu()) & (inside > 0.5)
    return rename_layers(full.subset(keep), name)


def rename_layers(scene: Scene, name: str) -> Scene:
    """``scene`` with all its paths in one layer ``name`` (path ids prefixed by it)."""
    paths = [dataclasses.replace(p, layer=name, id=f"{name}-{i}") for i, p in enumerate(scene.paths())]
    return Scene.from_paths(paths, scene.width, scene.height, [name], scene.device)


def stack(base: Scene, layer: Scene) -> tuple[Scene, torch.Tensor]:
    """``layer`` stacked on top of ``base`` (canvas of ``base``; a layer name already in ``base`` gets
    a numbered suffix), and the (N,) bool mask of the new layer's paths in the result."""
    names = set(base.layer_names)
    if any(n in names for n in layer.layer_names):
        suffix = 2
        while any(f"{n}-{suffix}" in names for n in layer.layer_names):
            suffix += 1
        layer = rename_layers(layer, f"{layer.layer_names[0]}-{suffix}")
    layer = dataclasses.replace(layer, width=base.width, height=base.height)
    result = concat([base, layer]) if base.num_paths else layer.clone()
    new = torch.zeros(result.num_paths, dtype=torch.bool)
    new[base.num_paths:] = True
    return result, new.to(result.device)


def drop_paths(scene: Scene, drop: torch.Tensor) -> Scene:
    """``scene`` without the paths of ``drop`` (N,) bool (layers kept, even when emptied)."""
    return scene.subset(~drop.to(scene.device)) if bool(drop.any()) else scene.clone()


def inside_share(scene: Scene, mask: torch.Tensor) -> torch.Tensor:
    """(N,) float: the share of each path's covered area that lies inside ``mask`` (0 for empty paths)."""
    area, inside = path_coverage(scene, mask)
    return torch.where(area > 0, inside / area.clamp(min=1e-9), torch.zeros_like(area))
