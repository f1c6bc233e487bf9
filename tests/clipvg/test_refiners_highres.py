"""High-resolution refining: repaint a shrunk crop, super-resolve it (tiny x4 upscaler) and blend it in
through an inward-feathered mask, so pixels outside the mask stay bit-identical."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("diffusers")

from clipvg.refiners.base import Refiner, paste  # noqa: E402
from clipvg.refiners.highres import HighResRefiner, bounding_box, feathered  # noqa: E402
from clipvg.svg import load_svg  # noqa: E402
from test_inpaint_cli import disc_photo, run, shapes_clip_args  # noqa: E402
from tiny_diffusion import build_tiny_sd, build_tiny_upscaler  # noqa: E402

GREEN = torch.tensor([0.1, 0.8, 0.2])


class Paint(Refiner):
    """Paints the mask green and records the sizes it was asked to work at."""

    name = "paint"

    def __init__(self):
        self.sizes = []

    def refine(self, image, mask, prompt, *, seed=0, remove=False, prior=False):
        self.sizes.append(tuple(image.shape[:2]))
        return paste(image, torch.zeros_like(image) + GREEN, mask)


@pytest.fixture(scope="module")
def upscaler(tmp_path_factory):
    return build_tiny_upscaler(tmp_path_factory.mktemp("upscaler") / "x4")


def picture_and_mask(height=160, width=120):
    image = torch.rand(height, width, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(height, width, dtype=torch.bool)
    mask[50:110, 30:80] = True
    mask[60:70, 80:90] = True  # not a box
    return image, mask


def test_feathered_alpha_is_zero_outside_and_ramps_inside():
    _, mask = picture_and_mask()
    alpha = feathered(mask, 4)
    assert torch.all(alpha[~mask] == 0) and torch.all(alpha[mask] > 0)
    assert float(alpha[50, 50]) == 0.25 and float(alpha[80, 55]) == 1.0
    assert bounding_box(mask, 0.0, 160, 120) == (50, 30, 110, 90)
    assert bounding_box(mask, 0.0, 160, 120, minimum=100) == (30, 10, 130, 110)


def test_small_pictures_go_straight_to_the_wrapped_refiner():
    image, mask = picture_and_mask(48, 40)
    paint = Paint()
    out = HighResRefiner(paint, native=64).refine(image, mask, "x")
    assert paint.sizes == [(48, 40)] and torch.all(out[mask] == GREEN)


def test_bicubic_path_keeps_unmasked_pixels_bit_identical():
    image, mask = picture_and_mask()
    paint = Paint()
    out = HighResRefiner(paint, native=64, feather=4).refine(image, mask, "x")
    assert max(paint.sizes[0]) <= 64  # the model only ever saw the shrunk crop
    assert torch.equal(out[~mask], image[~mask])
    torch.testing.assert_close(out[80, 55], GREEN, atol=0.02, rtol=0)  # deep inside: the repaint
    edge = out[50, 50]  # on the mask's edge: a quarter repaint, three quarters original
    assert torch.allclose(edge, 0.75 * image[50, 50] + 0.25 * out[80, 55], atol=0.05)


def test_x4_upscaler_path_keeps_unmasked_pixels_bit_identical(upscaler):
    image, mask = picture_and_mask()
    refiner = HighResRefiner(Paint(), native=32, upscaler=upscaler, device="cpu", upscale_steps=2)
    out = refiner.refine(image, mask, "a green blob", seed=0)
    assert torch.equal(out[~mask], image[~mask]) and not torch.equal(out[mask], image[mask])
    assert torch.equal(out, refiner.refine(image, mask, "a green blob", seed=0))


def test_highres_through_the_cli(upscaler, tmp_path, capsys):
    model = build_tiny_sd(tmp_path / "inpaint", inpaint=True)
    photo = disc_photo(tmp_path / "disc.png", 96)
    code, _, err = run(capsys, "inpaint", photo, "--box", "20,24,40,40", "--max-size", "96", "-o", tmp_path / "h.svg",
                       "--prompt", "a green circle", "--refiner", "sd-inpaint", "--refiner-model", model,
                       "--refiner-native-size", "64", "--upscaler-model", upscaler, "--refiner-steps", "2",
                       "--refit-iterations", "2", *shapes_clip_args(patches=1, iterations=1))
    assert code == 0, err
    assert (load_svg(tmp_path / "h.svg").width, load_svg(tmp_path / "h.svg").height) == (96, 96)
