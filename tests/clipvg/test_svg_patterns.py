"""Pattern fills drawn as a tile texture (``clipvg.render.pattern``), clip paths on a clipPath's
children, and reference loops: hand-written SVGs against resvg-py with the conformance rule, round
trips through ``save_svg`` and checkpoints, and gradients through the tile texture (CPU)."""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import resvg_py
import torch
from PIL import Image

from clipvg import load_svg, render
from clipvg.render.pattern import MAX_TILE_TEXELS, draw_repeated, tile_layout
from clipvg.scene.tree import Pattern
from clipvg.svg import UnsupportedSVGWarning, scene_to_svg_string
from scene_checkpoint import through_weights_only_checkpoint
from test_render_groups import double, finite_difference_check, point_entries

SIZE = 60  # px for a 40-unit canvas: a 1.5 scale, as resvg's suite (200 units at 300 px)
THRESHOLD, MAX_SHARE = 16, 0.01  # the conformance rule: < 1 % of pixels differ by > 16/255


def svg(body: str, defs: str = "") -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'viewBox="0 0 40 40">{defs}{body}</svg>')


def premultiplied(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) straight RGBA in [0, 1] -> premultiplied 8-bit values."""
    return np.round(np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], -1) * 255)


def resvg_rgba(document: str) -> np.ndarray:
    png = bytes(resvg_py.svg_to_bytes(svg_string=document, width=SIZE, height=SIZE))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64) / 255


def clipvg_rgba(document: str) -> np.ndarray:
    with torch.no_grad():
        return render(load_svg(document), SIZE, SIZE).double().numpy()


def differing(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(premultiplied(a) - premultiplied(b)) > THRESHOLD).any(-1).mean())


def assert_like_resvg(document: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = clipvg_rgba(document)
    assert differing(drawn, resvg_rgba(document)) < MAX_SHARE


CHECKS = ('<pattern id="p" patternUnits="userSpaceOnUse" width="6" height="6"{extra}><rect width="3" height="3" '
          'fill="#c33"/><rect x="3" y="3" width="3" height="3" fill="#33c"/></pattern>')
SHAPE = '<rect x="3" y="3" width="34" height="34" fill="url(#p)"/>'  # straight edges: anti-aliased alike'


@pytest.mark.parametrize("defs, body", [
    (CHECKS.format(extra=""), SHAPE),  # tiles meet without seams
    (CHECKS.format(extra=' x="1.5" y="-2"'), SHAPE),
    (CHECKS.format(extra=' patternTransform="rotate(30)"'), SHAPE),  # filtered (bicubic) texture
    (CHECKS.format(extra=' patternTransform="rotate(30)"'),  # turned and turned back: still filtered
     SHAPE.replace("/>", ' transform="rotate(-30 20 20)"/>')),
    (CHECKS.format(extra=""), '<rect x="8" y="8" width="24" height="24" fill="none" stroke="url(#p)" stroke-width="8"/>'),
    (CHECKS.format(extra=""), '<path d="M4 4H36V36H4ZM12 12V28H28V12Z" fill="url(#p)" fill-rule="evenodd" '
                              'fill-opacity="0.6"/>'),
    ('<pattern id="p" width="0.25" height="20%" x="0.1" patternContentUnits="objectBoundingBox">'
     '<circle cx="0.1" cy="0.1" r="0.08" fill="green"/></pattern>', SHAPE),
    ('<pattern id="p" patternUnits="userSpaceOnUse" width="10" height="8" viewBox="0 0 4 4" '
     'preserveAspectRatio="xMidYMid slice"><rect x="0.4" y="0.2" width="2" height="3" fill="teal"/></pattern>', SHAPE),
    (CHECKS.format(extra="").replace('id="p"', 'id="q"')  # a pattern inside a tile
     + '<pattern id="p" patternUnits="userSpaceOnUse" width="16" height="16"><rect width="12" height="12" '
       'fill="url(#q)"/></pattern>', SHAPE),
])
def test_pattern_fills_draw_like_resvg(defs: str, body: str) -> None:
    assert_like_resvg(svg(body, defs))


@pytest.mark.parametrize("defs", [
    # self-recursive: the child's fill loops back (set to none, its stroke stays)
    '<pattern id="p" xlink:href="#p" patternUnits="userSpaceOnUse" width="10" height="8"><rect width="10" '
    'height="8" fill="url(#p)" stroke="green"/></pattern>',
    # mutual: usvg drops the link found second in document order, so #q draws no fill either way
    '<pattern id="p" patternUnits="userSpaceOnUse" width="10" height="8"><rect width="10" height="8" '
    'fill="url(#q)" stroke="green"/></pattern><pattern id="q" patternUnits="userSpaceOnUse" width="10" '
    'height="8"><rect width="10" height="8" fill="url(#p)" stroke="blue"/></pattern>',
])
def test_pattern_loops_are_cut_where_resvg_cuts_them(defs: str) -> None:
    body = (SHAPE + SHAPE.replace("url(#p)", "url(#q)").replace('x="3"', 'x="6"')) if "#q" in defs else SHAPE
    document = svg(body, defs)
    with pytest.warns(UnsupportedSVGWarning, match="refers to itself"):
        drawn = clipvg_rgba(document)
    assert differing(drawn, resvg_rgba(document)) < MAX_SHARE


STAR = '<path d="M20 2 30 38 2 14H38L10 38Z" clip-rule="evenodd" clip-path="url(#c2)"{extra}/>'


@pytest.mark.parametrize("clip", [
    '<clipPath id="c2"><circle cx="20" cy="20" r="12"/></clipPath><clipPath id="c1">'
    + STAR.format(extra="") + '</clipPath>',
    '<clipPath id="c2" transform="translate(6 5)"><circle cx="20" cy="20" r="12" transform="scale(0.7)"/>'
    '</clipPath><clipPath id="c1" transform="translate(-4 -4)">' + STAR.format(extra=' transform="translate(4 4)"')
    + '</clipPath>',
    # two children, one clipped by its own clip-path in its own (scaled) user space
    '<clipPath id="c2"><circle cx="20" cy="20" r="12"/></clipPath><clipPath id="c1">'
    + STAR.format(extra="") + '<rect x="10" y="10" width="20" height="20" clip-path="url(#c2)" '
    'transform="scale(0.25) translate(60 60)"/></clipPath>',
    # an empty clip path on the only child clips everything away
    '<clipPath id="c2"/><clipPath id="c1">' + STAR.format(extra="") + '</clipPath>',
    # the child's clip leads back to #c1: usvg sets the inner link to none
    '<clipPath id="c1">' + STAR.format(extra="").replace("#c2", "#c3") + '</clipPath><clipPath id="c3">'
    + STAR.format(extra=' transform="rotate(45 20 20)"').replace("#c2", "#c1") + '</clipPath>',
])
def test_clip_path_on_clip_children_draws_like_resvg(clip: str) -> None:
    document = svg('<rect width="40" height="40" fill="green" clip-path="url(#c1)"/>', clip)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loop is reported; the drawing is what is checked
        drawn = clipvg_rgba(document)
    assert drawn[..., 3].max() > 0 or "<clipPath id=\"c2\"/>" in clip
    assert differing(drawn, resvg_rgba(document)) < MAX_SHARE


def test_mask_loop_on_a_child_is_cut_as_resvg_does() -> None:
    document = svg('<rect x="4" y="4" width="32" height="14" fill="green" mask="url(#m1)"/>'
                   '<rect x="4" y="22" width="32" height="14" fill="green" mask="url(#m2)"/>',
                   '<linearGradient id="g"><stop offset="0" stop-color="white" stop-opacity="0"/><stop offset="1"/>'
                   '</linearGradient><mask id="m1"><rect x="4" y="4" width="32" height="32" fill="url(#g)" '
                   'mask="url(#m2)"/></mask><mask id="m2"><rect x="4" y="4" width="32" height="32" fill="white" '
                   'mask="url(#m1)"/></mask>')
    with pytest.warns(UnsupportedSVGWarning, match="refers to itself"):
        drawn = clipvg_rgba(document)
    assert differing(drawn, resvg_rgba(document)) < MAX_SHARE


NESTED = svg(SHAPE, CHECKS.format(extra="").replace('id="p"', 'id="q"') + '<pattern id="p" patternUnits='
             '"userSpaceOnUse" width="16" height="16" patternTransform="rotate(15)"><rect width="12" height="12" '
             'fill="url(#q)" opacity="0.8"/></pattern>')


def test_save_keeps_patterns_and_resvg_draws_the_saved_file_the_same() -> None:
    scene = load_svg(NESTED)
    saved = scene_to_svg_string(scene)
    assert saved.count("<pattern") == 2 and "patternTransform" in saved
    again = load_svg(saved)
    assert len(list(again.tree.patterns())) == len(list(scene.tree.patterns())) == 2
    with torch.no_grad():
        np.testing.assert_allclose(render(again, SIZE, SIZE).numpy(), render(scene, SIZE, SIZE).numpy(), atol=2e-2)
    assert differing(resvg_rgba(saved), resvg_rgba(NESTED)) < MAX_SHARE


def test_save_keeps_clip_paths_on_clip_children() -> None:
    clip = ('<clipPath id="c2"><circle cx="20" cy="20" r="12"/></clipPath><clipPath id="c1">' + STAR.format(extra="")
            + '<rect x="10" y="10" width="20" height="20" clip-path="url(#c2)" transform="scale(0.25) translate(60 60)"/>'
            '</clipPath>')
    document = svg('<rect width="40" height="40" fill="green" clip-path="url(#c1)"/>', clip)
    saved = scene_to_svg_string(load_svg(document))
    assert differing(clipvg_rgba(saved), clipvg_rgba(document)) == 0
    assert differing(resvg_rgba(saved), resvg_rgba(document)) < MAX_SHARE


def test_patterns_and_clip_parts_survive_a_checkpoint() -> None:
    document = svg(SHAPE, CHECKS.format(extra="") + '<clipPath id="c2"><circle cx="20" cy="20" r="12"/></clipPath>'
                   '<clipPath id="c1">' + STAR.format(extra="") + '</clipPath>').replace(
                       'fill="url(#p)"/>', 'fill="url(#p)" clip-path="url(#c1)"/>')
    scene = load_svg(document)
    restored = through_weights_only_checkpoint(scene)
    assert isinstance(next(restored.tree.patterns()), Pattern)
    assert any(g.clip is not None and g.clip.parts for g in restored.tree.groups())
    torch.testing.assert_close(render(restored), render(scene))


def test_tile_texture_size_follows_resvg_and_stays_bounded() -> None:
    # round(size x scale) texels, half away from zero: a 2.5-unit tile at 1.5 px per unit is 4 texels wide
    layout = tile_layout((2.5, 3.0), (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), (1.5, 1.5))
    assert (layout.width, layout.height) == (4, 5)
    assert tile_layout((0.2, 3.0), (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), (1.5, 1.5)) is None  # no texel: not drawn
    huge = tile_layout((1e5, 1e5), (2.0, 0.0, 0.0, 2.0, 5.0, 0.0), (1.0, 1.0))
    assert huge.width * huge.height <= MAX_TILE_TEXELS
    corner = huge.matrix @ torch.tensor([huge.width, huge.height, 1.0], dtype=torch.float64)
    torch.testing.assert_close(corner[:2], torch.tensor([2e5 + 5.0, 2e5], dtype=torch.float64))


# ---------------------------------------------------------------------- gradients
@pytest.mark.parametrize("turn", [0.0, 0.4])
def test_repeated_texture_gradient_matches_finite_differences(turn: float) -> None:
    torch.manual_seed(0)
    alpha = 0.6 + 0.4 * torch.rand(3, 4, 1, dtype=torch.float64)  # colour well below alpha: no clamping
    texture = torch.cat([alpha * (0.2 + 0.5 * torch.rand(3, 4, 3, dtype=torch.float64)), alpha], -1)  # premultiplied
    texture.requires_grad_(True)
    coverage = torch.rand(9 * 8, dtype=torch.float64, requires_grad=True)
    c, s = np.cos(turn), np.sin(turn)
    layout = tile_layout((4.0, 3.0), (c, s, -s, c, 0.3, 0.7), (1.0, 1.0))  # turned: bicubic, else nearest
    weights = torch.rand(9 * 8, 4, dtype=torch.float64)

    def loss(t: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        color, alpha = draw_repeated(t, layout.matrix, k, (0, 0, 9, 8), 9, 8, 0.8)
        return (torch.cat([color, alpha[:, None]], 1) * weights).sum()

    assert torch.autograd.gradcheck(loss, (texture, coverage), eps=1e-6, atol=1e-6)


TILED = svg('<rect x="2.3" y="3.1" width="30.2" height="27.7" fill="url(#p)"/>',
            '<pattern id="p" patternUnits="userSpaceOnUse" width="9" height="7" x="0.4">'
            '<rect x="1.3" y="0.7" width="5.2" height="4.6" fill="#c83" fill-opacity="0.8"/><circle cx="6" cy="5" r="1.7" '
            'fill="#38c" fill-opacity="0.7"/></pattern>').replace('viewBox="0 0 40 40"', 'viewBox="0 0 32 32"')


@pytest.mark.parametrize("field", ["fill_color", "points"])
def test_tile_content_gets_gradients_through_the_texture(field: str) -> None:
    scene = double(load_svg(TILED))
    (pattern,) = scene.tree.patterns()
    tile_paths = list(pattern.content.drawn_paths())
    if field == "fill_color":
        entries = [4 * p + c for p in tile_paths for c in range(4)]
    else:
        entries = point_entries(scene, tile_paths[0])[:4] + point_entries(scene, tile_paths[1])[:2]
    finite_difference_check(scene, field, entries)
