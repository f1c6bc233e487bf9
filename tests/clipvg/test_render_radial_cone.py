"""Radial gradients whose focal point lies outside their circle: SVG 2's cone (painted only inside
it, the larger circle winning), against resvg-py with the conformance rule, and its gradients (CPU)."""
from __future__ import annotations

import pytest
import torch

from clipvg import load_svg
from test_render_groups import double, finite_difference_check
from test_svg_patterns import assert_like_resvg, svg


def cone(spread: str = "pad", focal: tuple[float, float] = (33, 30)) -> str:
    return svg('<rect width="40" height="40" fill="url(#g)"/>',
               f'<radialGradient id="g" gradientUnits="userSpaceOnUse" cx="12" cy="14" r="14" fx="{focal[0]}" '
               f'fy="{focal[1]}" spreadMethod="{spread}"><stop offset="0" stop-color="#fe8"/><stop offset="0.6" '
               'stop-color="#c24"/><stop offset="1" stop-color="#124"/></radialGradient>')


@pytest.mark.parametrize("spread, focal", [("pad", (33, 30)), ("reflect", (33, 30)), ("repeat", (2, 36)),
                                           ("pad", (26.5, 14))])  # the last just outside the circle
def test_focal_point_outside_draws_the_cone_like_resvg(spread: str, focal: tuple[float, float]) -> None:
    assert_like_resvg(cone(spread, focal))


@pytest.mark.parametrize("field, entries", [("gradient_coords", [0, 1, 2, 3, 4]), ("stop_colors", [4, 5, 6])])
def test_cone_gradient_matches_central_differences(field: str, entries: list[int]) -> None:
    scene = double(load_svg(cone().replace('viewBox="0 0 40 40"', 'viewBox="0 0 32 32"')))
    finite_difference_check(scene, field, entries)
