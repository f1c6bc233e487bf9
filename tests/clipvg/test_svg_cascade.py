"""The CSS cascade: selectors, specificity, !important, style attributes, inherit and currentColor,
drawn like resvg, and the style-attribute parser."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from clipvg import Solid, load_svg
from clipvg.svg import UnsupportedSVGWarning
from clipvg.svg.css import apply_stylesheets, declarations, properties
from svg_renderers import assert_draws_like_resvg
from svg_samples import svg

SIZE = 'width="48" height="48"'


def assert_like_resvg(body: str, expected: str | None = None) -> None:
    assert_draws_like_resvg(svg(body, SIZE), svg(expected, SIZE) if expected else None)


def test_selectors_specificity_and_important() -> None:
    assert_like_resvg("""
      <style>
        rect { fill: red }
        .a { fill: #c04020 }
        #b { fill: #2040c0 }
        rect.a { fill: #40a060 }
        [data-kind="x"] { fill: #806020 !important }
        g > circle:first-child { fill: #20a0a0 }
        * { stroke-width: 2 }
        g circle + circle { stroke: #000 }
      </style>
      <rect class="a" width="10" height="10"/>
      <rect id="b" x="12" width="10" height="10" style="fill: #c0c020"/>
      <rect x="24" width="10" height="10" data-kind="x" style="fill: red"/>
      <rect x="36" width="10" height="10" fill="#204020" style="fill: #a040a0"/>
      <g><circle cx="8" cy="30" r="6"/><circle cx="24" cy="30" r="6" fill="#6060c0"/></g>""")


def test_inherit_and_current_color_everywhere() -> None:
    assert_like_resvg("""
      <g color="#2040c0" fill="#c04020" stroke="#000">
        <linearGradient id="g"><stop stop-color="currentColor"/><stop offset="1" stop-color="#fff"/></linearGradient>
        <rect width="20" height="20" fill="url(#g)" stroke="inherit"/>
        <g fill="inherit" color="#40a060"><rect x="24" width="20" height="20"/>
          <circle cx="10" cy="34" r="8" fill="currentColor" stroke="none"/></g>
        <g style="color: #806020"><rect x="26" y="26" width="16" height="16" fill="currentColor" color="inherit"/></g>
      </g>""")


def test_presentation_attributes_only_from_css() -> None:
    # geometry in CSS is SVG 2 and not applied (as in resvg); transform is (as in resvg's suite, which
    # resvg-py 0.5 predates: compared with the transform written as an attribute)
    assert_like_resvg("""
      <style>#a { height: 40px } #b { transform: translate(20px, 0) }</style>
      <rect id="a" width="10" height="10" fill="#2040c0"/><rect id="b" y="20" width="10" height="10"/>""",
                      """<rect width="10" height="10" fill="#2040c0"/>
      <rect y="20" width="10" height="10" transform="translate(20 0)"/>""")


def test_style_sheet_text_in_cdata_and_comments() -> None:
    assert_like_resvg("""
      <style><![CDATA[ /* a comment */ .c { fill : #40a060 ; /* another */ stroke: #000 } ]]></style>
      <rect class="c" x="4" y="4" width="30" height="30" style="/* x */ stroke-width: 3"/>""")


def test_declarations_parse_the_style_attribute() -> None:
    assert declarations("fill: red; STROKE:blue !important;; bogus; opacity :0.5 /* c */") == [
        ("fill", "red", False), ("stroke", "blue", True), ("opacity", "0.5", False)]
    element = ET.fromstring('<rect xmlns="http://www.w3.org/2000/svg" fill="green" stroke="red" '
                            'style="stroke: blue !important; stroke: black; fill-opacity: .5" width="3"/>')
    assert properties(element) == {"fill": "green", "stroke": "blue", "fill-opacity": ".5"}
    assert properties(element, ["fill"]) == {"fill": "green"}


def test_cascade_writes_attributes_and_removes_style_sheets() -> None:
    root = ET.fromstring('<svg xmlns="http://www.w3.org/2000/svg"><style>rect { fill: blue; height: 4px }</style>'
                         '<rect style="opacity: 0.5"/></svg>')
    apply_stylesheets(root)
    (rect,) = list(root)
    assert rect.attrib == {"fill": "blue", "opacity": "0.5"}


@pytest.mark.parametrize("sheet", ["@import url(other.css);", "rect::after { fill: red }", "rect:hover { fill: red }"])
def test_rules_that_cannot_apply_are_ignored(sheet: str) -> None:
    scene = load_svg(svg(f"<style>{sheet}</style><rect width='4' height='4' fill='#00ff00'/>"))
    assert scene.path(0).fill.rgba == pytest.approx((0, 1, 0, 1))


@pytest.mark.parametrize("paint", ["url(#empty) #208040", "url(#flat) #208040"])
def test_gradients_that_cannot_paint_give_way_to_the_fallback(paint: str) -> None:
    assert_like_resvg(f"""
      <linearGradient id="empty"/>
      <linearGradient id="flat"><stop stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient>
      <line x1="4" y1="24" x2="44" y2="24" stroke="{paint}"
            stroke-width="6"/>""", '<line x1="4" y1="24" x2="44" y2="24" stroke="#208040" stroke-width="6"/>')


@pytest.mark.parametrize("depth", [300, 50_000])
def test_css_nested_too_deeply_is_left_out_and_the_rest_applies(depth: int) -> None:
    deep_selector = ":not(" * depth + "rect" + ")" * depth
    deep_value = "f(" * depth + ")" * depth
    with pytest.warns(UnsupportedSVGWarning, match="CSS rule nested too deeply \\(not applied\\)"):
        scene = load_svg(svg(f"<style>{deep_selector} {{ fill: red }} rect {{ fill: {deep_value} }} "
                             f"#b {{ fill: #0000ff }}</style><rect width='4' height='4'/>"
                             f"<rect id='b' x='5' width='4' height='4' style='stroke: {deep_value}; opacity: .5'/>"))
    first, second = scene.path(0), scene.path(1)
    assert first.fill == Solid((0.0, 0.0, 0.0, 1.0))  # neither deep rule applied: the default black
    assert second.fill == Solid((0.0, 0.0, 1.0, 1.0)) and second.stroke is None and second.opacity == 0.5
    too_deep = "f(" * 50_000 + ")" * 50_000  # past what the serializer's recursion writes back: dropped
    assert declarations(f"fill: {too_deep}; stroke: red") == [("stroke", "red", False)]
