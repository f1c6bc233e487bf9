"""Filter primitives as tensor ops (clipvg.render.filters): gradients of their numeric parameters
against central finite differences (float64), the semantics that the SVG suite does not pin down
(whole-pixel offsets, region cuts), and the tree's filter data (checkpoints, old Blur data)."""
from __future__ import annotations

import pytest
import torch

from clipvg.render.filters import apply_filter
from clipvg.render.filters.box_blur import box_kernel, box_pass, box_widths
from clipvg.render.filters.spatial import displacement_map, offset
from clipvg.scene.tree import Filter, FilterPrimitive, Group, tree_from_data, tree_to_data

SIZE = 10


def source_image() -> torch.Tensor:
    """(4, 10, 10) float64 premultiplied: a soft-edged square over a transparent background."""
    generator = torch.Generator().manual_seed(0)
    alpha = torch.zeros(SIZE, SIZE, dtype=torch.float64)
    alpha[2:8, 3:8] = 0.9
    alpha[4:6, 1:3] = 0.4
    color = torch.rand(3, SIZE, SIZE, generator=generator, dtype=torch.float64) * 0.8 + 0.1
    return torch.cat([color * alpha, alpha[None]])


def run(primitives: list[FilterPrimitive], region=None) -> torch.Tensor:
    return apply_filter(Filter(primitives, region), source_image(), (1.0, 1.0), lambda group: source_image())


def weights() -> torch.Tensor:
    return torch.linspace(0.5, 1.5, 4 * SIZE * SIZE, dtype=torch.float64).reshape(4, SIZE, SIZE)


def f64(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def flood(color) -> FilterPrimitive:
    return FilterPrimitive("feFlood", [], "flood", None, True, {"color": color})


# each case: the parameter to check and the filter primitives built from it
CASES = {
    "blur std": (f64(0.8, 1.3), lambda p: [FilterPrimitive("feGaussianBlur", ["SourceGraphic"], "r", None, True,
                                                          {"std": p})]),
    "wide blur std (resvg's box passes)": (f64(2.3, 2.6), lambda p: [FilterPrimitive(
        "feGaussianBlur", ["SourceGraphic"], "r", None, True, {"std": p})]),
    "offset": (f64(1.3, -0.6), lambda p: [FilterPrimitive("feOffset", ["SourceGraphic"], "r", None, True,
                                                         {"offset": p})]),
    "colour matrix": (torch.tensor([[0.6, 0.2, 0.1, 0.0, 0.05], [0.1, 0.7, 0.1, 0.0, 0.03],
                                    [0.2, 0.1, 0.5, 0.0, 0.1], [0.0, 0.0, 0.0, 0.8, 0.02]],
                                   dtype=torch.float64, requires_grad=True),
                      lambda p: [FilterPrimitive("feColorMatrix", ["SourceGraphic"], "r", None, False, {"matrix": p})]),
    "flood colour and opacity": (f64(0.2, 0.5, 0.7, 0.6), lambda p: [flood(p)]),
    "composite k1-k4": (f64(0.3, 0.5, 0.4, 0.05), lambda p: [
        flood(torch.tensor([0.3, 0.6, 0.2, 0.7], dtype=torch.float64)),
        FilterPrimitive("feComposite", ["SourceGraphic", "flood"], "r", None, False,
                        {"operator": "arithmetic", "k": p})]),
    "transfer slope": (f64(0.7), lambda p: [FilterPrimitive(
        "feComponentTransfer", ["SourceGraphic"], "r", None, False,
        {"functions": [{"type": "linear", "slope": p[0], "intercept": torch.tensor(0.1, dtype=torch.float64)},
                       None, {"type": "gamma", "amplitude": p[0], "exponent": torch.tensor(1.5, dtype=torch.float64),
                              "offset": torch.tensor(0.0, dtype=torch.float64)}, None]})]),
    "light colour": (f64(0.9, 0.6, 0.3), lambda p: [FilterPrimitive(
        "feDiffuseLighting", ["SourceGraphic"], "r", None, True,
        {"color": p, "surface_scale": torch.tensor(2.0, dtype=torch.float64),
         "constant": torch.tensor(0.8, dtype=torch.float64),
         "light": {"type": "point", "position": torch.tensor([4.0, 3.0, 6.0], dtype=torch.float64)}})]),
    "drop shadow colour": (f64(0.1, 0.3, 0.6, 0.8), lambda p: [FilterPrimitive(
        "feDropShadow", ["SourceGraphic"], "r", None, True,
        {"std": torch.tensor([1.0, 1.0], dtype=torch.float64), "offset": torch.tensor([1.0, 2.0], dtype=torch.float64),
         "color": p})]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_parameter_gradients_match_central_differences(name: str) -> None:
    parameter, build = CASES[name]

    def loss(p: torch.Tensor) -> torch.Tensor:
        return (run(build(p)) * weights()).sum()

    assert torch.autograd.gradcheck(loss, (parameter,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_an_odd_whole_box_width_is_the_plain_box_and_zero_outside() -> None:
    image = source_image()
    boxed = box_pass(image, torch.tensor(3.0, dtype=torch.float64), 2)
    padded = torch.nn.functional.pad(image, (1, 1))
    torch.testing.assert_close(boxed, (padded[..., :-2] + padded[..., 1:-1] + padded[..., 2:]) / 3)
    wider = box_pass(image, torch.tensor(3.5, dtype=torch.float64), 2)  # a quarter of each next pixel more
    padded = torch.nn.functional.pad(image, (2, 2))
    expected = (0.25 * padded[..., :-4] + padded[..., 1:-3] + padded[..., 2:-2] + padded[..., 3:-1]
                + 0.25 * padded[..., 4:]) / 3.5
    torch.testing.assert_close(wider, expected)


def test_a_wide_box_from_running_sums_equals_its_kernel_and_has_its_gradient() -> None:
    image = torch.rand(4, 6, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    width = f64(30.4)[0]
    for dim in (1, 2):
        kernel = box_kernel(width, image.dtype)
        direct = torch.nn.functional.conv2d(image[:, None], kernel.reshape((1, 1, 1, -1) if dim == 2 else (1, 1, -1, 1)),
                                            padding=(0, len(kernel) // 2) if dim == 2 else (len(kernel) // 2, 0))[:, 0]
        torch.testing.assert_close(box_pass(image, width, dim), direct)
    assert torch.autograd.gradcheck(lambda w: (box_pass(image, w, 2) * image).sum(), (f64(30.4),), eps=1e-6,
                                    atol=1e-6, rtol=1e-4)


def test_resvg_box_widths_add_up_to_the_variance() -> None:
    for std in (2.5, 6.0, 40.0):
        widths = box_widths(std)
        assert len(widths) == 5 and all(w % 2 == 1 for w in widths)
        assert sum((w * w - 1) / 12 for w in widths) == pytest.approx(std * std, rel=0.1)
    assert box_widths(6.0) == [9, 9, 9, 9, 11]


def test_offset_without_grad_moves_whole_pixels_toward_zero() -> None:
    image = source_image()
    moved = offset(image, torch.tensor(1.7), torch.tensor(-2.5))
    torch.testing.assert_close(moved[:, :8, 1:], image[:, 2:, :-1])  # (1, -2): truncated as resvg
    assert moved[:, :, 0].abs().sum() == 0 and moved[:, 8:].abs().sum() == 0


def test_displacement_map_moves_by_the_channel_value() -> None:
    image = source_image()
    shift = torch.zeros(4, SIZE, SIZE, dtype=torch.float64)
    shift[0], shift[1] = 0.75, 0.25  # R: +0.25 * scale, G: -0.25 * scale
    moved = displacement_map(image, shift, (torch.tensor(8.0), torch.tensor(8.0)), "R", "G")
    torch.testing.assert_close(moved[:, 2:, :-2], image[:, :-2, 2:])  # pixel (x, y) takes (x + 2, y - 2)
    assert moved[:, :2].abs().sum() == 0 and moved[:, :, -2:].abs().sum() == 0


def test_region_cuts_the_result_and_subregion_cuts_a_primitive() -> None:
    green = torch.tensor([0.0, 0.5, 0.0, 1.0], dtype=torch.float64)
    out = run([FilterPrimitive("feFlood", [], "f", (2.0, 3.0, 4.0, 2.0), True, {"color": green})],
              region=(1.0, 1.0, 8.0, 8.0))
    expected = torch.zeros(SIZE, SIZE, dtype=torch.float64)
    expected[3:5, 2:6] = 1
    torch.testing.assert_close(out[3], expected)
    torch.testing.assert_close(out[1], expected * 0.5)  # the flood colour is exact (sRGB result)


def test_unknown_input_falls_back_and_source_alpha_is_black() -> None:
    out = run([FilterPrimitive("feOffset", ["SourceAlpha"], "r", None, True, {"offset": torch.zeros(2)})])
    torch.testing.assert_close(out[:3], torch.zeros(3, SIZE, SIZE, dtype=torch.float64))
    torch.testing.assert_close(out[3], source_image()[3])


def test_tree_data_round_trip_and_old_blur_checkpoints() -> None:
    primitive = FilterPrimitive("feComposite", ["SourceGraphic", "r0"], "r1", (1.0, 2.0, 3.0, 4.0), False,
                                {"operator": "arithmetic", "k": torch.tensor([0.1, 0.2, 0.3, 0.4])})
    group = Group([0], filters=[Filter([primitive], (0.0, 0.0, 5.0, 5.0), "f")], blend="multiply", isolate=True)
    again = tree_from_data(tree_to_data(group))
    assert again.blend == "multiply" and again.isolate
    copied = again.filters[0].primitives[0]
    assert copied.subregion == (1.0, 2.0, 3.0, 4.0) and copied.params["operator"] == "arithmetic"
    torch.testing.assert_close(copied.params["k"], primitive.params["k"])
    old = {"type": "Group", "children": [0], "id": None, "opacity": 1.0, "clip": None, "mask": None,
           "blur": {"type": "Blur", "std": [1.5, 2.0], "region": [0.0, 0.0, 9.0, 9.0], "id": "soft",
                    "linear_rgb": False}, "attributes": {}, "index": 0}
    blur = tree_from_data(old).filters[0]
    assert blur.id == "soft" and blur.region == (0.0, 0.0, 9.0, 9.0)
    assert blur.primitives[0].kind == "feGaussianBlur" and not blur.primitives[0].linear_rgb
    assert blur.primitives[0].params["std"].tolist() == [1.5, 2.0]


def test_filter_tensors_are_what_an_optimiser_updates() -> None:
    std = torch.tensor([1.0, 1.0], requires_grad=True)
    blur = Filter([FilterPrimitive("feGaussianBlur", ["SourceGraphic"], "r", None, True, {"std": std})])
    assert blur.tensors() == [std]
    optimiser = torch.optim.SGD(blur.tensors(), lr=0.5)
    (-apply_filter(blur, source_image().float(), (1.0, 1.0), lambda g: None)[3, 0, :].sum()).backward()
    optimiser.step()
    assert float(std[1].detach()) > 1.0  # a wider vertical blur spreads more alpha onto the empty top row
