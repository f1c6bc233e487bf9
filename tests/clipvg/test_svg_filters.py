"""SVG filters read, drawn and written: small hand-written files per primitive (and CSS filter
function) against resvg-py's pixels, load -> save -> load round trips that keep every primitive and
draw the same (in clipvg and in resvg), and what is not drawn warning by name."""
from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import pytest
from PIL import Image

from clipvg import load_svg
from clipvg.svg import UnsupportedSVGWarning, scene_to_svg_string
from resvg_compare import clipvg_on_white, resvg_on_white, share_different

SIZE = 48
TOLERANCE = 16 / 255  # a pixel differs when a channel is off by more than this
MAX_DIFFERENT = 0.02  # ... and at most this share may differ (resvg keeps 8-bit premultiplied intermediates,
#                       which moves a few antialiased edge pixels of a 48 px picture past 16/255)


def png_uri() -> str:
    """A 4 x 4 PNG (a red/blue checker with a half-transparent corner) as a data URI."""
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[..., 3] = 255
    pixels[::2, ::2, 0] = pixels[1::2, 1::2, 0] = 255
    pixels[1::2, ::2, 2] = pixels[::2, 1::2, 2] = 255
    pixels[0, 0, 3] = 128
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def document(filters: str, target: str = 'filter="url(#f)"') -> str:
    return f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
 width="{SIZE}" height="{SIZE}" viewBox="0 0 96 96">
 <defs><linearGradient id="lg"><stop offset="0" stop-color="#f80"/><stop offset="1" stop-color="#08f"
   stop-opacity="0.6"/></linearGradient>{filters}</defs>
 <rect x="2" y="2" width="92" height="92" fill="#eee"/>
 <g {target}><rect x="20" y="24" width="50" height="40" fill="url(#lg)"/>
  <circle cx="60" cy="60" r="18" fill="seagreen" stroke="#222" stroke-width="3"/></g>
</svg>"""


FILTERS = {
    "blur and offset": '<filter id="f"><feGaussianBlur stdDeviation="3 1"/><feOffset dx="6" dy="-4"/></filter>',
    "flood, composite in, merge": """<filter id="f" x="0" y="0" width="1" height="1">
        <feFlood flood-color="crimson" flood-opacity="0.7" result="flood"/>
        <feComposite in="flood" in2="SourceAlpha" operator="in" result="tint"/>
        <feOffset in="SourceGraphic" dx="4" dy="4" result="moved"/>
        <feMerge><feMergeNode in="tint"/><feMergeNode in="moved"/></feMerge></filter>""",
    "composite arithmetic and xor": """<filter id="f"><feFlood flood-color="gold" x="30" y="30" width="40" height="30"/>
        <feComposite in="SourceGraphic" operator="arithmetic" k1="0.5" k2="0.6" k3="0.4" k4="0.05" result="a"/>
        <feComposite in="a" in2="SourceGraphic" operator="xor"/></filter>""",
    "blend modes": """<filter id="f"><feFlood flood-color="#48c" result="b"/>
        <feBlend in="SourceGraphic" in2="b" mode="color-burn" result="x"/>
        <feBlend in="x" in2="SourceGraphic" mode="luminosity"/></filter>""",
    "colour matrix and transfer": """<filter id="f" color-interpolation-filters="sRGB">
        <feColorMatrix type="hueRotate" values="120"/><feColorMatrix type="saturate" values="0.4"/>
        <feComponentTransfer><feFuncR type="table" tableValues="0 0.2 1"/><feFuncG type="discrete" tableValues="0.1 0.6 0.9"/>
         <feFuncB type="gamma" amplitude="1.2" exponent="0.6" offset="0.05"/><feFuncA type="linear" slope="0.8"/>
        </feComponentTransfer></filter>""",
    "luminance to alpha (linearRGB)": '<filter id="f"><feColorMatrix type="luminanceToAlpha"/></filter>',
    "morphology": '<filter id="f"><feMorphology operator="dilate" radius="3 1"/><feMorphology radius="1.5"/></filter>',
    "morphology with a huge radius": '<filter id="f"><feMorphology radius="9999 1"/></filter>',
    "convolve": """<filter id="f"><feConvolveMatrix order="3" kernelMatrix="1 -1 0 2 0 -2 0 1 -1" divisor="2" bias="0.1"
        edgeMode="wrap" targetX="0"/></filter>""",
    "tile": """<filter id="f"><feOffset dx="3" dy="2" x="24" y="26" width="20" height="14"/><feTile/></filter>""",
    "tile of a subregion the region cuts": """<filter id="f" x="0.2" y="0.2" width="0.7" height="0.7">
        <feFlood flood-color="seagreen" x="24" y="28" width="16" height="14"/><feOffset dx="4" dy="3"/><feTile/>
        </filter>""",
    "turbulence": """<filter id="f" x="0" y="0" width="1" height="1">
        <feTurbulence baseFrequency="0.03 0.06" numOctaves="3" seed="7" type="fractalNoise"/>
        </filter>""",
    "turbulence (turbulence type)": """<filter id="f"><feTurbulence baseFrequency="0.08" numOctaves="2" seed="-3"/>
        <feComposite in2="SourceAlpha" operator="in"/></filter>""",
    "diffuse distant light": """<filter id="f">
        <feDiffuseLighting in="SourceAlpha" surfaceScale="2" diffuseConstant="1.2" lighting-color="#fc8">
        <feDistantLight azimuth="45" elevation="40"/></feDiffuseLighting></filter>""",
    "specular point light": """<filter id="f">
        <feSpecularLighting in="SourceAlpha" surfaceScale="2" specularConstant="1.5" specularExponent="12">
        <fePointLight x="30" y="20" z="40"/></feSpecularLighting>
        <feComposite in2="SourceGraphic" operator="over"/></filter>""",
    "spot light": """<filter id="f" primitiveUnits="userSpaceOnUse"><feDiffuseLighting surfaceScale="2">
        <feSpotLight x="10" y="10" z="60" pointsAtX="60" pointsAtY="60" specularExponent="2" limitingConeAngle="25"/>
        </feDiffuseLighting></filter>""",
    "drop shadow": '<filter id="f"><feDropShadow dx="4" dy="5" stdDeviation="2" flood-color="navy" flood-opacity="0.6"/></filter>',
    "object bounding box units and subregions": """<filter id="f" filterUnits="objectBoundingBox" x="0.1" y="0.1" width="0.8"
        height="0.9" primitiveUnits="objectBoundingBox"><feGaussianBlur stdDeviation="0.03"/>
        <feOffset dx="0.05" dy="0.02" x="0.2" y="0.2" width="0.7" height="0.6"/></filter>""",
    "feImage of an element": """<rect id="tile" x="5" y="5" width="20" height="12" fill="purple"/>
        <filter id="f"><feImage xlink:href="#tile"/><feComposite in2="SourceGraphic"/></filter>""",
    "feImage of image data": f"""<filter id="f" x="0" y="0" width="1" height="1">
        <feImage xlink:href="{png_uri()}" preserveAspectRatio="none" style="image-rendering:optimizeSpeed"/></filter>""",
}
FUNCTIONS = {
    "blur()": "blur(2)",
    "drop-shadow()": "drop-shadow(blue 3 4 2)",
    "colour functions": "hue-rotate(0.1turn) grayscale(40%) sepia(0.3) saturate(2) invert(0.2) opacity(0.8) "
                        "brightness(1.2) contrast(0.7)",
}


def resvg_pixels(svg: str) -> np.ndarray:
    """resvg's render of ``svg`` at its own size (pixel for pixel: filters work on whole pixels), on white."""
    return resvg_on_white(svg, SIZE, SIZE, zoom=1)


def different(a: np.ndarray, b: np.ndarray) -> float:
    return share_different(a, b, TOLERANCE)


CASES = {**{name: document(markup) for name, markup in FILTERS.items()},
         **{name: document(FILTERS["blur and offset"], f'filter="{value}"') for name, value in FUNCTIONS.items()}}


@pytest.mark.parametrize("name", list(CASES))
def test_filters_draw_like_resvg(name: str) -> None:
    svg = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # everything here is supported
        scene = load_svg(svg)
    assert different(clipvg_on_white(scene), resvg_pixels(svg)) <= MAX_DIFFERENT


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_keeps_filters_and_pixels(name: str) -> None:
    scene = load_svg(CASES[name])
    text = scene_to_svg_string(scene)
    again = load_svg(text)

    def kinds(tree) -> list[list[str]]:
        return [[p.kind for p in f.primitives] for g in tree.groups() for f in g.filters]

    assert kinds(again.tree) == kinds(scene.tree) and kinds(scene.tree)
    assert different(clipvg_on_white(again), clipvg_on_white(scene)) <= MAX_DIFFERENT
    assert different(resvg_pixels(text), clipvg_on_white(scene)) <= MAX_DIFFERENT  # the saved file draws the same in resvg


@pytest.mark.parametrize("std", ["5", "8 4"])
def test_a_wide_blur_fades_where_the_region_cuts_it_as_resvg(std: str) -> None:
    """resvg blurs a std over 2 px in passes that each lose what leaves the filter region, so a shape the
    region cuts fades toward the cut (about 0.3 alpha at the edge, not one Gaussian's 0.5)."""
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 96 96">
 <filter id="f" x="0.1" y="0.2" width="0.8" height="0.6"><feGaussianBlur stdDeviation="{std}"/></filter>
 <rect x="8" y="8" width="80" height="80" fill="seagreen" filter="url(#f)"/></svg>"""
    assert different(clipvg_on_white(load_svg(svg)), resvg_pixels(svg)) <= 0.01


def test_a_wide_blur_does_not_fade_where_the_canvas_cuts_its_region() -> None:
    """Where the canvas (not the filter region) cuts the region, the blur runs on past the edge as resvg's
    (a shape that ends at the canvas edge fades to half there, not to a third)."""
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 96 96">
 <filter id="f"><feGaussianBlur stdDeviation="5"/></filter>
 <rect x="0" y="0" width="60" height="70" fill="seagreen" filter="url(#f)"/></svg>"""
    assert different(clipvg_on_white(load_svg(svg)), resvg_pixels(svg)) <= 0.01


def test_filter_linking_to_nothing_hides_the_element_and_bad_lists_are_ignored() -> None:
    hidden = load_svg(document("", 'filter="url(#missing)"'))
    ignored = load_svg(document("", 'filter="blur(2) nonsense(1)"'))
    plain = load_svg(document("", ""))
    np.testing.assert_allclose(clipvg_on_white(hidden), clipvg_on_white(load_svg(document("", 'display="none"'))), atol=1e-6)
    np.testing.assert_allclose(clipvg_on_white(ignored), clipvg_on_white(plain), atol=1e-6)
    assert different(clipvg_on_white(hidden), clipvg_on_white(plain)) > 0.2


def test_unsupported_inputs_warn_by_name() -> None:
    svg = document('<filter id="f"><feOffset in="BackgroundImage" dx="3"/><feFoo/></filter>')
    with pytest.warns(UnsupportedSVGWarning, match="BackgroundImage"):
        scene = load_svg(svg)
    assert different(clipvg_on_white(scene), resvg_pixels(svg)) <= MAX_DIFFERENT


def test_fe_image_on_a_rotated_element_stays_upright_in_its_subregion() -> None:
    # as resvg: placed at the subregion's bounding box corner, sized by the transform's scale per axis
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{SIZE}"
     height="{SIZE}" viewBox="0 0 96 96"><filter id="f" x="0" y="0" width="1" height="1">
     <feImage x="30" width="40" xlink:href="{png_uri()}" preserveAspectRatio="none"/></filter>
     <rect x="20" y="20" width="56" height="56" fill="red" filter="url(#f)" transform="rotate(30 48 48)"/></svg>"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = load_svg(svg)
    assert different(clipvg_on_white(scene), resvg_pixels(svg)) <= MAX_DIFFERENT
    saved = scene_to_svg_string(scene)  # written in canvas px, it draws the same in resvg
    assert different(resvg_pixels(saved), clipvg_on_white(scene)) <= MAX_DIFFERENT


def _filtered(primitives: str, size: int = 32) -> np.ndarray:
    from clipvg import render

    scene = load_svg(f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}"><filter id="f">'
                     f'{primitives}</filter><rect width="{size}" height="{size}" filter="url(#f)"/></svg>')
    return render(scene, size).numpy()


def test_octaves_past_sixty_four_add_nothing_and_a_billion_do_not_loop():
    turbulence = '<feTurbulence baseFrequency="0.05" numOctaves="{}"/>'
    many = _filtered(turbulence.format(64))
    np.testing.assert_array_equal(_filtered(turbulence.format(60)), many)  # the noise of octaves 61-64 is 0
    np.testing.assert_array_equal(_filtered(turbulence.format(1_000_000_000)), many)  # (looped for ever)


@pytest.mark.parametrize("primitive, default", [
    ('<feTurbulence baseFrequency="0.05" numOctaves="{}" seed="{}"/>', '<feTurbulence baseFrequency="0.05"/>'),
    ('<feConvolveMatrix order="{}" targetX="{}" kernelMatrix="0 0 0 1 0 0 0 0 0"/>',
     '<feConvolveMatrix kernelMatrix="0 0 0 1 0 0 0 0 0"/>'),  # (the default order, 3, and target, 1)
    ('<feOffset dx="{}" dy="{}"/>', "<feOffset/>"),
])
@pytest.mark.parametrize("junk", ["1e309", "nan", "-inf"])
def test_a_number_that_is_not_finite_is_invalid_and_its_default_applies(primitive, default, junk):
    # (numOctaves, seed, order and targetX of 1e309 were an OverflowError traceback)
    np.testing.assert_array_equal(_filtered(primitive.format(junk, junk)), _filtered(default))


def test_a_convolution_kernel_over_the_cap_is_drawn_transparent_with_a_warning():
    from clipvg.svg.filters import MAX_CONVOLVE_ELEMENTS

    order = int(MAX_CONVOLVE_ELEMENTS ** 0.5) + 1
    with pytest.warns(UnsupportedSVGWarning, match=f"feConvolveMatrix of over {MAX_CONVOLVE_ELEMENTS} kernel values"):
        image = _filtered(f'<feConvolveMatrix order="{order}" kernelMatrix="{"1 " * order * order}"/>')
    assert not image[..., 3].any()
