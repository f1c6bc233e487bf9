"""render(): sizes, backgrounds, backends, devices, bounded-memory chunks, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipvg.render import torch_backend
from clipvg import BackendUnavailableError, InvalidInputError, Path, Scene, Solid, Stroke, Subpath, render
from clipvg.scene import GradientStops, LinearGradient


def scene_of_squares(count: int = 12, size: int = 48) -> Scene:
    rng = np.random.default_rng(3)
    paths = []
    for _ in range(count):
        x, y = rng.uniform(0, size - 12, 2)
        w = rng.uniform(4, 12)
        square = Subpath.polygon([[x, y], [x + w, y + 1], [x + w - 1, y + w], [x, y + w - 2]])
        paths.append(Path([square], fill=Solid((*rng.uniform(0, 1, 3), rng.uniform(0.4, 1))),
                          stroke=Stroke(Solid((0, 0, 0, 0.8)), width=1.5)))
    return Scene.from_paths(paths, size, size)


def test_default_size_and_dtype() -> None:
    image = render(scene_of_squares())
    assert image.shape == (48, 48, 4) and image.dtype == torch.float32
    assert float(image.min()) >= 0 and float(image.max()) <= 1


def test_float64_points_with_float32_colours_render_in_float64() -> None:
    """Gradient checks make only the points float64; colours, stops and widths stay float32."""
    stops = GradientStops([0, 1], [[1, 0, 0, 1], [0, 0, 1, 0.5]])
    ramp = Path([Subpath.polygon([[30, 30], [46, 32], [40, 46]])], fill=LinearGradient((30, 30), (46, 46), stops))
    scene = Scene.from_paths([*scene_of_squares().paths(), ramp], 48, 48)
    wide = scene.clone()
    wide.points = wide.points.double()
    assert scene.fill_color.dtype == torch.float32
    image = render(wide, background=(1, 1, 1))
    assert image.dtype == torch.float64
    torch.testing.assert_close(image.float(), render(scene, background=(1, 1, 1)), atol=1e-5, rtol=0)


def test_scaling_equals_rendering_a_scaled_scene() -> None:
    scene = scene_of_squares()
    bigger = scene.clone()
    bigger.points = bigger.points * 2
    bigger.stroke_width = bigger.stroke_width * 2
    bigger.width, bigger.height = 96, 96
    torch.testing.assert_close(render(scene, 96, 96), render(bigger), atol=1e-5, rtol=0)
    assert render(scene, width=72).shape == (72, 72, 4)


def test_background_is_composited_under_everything() -> None:
    scene = scene_of_squares()
    transparent = render(scene)
    on_grey = render(scene, background=(0.5, 0.5, 0.5))
    alpha = transparent[..., 3:]
    expected = transparent[..., :3] * alpha + 0.5 * (1 - alpha)
    torch.testing.assert_close(on_grey[..., :3], expected, atol=1e-5, rtol=0)
    assert torch.all(on_grey[..., 3] == 1)


def test_empty_scene_shows_the_background() -> None:
    image = render(Scene.empty(8, 6), background=(0.2, 0.4, 0.6))
    assert image.shape == (6, 8, 4)
    torch.testing.assert_close(image[0, 0], torch.tensor([0.2, 0.4, 0.6, 1.0]))
    assert torch.all(render(Scene.empty(8, 6)) == 0)


def test_scene_drawing_nothing_is_its_background_straight() -> None:
    """Paths with neither fill nor stroke draw no edges; the render is the background as given
    (straight RGBA, translucent too), a writable image of its own."""
    invisible = Scene.from_paths([Path([Subpath.polygon([[1, 1], [6, 1], [6, 5]])])], 8, 6)
    image = render(invisible, background=(0.2, 0.4, 0.6, 0.5))
    torch.testing.assert_close(image, torch.tensor([0.2, 0.4, 0.6, 0.5]).expand(6, 8, 4), atol=1e-6, rtol=0)
    image[0, 0] = 1  # its own storage: writing a pixel changes no other
    assert float(image[1, 1, 0]) == pytest.approx(0.2)


def test_chunked_rendering_equals_one_pass_with_gradients(monkeypatch: pytest.MonkeyPatch) -> None:
    scene = scene_of_squares(30)
    weights = torch.rand(48, 48, 4, generator=torch.Generator().manual_seed(1))
    points = scene.parameters(points=True, colors=False)[0]
    (render(scene, background=(1, 1, 1)) * weights).sum().backward()
    whole_image, whole_grad = render(scene, background=(1, 1, 1)).detach(), points.grad.clone()
    points.grad = None
    monkeypatch.setattr(torch_backend, "CHUNK_PIXELS", 200)  # forces many chunks (recomputed in backward)
    chunked = render(scene, background=(1, 1, 1))
    (chunked * weights).sum().backward()
    torch.testing.assert_close(chunked.detach(), whole_image, atol=1e-5, rtol=0)
    torch.testing.assert_close(points.grad, whole_grad, atol=1e-3, rtol=1e-3)  # float32, other summation order


def test_hidden_paths_do_not_change_the_image() -> None:
    base = scene_of_squares()
    cover = Path([Subpath.polygon([[0, 0], [48, 0], [48, 48], [0, 48]])], fill=Solid((0.3, 0.6, 0.9, 1.0)))
    covered = Scene.from_paths([*base.paths(), cover], 48, 48)
    image = render(covered)
    torch.testing.assert_close(image, torch.tensor([0.3, 0.6, 0.9, 1.0]).expand(48, 48, 4), atol=1e-5, rtol=0)


@pytest.mark.parametrize("background", [(1, 1), (2, 0, 0), "white"])
def test_bad_background_is_a_clear_error(background) -> None:
    with pytest.raises(InvalidInputError, match="background"):
        render(scene_of_squares(), background=background)


def test_bad_size_and_backend_are_clear_errors() -> None:
    with pytest.raises(InvalidInputError, match="at least 1 x 1"):
        render(scene_of_squares(), 0, 10)
    with pytest.raises(InvalidInputError, match="unknown backend"):
        render(scene_of_squares(), backend="cairo")


def test_diffvg_backend_without_pydiffvg_says_how_to_get_it() -> None:
    pytest.importorskip("torch")
    try:
        import pydiffvg  # noqa: F401
        pytest.skip("pydiffvg is installed here; the adapter runs instead")
    except ImportError:
        pass
    with pytest.raises(BackendUnavailableError, match="github.com/BachiLi/diffvg"):
        render(scene_of_squares(), backend="diffvg")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (CI has none; run on the GPU machine)")
def test_cuda_matches_cpu() -> None:
    scene = scene_of_squares()
    torch.testing.assert_close(render(scene.to("cuda")).cpu(), render(scene), atol=1e-4, rtol=0)
