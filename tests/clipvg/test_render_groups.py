"""Group opacity, clip paths, masks, blur and dashes in the renderer: pixels against resvg and
gradients against central finite differences (float64)."""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import resvg_py
import torch
from PIL import Image

from clipvg import GradientStops, LinearGradient, Path, Scene, Solid, Stroke, Subpath, render
from clipvg.render import dash as dash_module
from clipvg.scene import ClipPath, Filter, Group, Mask
from clipvg.svg import scene_to_svg_string
from svg_renderers import psnr

FLOAT_FIELDS = ("points", "fill_color", "stroke_color", "stroke_width", "opacity", "miter_limit",
                "gradient_coords", "gradient_transform", "stop_offsets", "stop_colors", "dash_array",
                "dash_offset", "group_opacity")


def square(x: float, y: float, w: float, h: float) -> Subpath:
    return Subpath.polygon([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


def effects_scene() -> Scene:
    """Paths 0-1 in a faded, clipped group; 2 its clip (a rotated square, evenodd hole); 3-4 a mask's
    content; 5 masked; 6 blurred; 7 dashed."""
    stops = GradientStops([0.1, 0.9], [[0.9, 0.2, 0.1, 1.0], [0.1, 0.3, 0.9, 0.8]])
    paths = [
        Path([square(2.3, 2.6, 14.2, 13.7)], fill=Solid((0.9, 0.1, 0.1, 1.0)), stroke=Stroke(Solid((0.1, 0.1, 0.6, 1.0)), 2.1)),
        Path([square(8.4, 7.7, 12.1, 11.6)], fill=LinearGradient((8.0, 8.0), (20.0, 18.0), stops)),
        Path([Subpath.polygon([[11.2, 0.7], [22.6, 11.3], [11.8, 22.4], [0.6, 11.1]]), square(9.1, 9.4, 3.3, 3.1)],
             fill=Solid((0, 0, 0, 1)), fill_rule="evenodd"),
        Path([square(0.0, 16.0, 32.0, 16.0)], fill=Solid((0.95, 0.9, 0.85, 0.97))),
        Path([Subpath.polygon([[5.3, 19.2], [14.6, 30.1], [2.2, 29.4]])], fill=Solid((0.2, 0.2, 0.2, 0.9))),
        Path([square(1.4, 17.3, 15.2, 13.1)], fill=Solid((0.1, 0.6, 0.2, 0.95))),
        Path([square(21.3, 20.4, 6.2, 6.7)], fill=Solid((0.3, 0.1, 0.7, 1.0))),
        Path([Subpath(np.array([[18.2, 3.1], [29.4, 4.6], [24.3, 16.8]]), [2], closed=False)],
             stroke=Stroke(Solid((0.0, 0.0, 0.0, 0.9)), 1.7, cap="round", join="round", dashes=(3.1, 1.9), dash_offset=0.7)),
    ]
    tree = Group([
        Group([0, 1], id="faded", opacity=0.7, clip=ClipPath([2], id="diamond")),
        Group([5], mask=Mask(Group([3, 4]), "luminance", (0.0, 16.0, 32.0, 16.0), id="m")),
        Group([6], filters=[Filter.blur((1.3, 1.3), (17.0, 16.0, 15.0, 16.0), id="soft")]),
        7,
    ])
    return Scene.from_paths(paths, 32, 32, tree=tree, device="cpu")


def resvg_supersampled(svg: str, width: int, height: int, zoom: int = 4) -> np.ndarray:
    rgba = np.asarray(Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=zoom)))),
                      dtype=np.float64) / 255
    on_white = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
    return on_white.reshape(height, zoom, width, zoom, 3).mean((1, 3))


def test_effects_match_resvg() -> None:
    scene = effects_scene()
    image = render(scene, background=(1, 1, 1))[..., :3].double().numpy()
    reference = resvg_supersampled(scene_to_svg_string(scene), 32, 32)
    assert psnr(image, reference) >= 38  # the blur is a true Gaussian, resvg's a box approximation


def test_group_opacity_is_isolated() -> None:
    """Two overlapping opaque squares in a group at opacity 0.5: the overlap shows the top square
    only, faded once (not the bottom one through it)."""
    paths = [Path([square(0, 0, 6, 6)], fill=Solid((1.0, 0.0, 0.0, 1.0))),
             Path([square(2, 2, 6, 6)], fill=Solid((0.0, 0.0, 1.0, 1.0)))]
    scene = Scene.from_paths(paths, 8, 8, tree=Group([Group([0, 1], opacity=0.5)]), device="cpu")
    image = render(scene, background=(1, 1, 1))
    torch.testing.assert_close(image[4, 4, :3], torch.tensor([0.5, 0.5, 1.0]))
    torch.testing.assert_close(image[1, 1, :3], torch.tensor([1.0, 0.5, 0.5]))


def test_alpha_mask_and_nested_clip() -> None:
    paths = [Path([square(0, 0, 8, 8)], fill=Solid((0.0, 0.0, 0.0, 1.0))),
             Path([square(0, 0, 4, 8)], fill=Solid((1.0, 0.0, 0.0, 0.5))),  # alpha mask content
             Path([square(0, 0, 8, 4)], fill=Solid((0, 0, 0, 1))),  # clip
             Path([square(2, 0, 8, 8)], fill=Solid((0, 0, 0, 1)))]  # the clip's clip
    clip = ClipPath([2], ClipPath([3]))
    scene = Scene.from_paths(paths, 8, 8, tree=Group([Group([0], clip=clip, mask=Mask(Group([1]), "alpha"))]),
                             device="cpu")
    alpha = render(scene)[..., 3]
    expected = torch.zeros(8, 8)
    expected[:4, 2:4] = 0.5
    torch.testing.assert_close(alpha, expected)
    assert scene.drawn_paths() == [0]


def test_flat_tree_takes_the_plain_path() -> None:
    paths = [Path([square(1, 1, 4, 4)], fill=Solid((1.0, 0.0, 0.0, 1.0)))]
    scene = Scene.from_paths(paths, 8, 8, tree=Group([Group([0], id="g")]), device="cpu")
    assert scene.is_flat
    torch.testing.assert_close(render(scene), render(Scene.from_paths(paths, 8, 8, device="cpu")))


def test_dashes_match_resvg() -> None:
    paths = [
        Path([square(4, 4, 22, 20)], stroke=Stroke(Solid((0, 0, 0, 1)), 2.0, dashes=(5, 3), dash_offset=2.5)),
        Path([Subpath.polygon([[3, 29], [29, 30]], closed=False)],
             stroke=Stroke(Solid((0.8, 0, 0, 1)), 1.5, cap="round", dashes=(0, 3))),  # dots
        Path([Subpath(np.array([[4, 14], [12, 4], [20, 24], [28, 14]]), [3], closed=False)],
             stroke=Stroke(Solid((0, 0, 0.8, 1)), 1.2, cap="square", join="round", dashes=(4, 2, 1), dash_offset=-1)),
    ]
    scene = Scene.from_paths(paths, 32, 32, device="cpu")
    image = render(scene, background=(1, 1, 1))[..., :3].double().numpy()
    reference = resvg_supersampled(scene_to_svg_string(scene), 32, 32)
    assert psnr(image, reference) >= 40


def test_dash_offset_by_a_period_changes_nothing() -> None:
    base = Path([Subpath.polygon([[2, 3], [28, 6], [20, 28]])],
                stroke=Stroke(Solid((0, 0, 0, 1)), 1.5, dashes=(3, 2), dash_offset=0.4))
    shifted = Path(base.subpaths, stroke=Stroke(Solid((0, 0, 0, 1)), 1.5, dashes=(3, 2), dash_offset=5.4))
    a = render(Scene.from_paths([base], 32, 32, device="cpu"))
    b = render(Scene.from_paths([shifted], 32, 32, device="cpu"))
    torch.testing.assert_close(a, b, atol=1e-4, rtol=0)


def test_too_fine_dashes_draw_solid_with_a_warning(monkeypatch) -> None:
    monkeypatch.setattr(dash_module, "MAX_DASH_PIECES", 50)
    path = Path([Subpath.polygon([[1, 4], [31, 4]], closed=False)], stroke=Stroke(Solid((0, 0, 0, 1)), 2, dashes=(0.1, 0.1)))
    solid = Path(path.subpaths, stroke=Stroke(Solid((0, 0, 0, 1)), 2))
    with pytest.warns(RuntimeWarning, match="drawn solid"):
        dashed = render(Scene.from_paths([path], 32, 8, device="cpu"))
    torch.testing.assert_close(dashed, render(Scene.from_paths([solid], 32, 8, device="cpu")))


# ---------------------------------------------------------------------- gradients
def double(scene: Scene) -> Scene:
    for name in FLOAT_FIELDS:
        setattr(scene, name, getattr(scene, name).double())
    return scene


def finite_difference_check(scene: Scene, field: str, entries: list[int]) -> None:
    weights = torch.rand(32, 32, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def objective() -> torch.Tensor:
        return (render(scene, background=(1.0, 1.0, 1.0)) * weights).sum()

    tensor = getattr(scene, field)
    tensor.requires_grad_(True)
    objective().backward()
    analytic = tensor.grad.flatten()[entries].clone()
    numeric = torch.zeros_like(analytic)
    eps = 1e-5
    flat = tensor.data.view(-1)
    with torch.no_grad():
        for slot, k in enumerate(entries):
            original = flat[k].item()
            flat[k] = original + eps
            plus = objective()
            flat[k] = original - eps
            minus = objective()
            flat[k] = original
            numeric[slot] = (plus - minus) / (2 * eps)
    assert analytic.abs().max() > 1e-3, "the objective should depend on this field"
    torch.testing.assert_close(analytic, numeric, rtol=2e-3, atol=2e-3 * numeric.abs().max().item())


def point_entries(scene: Scene, path: int) -> list[int]:
    """Flat indices (x and y) of the control points of ``path``."""
    owner = scene.point_path_index()
    return [2 * i + c for i in torch.nonzero(owner == path).flatten().tolist() for c in (0, 1)]


@pytest.mark.parametrize("field, entries", [
    ("group_opacity", None),
    ("points", "clip"),          # clip path points (path 2)
    ("points", "mask"),          # mask content points (path 4)
    ("fill_color", [12, 14, 17, 19]),  # mask content colours (paths 3, 4)
    ("dash_offset", [7]),
])
def test_gradient_matches_central_differences(field: str, entries) -> None:
    scene = double(effects_scene())
    scene.tree.children[2].filters = []  # blur's own gradient is a plain convolution; keep this fast
    if entries == "clip":
        entries = point_entries(scene, 2)[:4] + point_entries(scene, 2)[8:10]  # outer diamond and hole
    elif entries == "mask":
        entries = point_entries(scene, 4)[:4]
    elif entries is None:
        entries = list(range(len(scene.group_opacity)))
        with torch.no_grad():
            scene.group_opacity[:] = torch.tensor([0.9, 0.7, 0.8, 0.95, 0.85], dtype=torch.float64)[:len(entries)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        finite_difference_check(scene, field, entries)


def test_blur_gradient_reaches_points() -> None:
    scene = double(effects_scene())
    scene.points.requires_grad_(True)
    render(scene, background=(1, 1, 1))[20:32, 17:32, :3].sum().backward()
    moved = scene.points.grad[torch.tensor(point_entries(scene, 6)[::2]) // 2]
    assert moved.abs().sum() > 1e-3
