"""draw_image: exact edge coverage, nearest/bilinear/bicubic sampling, minification, texture
gradients against finite differences, and an Image node drawn through a Scene's tree (CPU)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipvg import Scene, render
from clipvg.render.image import draw_image
from clipvg.scene import Group, Path, Solid, Subpath
from clipvg.scene.tree import Image


def matrix(a=1.0, b=0.0, c=0.0, d=1.0, e=0.0, f=0.0) -> torch.Tensor:
    return torch.tensor([[a, c, e], [b, d, f], [0.0, 0.0, 1.0]], dtype=torch.float64)


def opaque(h: int, w: int, value: float = 1.0) -> torch.Tensor:
    return torch.cat([torch.full((h, w, 3), value, dtype=torch.float64), torch.ones(h, w, 1, dtype=torch.float64)], -1)


def test_axis_aligned_edges_cover_exact_areas():
    # a 1x1 opaque texture stretched over x in [0.5, 3.25], y in [1.25, 2.0]
    _, alpha = draw_image(opaque(1, 1), matrix(a=2.75, d=0.75, e=0.5, f=1.25), 5, 4)
    expected = np.outer([0, 0.75, 0, 0], [0.5, 1, 1, 0.25, 0])
    np.testing.assert_allclose(alpha.reshape(4, 5).numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("a, b, c, d", [(0.6, 0.0, 0.6 * np.tan(np.pi / 6), 0.6),  # skewX(30) (resvg's with-transform)
                                         (np.cos(0.4), np.sin(0.4), -np.sin(0.4), np.cos(0.4))])  # rotate
def test_slanted_edges_cover_exact_areas(a, b, c, d):
    # along a rotated or skewed edge each pixel holds the exact area inside (1/64 px supersampled here);
    # pixels holding a corner are left out (there the two strips' product is an approximation)
    size, (w, h), (e, f) = 40, (30.0, 20.0), (9.3, 4.1)
    _, alpha = draw_image(opaque(1, 1), matrix(a * w, b * w, c * h, d * h, e, f), size, size)
    grid = (np.arange(size * 64) + 0.5) / 64
    inverse = np.linalg.inv(np.array([[a * w, c * h], [b * w, d * h]]))
    u = inverse[0, 0] * (grid[None, :] - e) + inverse[0, 1] * (grid[:, None] - f)
    v = inverse[1, 0] * (grid[None, :] - e) + inverse[1, 1] * (grid[:, None] - f)
    expected = ((u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)).reshape(size, 64, size, 64).mean((1, 3))
    corners = np.array([[e + a * w * i + c * h * j, f + b * w * i + d * h * j] for i in (0, 1) for j in (0, 1)])
    ys, xs = np.mgrid[:size, :size] + 0.5
    away = np.min([np.hypot(xs - x, ys - y) for x, y in corners], axis=0) > 1.5
    np.testing.assert_allclose(alpha.reshape(size, size).numpy()[away], expected[away], atol=0.02)


def test_nearest_repeats_texels():
    texture = torch.rand(2, 3, 4, dtype=torch.float64)
    texture[..., 3] = 1
    color, alpha = draw_image(texture, matrix(a=2, d=2), 6, 4, "nearest")
    expected = texture[..., :3].repeat_interleave(2, 0).repeat_interleave(2, 1)
    np.testing.assert_allclose(color.reshape(4, 6, 3).numpy(), expected.numpy(), atol=1e-12)


@pytest.mark.parametrize("sampling", ["bilinear", "bicubic"])
def test_smooth_sampling_keeps_constants_and_interpolates(sampling):
    color, _ = draw_image(opaque(3, 3, 0.4), matrix(a=3.4, d=2.7), 10, 8, sampling)
    np.testing.assert_allclose(color.numpy(), 0.4, atol=1e-12)  # weights sum to one
    ramp = opaque(1, 4)
    ramp[0, :, :3] = torch.arange(4, dtype=torch.float64)[:, None] / 3
    color, _ = draw_image(ramp, matrix(a=4, d=1), 16, 1, sampling)
    row = color[:, 0].numpy()
    assert np.all(np.diff(row) >= -1e-12) and row[0] < 0.05 and row[-1] > 0.95


def test_minified_texture_is_averaged_not_aliased():
    checker = opaque(16, 16)
    checker[..., :3] = ((torch.arange(16)[:, None] + torch.arange(16)[None, :]) % 2).double()[..., None]
    color, alpha = draw_image(checker, matrix(a=0.25, d=0.25), 4, 4)
    np.testing.assert_allclose(color.numpy(), 0.5, atol=1e-9)
    np.testing.assert_allclose(alpha.numpy(), 1.0, atol=1e-12)


@pytest.mark.parametrize("sampling", ["bicubic", "bilinear", "nearest"])
def test_texture_gradient_matches_finite_differences(sampling):
    torch.manual_seed(0)
    texture = torch.rand(3, 4, 4, dtype=torch.float64, requires_grad=True)
    place = matrix(a=2.1, b=0.6, c=-0.5, d=1.7, e=2.3, f=0.4)  # rotated, sheared, fractional edges
    weights = torch.rand(8 * 9, 4, dtype=torch.float64)

    def loss(t: torch.Tensor) -> torch.Tensor:
        color, alpha = draw_image(t, place, 9, 8, sampling, opacity=0.7)
        return (torch.cat([color, alpha[:, None]], 1) * weights).sum()

    assert torch.autograd.gradcheck(loss, (texture,), eps=1e-6, atol=1e-6)


def test_image_node_in_a_scene_tree():
    texture = torch.zeros(2, 2, 4)
    texture[..., 0], texture[..., 3] = 1.0, 1.0  # opaque red
    square = Path([Subpath.polygon([[0, 0], [8, 0], [8, 8], [0, 8]])], fill=Solid((0.0, 0.0, 1.0, 1.0)))
    image = Image(texture, (2.0, 0.0, 0.0, 2.0, 2.0, 2.0), opacity=0.5)
    scene = Scene.from_paths([square], 8, 8, tree=Group([0, image]))
    assert not scene.is_flat
    out = render(scene)
    np.testing.assert_allclose(out[3, 3].numpy(), [0.5, 0.0, 0.5, 1.0], atol=1e-6)  # red at 0.5 over blue
    np.testing.assert_allclose(out[0, 0].numpy(), [0.0, 0.0, 1.0, 1.0], atol=1e-6)
    texture.requires_grad_(True)
    render(scene)[..., 0].sum().backward()
    assert texture.grad is not None and texture.grad.abs().sum() > 0


def test_scene_copies_carry_their_own_textures():
    texture = torch.rand(2, 2, 4)
    scene = Scene.from_paths([], 4, 4, tree=Group([Image(texture, (2.0, 0.0, 0.0, 2.0, 0.0, 0.0))]))
    copy = scene.clone()
    (image,) = copy.tree.images()
    assert image.texture is not texture and torch.equal(image.texture, texture)
    image.texture.zero_()
    assert texture.abs().sum() > 0  # the original is untouched
    (moved,) = scene.to("cpu").tree.images()
    assert moved.texture.device.type == "cpu" and moved is not next(scene.tree.images())


def test_the_diffvg_backend_refuses_images_by_name():
    from clipvg.errors import BackendUnavailableError
    from clipvg.render.diffvg_backend import _flatten_groups

    image = Image(torch.ones(2, 2, 4), (2.0, 0.0, 0.0, 2.0, 0.0, 0.0), id="photo")
    scene = Scene.from_paths([], 4, 4, tree=Group([Group([image])]))
    with pytest.raises(BackendUnavailableError, match="image 'photo'.*backend='torch'"):
        _flatten_groups(scene)
