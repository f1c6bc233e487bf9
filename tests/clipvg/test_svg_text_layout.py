"""SVG text layout: glyph positions from the synthetic test font (1000 units per em at font-size
100, so 1 unit = 0.1 px; A spans 50..750 units, O 100..700, every advance 800)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import clipvg
from clipvg.svg.document import UnsupportedSVGWarning
from text_fonts import FAMILY, SUBSCRIPT, SUPERSCRIPT, THICKNESS, UNDERLINE, X_HEIGHT, boxes, load, svg, text_font  # noqa: F401

pytestmark = pytest.mark.usefixtures("text_font")
FONT = f'font-family="{FAMILY}" font-size="100"'


def lefts(markup: str) -> list[float]:
    return [b[0] for b in boxes(load(markup))]


def test_absolute_x_list_places_each_character():
    assert lefts(svg(f'<text x="10 100 200" y="100" {FONT}>AOA</text>')) == pytest.approx([15, 110, 205])


def test_relative_lists_are_inherited_and_overridden_by_nested_tspans():
    markup = svg(f'<text x="10" y="100" {FONT}><tspan dx="10 20 30">A<tspan dx="5">O</tspan>O</tspan>A</text>',
                 width=500)
    # A +10, O +5 (the inner list wins), O +30 (the outer list's third value), A +0
    assert lefts(markup) == pytest.approx([25, 115, 225, 300])


def test_dy_list_moves_characters_down_cumulatively():
    tops = [b[1] for b in boxes(load(svg(f'<text x="10" y="100" dy="0 10 10" {FONT}>AAA</text>')))]
    assert tops == pytest.approx([30, 40, 50])


def test_rotate_list_repeats_its_last_angle():
    rotated = boxes(load(svg(f'<text x="10" y="100" rotate="0 90" {FONT}>AOA</text>')))
    x0 = 10 + 160  # origin of the third glyph
    # A's outline (x 5..75, y -70..0 about its origin) turned 90 degrees clockwise
    assert rotated[2] == pytest.approx((x0, 105, x0 + 70, 175))
    assert rotated[0] == pytest.approx((15, 30, 85, 100))


@pytest.mark.parametrize("anchor, shift", [("start", 0), ("middle", -120), ("end", -240)])
def test_text_anchor_aligns_each_chunk(anchor, shift):
    markup = svg(f'<text x="200" y="100" text-anchor="{anchor}" {FONT}>AOA</text>')
    assert lefts(markup)[0] == pytest.approx(200 + shift + 5)


def test_letter_word_spacing_and_kerning():
    assert lefts(svg(f'<text x="0" y="100" letter-spacing="10" {FONT}>AOA</text>')) == pytest.approx([5, 100, 185])
    assert lefts(svg(f'<text x="0" y="100" word-spacing="20" {FONT}>A A</text>')) == pytest.approx([5, 185])
    assert lefts(svg(f'<text x="0" y="100" {FONT}>AV</text>'))[1] == pytest.approx(80 - 10 + 5)
    assert lefts(svg(f'<text x="0" y="100" style="font-kerning: none" {FONT}>AV</text>'))[1] == pytest.approx(85)


def test_text_length_spreads_or_scales():
    spaced = lefts(svg(f'<text x="0" y="100" textLength="300" {FONT}>AOA</text>'))
    assert spaced == pytest.approx([5, 110 + 10, 220 + 5])  # (300 - 240) / 2 more after each glyph
    scaled = boxes(load(svg(f'<text x="0" y="100" textLength="480" lengthAdjust="spacingAndGlyphs" {FONT}>'
                            'AOA</text>', width=500)))
    assert scaled[0][2] - scaled[0][0] == pytest.approx(140)  # twice as wide
    assert scaled[2][0] == pytest.approx(320 + 10)


def test_text_on_a_straight_path_matches_the_line():
    path = '<defs><path id="p" d="M 10 100 L 390 100"/></defs>'
    along = lefts(svg(f'{path}<text {FONT}><textPath href="#p" startOffset="20">AOA</textPath></text>'))
    assert along == pytest.approx([35, 120, 195], abs=0.5)  # within resvg's arc-length tolerance


@pytest.mark.parametrize("attribute", ['method="stretch"', 'side="right"'])
def test_text_path_values_laid_out_as_the_default_are_named(attribute):
    path = '<defs><path id="p" d="M 10 100 L 390 100"/></defs>'
    markup = svg(f'{path}<text {FONT}><textPath href="#p" startOffset="20" {attribute}>AOA</textPath></text>')
    with pytest.warns(UnsupportedSVGWarning, match=f"textPath {attribute} .laid out as the default"):
        clipvg.load_svg(markup)
    along = lefts(markup)
    assert along == pytest.approx([35, 120, 195], abs=0.5)  # as without it


def test_text_on_a_path_follows_its_direction():
    path = '<defs><path id="p" d="M 100 10 L 100 390"/></defs>'  # downward: glyphs turn 90 degrees
    box = boxes(load(svg(f'{path}<text {FONT}><textPath xlink:href="#p">A</textPath></text>', height=400)))[0]
    assert box == pytest.approx((100, 10 + 5, 100 + 70, 10 + 75), abs=0.5)


@pytest.mark.parametrize("shift, up", [("super", SUPERSCRIPT / 10), ("sub", -SUBSCRIPT / 10), ("20", 20),
                                       ("50%", 50), ("baseline", 0)])
def test_baseline_shift(shift, up):
    markup = svg(f'<text x="0" y="150" {FONT}>A<tspan baseline-shift="{shift}">A</tspan></text>')
    first, second = boxes(load(markup))
    assert second[3] == pytest.approx(first[3] - up)


@pytest.mark.parametrize("baseline, down", [("central", 80 - 50), ("middle", X_HEIGHT / 20), ("hanging", 64),
                                            ("mathematical", 40), ("text-after-edge", -20),
                                            ("text-before-edge", 80), ("alphabetic", 0)])
def test_dominant_baseline(baseline, down):
    box = boxes(load(svg(f'<text x="0" y="100" dominant-baseline="{baseline}" {FONT}>A</text>')))[0]
    assert box[3] == pytest.approx(100 + down)


def test_decoration_uses_the_decorating_elements_paint():
    markup = svg(f'<text x="0" y="100" fill="red" text-decoration="underline line-through" {FONT}>'
                 '<tspan fill="blue">AO</tspan></text>')
    scene = load(markup)
    fills = [tuple(round(v, 3) for v in scene.path(i).fill.rgba) for i in range(scene.num_paths)]
    red, blue = (1.0, 0.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)
    assert fills == [red, blue, blue, red]  # underline, glyphs, line-through over them
    thickness = THICKNESS / 10
    underline, strike = boxes(scene)[0], boxes(scene)[3]
    assert underline == pytest.approx((0, 100 - UNDERLINE / 10 - thickness / 2, 160, 100 - UNDERLINE / 10 + thickness / 2))
    assert strike[1] == pytest.approx(100 - 30 - thickness / 2)  # OS/2 strikeout position 300 units


def test_vertical_writing_stacks_glyphs_down():
    first, second = boxes(load(svg(f'<text x="100" y="10" writing-mode="tb" {FONT}>AO</text>', height=300)))
    assert second[1] >= first[3] - 1e-6  # the second glyph starts below the first
    assert first[0] < 100 < first[2]  # centred on the line x = 100


def test_groups_keep_ids_and_glyphs_stay_separate_paths():
    scene = load(svg(f'<text id="title" x="0" y="100" {FONT}>A<tspan id="word">OA</tspan></text>'))
    assert scene.num_paths == 3
    by_id = {g.id: g for g in _groups(scene.tree)}
    title, word = by_id["title"], by_id["word"]
    assert sorted(word.drawn_paths()) == [1, 2] and sorted(title.drawn_paths()) == [0, 1, 2]


def test_tref_draws_the_referenced_text():
    markup = svg(f'<defs><text id="source">AO</text></defs><text x="0" y="100" {FONT}><tref xlink:href="#source"/></text>')
    assert lefts(markup) == pytest.approx([5, 90])


def test_xml_space_preserve_keeps_spaces():
    assert lefts(svg(f'<text x="0" y="100" {FONT}>  A   O </text>')) == pytest.approx([5, 170])
    assert lefts(svg(f'<text x="0" y="100" xml:space="preserve" {FONT}>A  O</text>')) == pytest.approx([5, 250])


def test_fallback_font_is_named_in_a_warning():
    with pytest.warns(UnsupportedSVGWarning, match=r"character 'B' \(U\+0042\) missing from font Clipvg Test"):
        scene = clipvg.load_svg(svg(f'<text x="0" y="100" {FONT}>AB</text>'))
    assert scene.num_paths == 2


def test_missing_family_is_drawn_in_serif_and_reported():
    with pytest.warns(UnsupportedSVGWarning, match="font 'No Such Family' not installed"):
        scene = clipvg.load_svg(svg('<text x="0" y="100" font-family="No Such Family">Hi</text>'))
    assert scene.num_paths == 2


def test_font_size_keywords_and_relative_sizes():
    widths = []
    for size in ("larger", "200%", "2em"):
        markup = svg(f'<g font-size="50"><text x="0" y="100" font-family="{FAMILY}" font-size="{size}">A</text></g>')
        box = boxes(load(markup))[0]
        widths.append(box[2] - box[0])
    assert widths == pytest.approx([70 * 0.5 * 1.2, 70, 70])


def test_font_shorthand_in_style():
    box = boxes(load(svg(f'<text x="0" y="100" style="font: 200px \'{FAMILY}\'">A</text>', width=500)))[0]
    assert box[2] - box[0] == pytest.approx(140)


def test_glyphs_render_where_their_outlines_are():
    image = clipvg.render(load(svg(f'<text x="10" y="100" fill="black" {FONT}>O</text>')))
    alpha = image[..., 3].numpy()
    assert alpha[100 - 17, 10 + 40] > 0.99  # on the ring's bottom side (y 100..250 units)
    assert alpha[100 - 40, 10 + 40] < 0.01  # in the hole
    assert np.isclose(alpha[:, :10].max(), 0)


def test_svg_table_glyph_is_drawn_as_its_svg_content():
    scene = load(svg('<text x="10" y="100" font-family="Clipvg Colour" font-size="100">AO</text>'))
    assert [tuple(scene.path(i).fill.rgba) for i in range(scene.num_paths)][0] == (1.0, 0.0, 0.0, 1.0)
    assert boxes(scene)[0] == pytest.approx((20, 50, 70, 100))  # the square, 0.1 px per unit
    assert boxes(scene)[1][0] == pytest.approx(10 + 80 + 10)  # O drawn from its outline after A's advance


@pytest.mark.parametrize("style, width", [("", 20), ("font-weight: 900", 60),
                                          ("font-variation-settings: 'wght' 650", 40),
                                          ("font-weight: 900; font-variation-settings: 'wght' 400", 20)])
def test_variable_font_axes_follow_weight_and_variation_settings(style, width):
    box = boxes(load(svg(f'<text x="0" y="100" font-family="Clipvg Var" font-size="100" style="{style}">A</text>')))[0]
    assert box[2] - box[0] == pytest.approx(width)


def test_text_saved_as_glyph_paths_reloads_the_same(tmp_path):
    scene = load(svg(f'<text id="title" x="10" y="100" fill="navy" {FONT}>A<tspan id="word" fill="red">OA</tspan>'
                     '</text>'))
    clipvg.save_svg(scene, tmp_path / "out.svg")
    again = load(str(tmp_path / "out.svg"))
    assert again.num_paths == scene.num_paths == 3
    assert np.allclose(again.points.numpy(), scene.points.numpy(), atol=1e-3)
    assert {"title", "word"} <= {g.id for g in _groups(again.tree)}


def _groups(group):
    yield group
    for child in group.children:
        if not isinstance(child, int):
            yield from _groups(child)


def test_a_text_that_fails_to_lay_out_is_reported_and_the_rest_drawn(monkeypatch):
    import sys

    def broken(*args, **kwargs):
        raise ValueError("bad font tables")

    monkeypatch.setattr(sys.modules["clipvg.svg.text"], "convert", broken)
    with pytest.warns(UnsupportedSVGWarning, match="text that could not be laid out .ValueError: bad font tables"):
        scene = clipvg.load_svg(svg(f'<text x="0" y="100" {FONT}>AO</text><rect width="5" height="5"/>'))
    assert scene.num_paths == 1


def test_markers_on_text_are_not_drawn():
    marker = ('<defs><marker id="m" markerWidth="20" markerHeight="20"><rect width="20" height="20" fill="blue"/>'
              '</marker></defs>')
    scene = load(svg(f'{marker}<text x="0" y="100" marker-start="url(#m)" marker-end="url(#m)" {FONT}>AO</text>'))
    assert scene.num_paths == 2


def test_tspan_ignores_transform_opacity_and_effects():
    plain = load(svg(f'<text x="0" y="100" {FONT}>A<tspan>O</tspan></text>'))
    markup = ('<defs><clipPath id="c"><rect width="1" height="1"/></clipPath></defs>'
              f'<text x="0" y="100" {FONT}>A<tspan transform="skewX(30)" opacity="0.5" clip-path="url(#c)">O</tspan>'
              '</text>')
    decorated = load(svg(markup))
    assert np.allclose(decorated.points.numpy(), plain.points.numpy())
    assert np.array_equal(clipvg.render(decorated).numpy(), clipvg.render(plain).numpy())


def test_bounding_box_units_of_a_clip_refer_to_the_text_metric_box():
    clip = ('<defs><clipPath id="top" clipPathUnits="objectBoundingBox"><rect width="1" height="0.5"/></clipPath>'
            '</defs>')
    alpha = clipvg.render(load(svg(f'{clip}<text x="0" y="100" clip-path="url(#top)" {FONT}>A</text>')))[..., 3]
    # the box runs from the ascent (y 20) to the descent (y 120): its top half ends at y 70, above A's foot
    assert alpha[65, 40] > 0.9 and alpha[75, 40] < 0.1


def test_text_whose_outlines_are_over_the_points_limit_is_refused_before_they_are_written():
    from clipvg.errors import SVGParseError
    from clipvg.limits import ResourceLimits, using
    from clipvg.svg.document import parse_xml
    from clipvg.svg.point_count import count_points
    from clipvg.svg.text import texts_to_paths

    markup = svg(f'<text x="10" y="100" {FONT}>AOA <tspan>OA</tspan></text><text y="150" {FONT}>OO</text>')
    root = parse_xml(markup.encode(), "t.svg")
    texts_to_paths(root, (400, 200), "t.svg")
    points = sum(count_points(e.get("d")) for e in root.iter() if e.get("d"))  # what the outlines hold
    assert points > 0
    with using(ResourceLimits(points=points)):
        assert load(markup).num_paths == 7  # at the limit: drawn
    with using(ResourceLimits(points=points - 1)), pytest.raises(SVGParseError) as refused:
        load(markup)
    assert refused.value.limit == "points" and str(refused.value).startswith(
        f"<string>: the point count of the text drawn as outlines is {points:,}, over the points limit of {points - 1:,}")


def test_text_over_the_text_characters_limit_is_refused_before_it_is_laid_out():
    from clipvg.errors import SVGParseError
    from clipvg.limits import ResourceLimits, using

    markup = svg(f'<text x="10" y="100" {FONT}>AO A<tspan>\nOA </tspan></text><text y="150" {FONT}>O O</text>')
    with using(ResourceLimits(text_characters=7)):  # the spaces and the line break are not counted
        assert load(markup).num_paths == 7
    with using(ResourceLimits(text_characters=6)), pytest.raises(SVGParseError) as refused:
        load(markup)
    assert refused.value.limit == "text_characters" and str(refused.value).startswith(
        "<string>: the character count of its text is 7, over the text_characters limit of 6; reduce it, or raise "
        "the limit with --max-text-characters N (setting CLIPVG_MAX_TEXT_CHARACTERS=N")


def test_text_outlines_and_path_data_together_over_the_points_limit_are_refused():
    from clipvg.errors import SVGParseError
    from clipvg.limits import ResourceLimits, using
    from clipvg.svg.document import parse_xml
    from clipvg.svg.point_count import count_points
    from clipvg.svg.text import texts_to_paths

    text = f'<text x="10" y="100" {FONT}>AOA</text>'
    root = parse_xml(svg(text).encode(), "t.svg")
    texts_to_paths(root, (400, 200), "t.svg")
    glyphs = sum(count_points(e.get("d")) for e in root.iter() if e.get("d"))
    markup = svg(text + '<path d="M0 0 L5 0 L5 5 Z"/>')  # 3 points of path data beside the outlines
    with using(ResourceLimits(points=glyphs + 3)):
        assert load(markup).num_paths == 4
    with using(ResourceLimits(points=glyphs + 2)), pytest.raises(SVGParseError, match="the point count of all path data"):
        load(markup)
