"""Stroke joins of SVG paths against resvg (4x supersampled): the miter limit is checked against the
curves' own directions at the corner, as browsers and resvg check it, not the flattened edges'."""
from __future__ import annotations

import pytest

from clipvg import load_svg
from svg_renderers import assert_draws_like_resvg
from test_render_groups import double, finite_difference_check

# Tango's internet-group-chat speech-bubble tail: the turn at (39.06, 29.81) between the curves' end
# directions needs a miter of 4.03 widths (over the limit of 4: bevelled), while the flattened end edges
# meet at a wider angle (under 4: the old code drew a spike 2 widths long).
TAIL = """<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="31 23 10 10">
<path d="M 32.54,25.43 C 33.40,26.53 35.06,28.32 39.06,29.81 C 37.28,27.76 37.28,26.37 37.48,25.43"
 fill="none" stroke="#000" stroke-width="1" stroke-miterlimit="{limit}"/></svg>"""


@pytest.mark.parametrize("limit", [4, 4.1, 10])
def test_miter_limit_uses_the_curves_directions(limit: float) -> None:
    """Bevelled at limit 4 (the curves' miter ratio is 4.03), mitred at 4.1 and 10 (20.8 dB on the old
    code at limit 4)."""
    assert_draws_like_resvg(TAIL.format(limit=limit), min_psnr=40)


def test_dashed_corner_keeps_the_curves_directions() -> None:
    """A dash running through the same corner bevels it as the solid stroke does."""
    assert_draws_like_resvg(TAIL.format(limit=4).replace('stroke-width="1"',
                                                         'stroke-width="1" stroke-dasharray="30 1"'), min_psnr=40)


def test_miter_tip_gradient_matches_central_differences() -> None:
    """The tip now moves with the control points next to the corner (the curves' end directions)."""
    scene = double(load_svg(TAIL.format(limit=10).replace('width="96" height="96"', 'width="32" height="32"')))
    finite_difference_check(scene, "points", list(range(scene.points.numel())))


# openclipart's 70a024 (a computer icon): a thick stroke whose first curve ends in a hook shorter than a
# flattened edge (its last control point 1 unit from its end) and turns back at the junction. The offset
# outline, filled nonzero, winds to zero in a half-disc there: resvg and Chromium leave a hole
# (14.3 dB zoomed in, 26.6 dB whole on the code that covered it).
HOOK = """<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="{view}">
<path d="M 9.09,173.77 C 6.09,180.23 12.09,205.40 11.51,204.59 C 20.40,236.33 30,230 35,205"
 fill="none" stroke="#000" stroke-width="3.75"/></svg>"""


@pytest.mark.parametrize("size, view", [(64, "6 198 10 10"), (96, "0 170 40 40")])
def test_hooked_turn_back_leaves_the_browsers_hole(size: int, view: str) -> None:
    """The hook's turn is drawn as a turn inside the curve (outer sector, inner mirror image taken away)."""
    assert_draws_like_resvg(HOOK.format(size=size, view=view), min_psnr=40)


def test_fold_inside_a_quadratic_leaves_the_browsers_hole() -> None:
    """A quadratic turning back within its own edges: the inner offset's swallowtail is a hole in resvg
    (22.1 dB on the code that covered it)."""
    assert_draws_like_resvg("""<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 32 32">
<path d="M 4,16 Q 40,16 6,17 L 6,28" fill="none" stroke="#000" stroke-width="6"/></svg>""", min_psnr=40)


def test_hook_gradient_matches_central_differences() -> None:
    """The hole moves with the control points (the curve's end direction and the flattened edges')."""
    scene = double(load_svg(HOOK.format(size=32, view="6 198 10 10")))
    finite_difference_check(scene, "points", list(range(scene.points.numel())))


def test_dash_ends_inside_a_gentle_curve_do_not_fold() -> None:
    """A dash cut inside a rounded corner ends in an edge far shorter than the turn before it; the curve
    (radius 6) does not fold under its half width (1.75), so nothing is taken away there."""
    assert_draws_like_resvg("""<svg xmlns="http://www.w3.org/2000/svg" width="96" height="64" viewBox="86 210 52 40">
<rect x="90" y="214" width="44" height="32" rx="6" stroke-width="3.5" stroke-dasharray="10 3 2 3" fill="none"
 stroke-linejoin="round" stroke="#000"/></svg>""", min_psnr=40)


def test_a_cubic_on_a_line_has_no_hook() -> None:
    """resvg's painting/stroke/control-points-clamping-1: a control point 0.1 units off a 160-unit straight
    cubic, by its end; Skia and resvg stroke a cubic whose points lie on a line as lines, so its end turns
    with the path's bevel, not as a hook (33.4 dB when taken for one)."""
    assert_draws_like_resvg("""<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 200 200">
<path d="M 175 15 C 175 30 175.1 175 175 175 H 15" fill="none" stroke="#000" stroke-width="20"
 stroke-linejoin="bevel"/></svg>""", min_psnr=40)


def test_fold_gradient_matches_central_differences() -> None:
    """The pieces taken away where a quadratic folds move with its control points."""
    scene = double(load_svg("""<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">
<path d="M 4,16 Q 40,16 6,17" fill="none" stroke="#000" stroke-width="6"/></svg>"""))
    finite_difference_check(scene, "points", list(range(scene.points.numel())))
