"""Property tests of the SVG parsers (hypothesis): path data, transforms, lengths and units, colours,
viewBox/preserveAspectRatio, style attributes and whole small documents either load or raise the
project's own error (never another exception); valid generated values give the geometry and colour
an independent reference computes (tests/clipvg/svg_reference.py).

Example counts come from a settings profile: ``ci`` (default, the whole module well under a minute on
2 cores) or ``fuzz`` (HYPOTHESIS_PROFILE=fuzz, 25 times more examples)."""
from __future__ import annotations

import os
import random
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bad_corpus import fuzz_svg
from clipvg.errors import ClipvgError
from clipvg.render import render
from clipvg.svg import load_svg
from svg_reference import (UNITS, distance_to_polyline, path_samples, subpath_samples, transform_matrix,
                           viewbox_matrix)

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"{}>{}</svg>'

coordinate = st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 2))
positive = st.floats(0.5, 100).map(lambda v: round(v, 2))


def number(value: float) -> str:
    return f"{value:g}"


def _segment(draw) -> str:
    command = draw(st.sampled_from("LlHhVvCcSsQqTtAa"))
    kind = command.upper()
    if kind == "A":
        values = [draw(st.floats(0, 80).map(lambda v: round(v, 2))), draw(st.floats(0, 80).map(lambda v: round(v, 2))),
                  draw(st.integers(-360, 360)), draw(st.integers(0, 1)), draw(st.integers(0, 1)),
                  draw(coordinate), draw(coordinate)]
    else:
        values = [draw(coordinate) for _ in range({"L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2}[kind])]
    separator = draw(st.sampled_from((" ", ",", ", ")))
    return command + separator.join(number(v) if i < 3 or kind != "A" or i > 4 else str(int(v))
                                    for i, v in enumerate(values))


@st.composite
def path_data(draw) -> str:
    """Valid path data: one to three subpaths of one to six segments, open or closed."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        parts.append(draw(st.sampled_from("Mm")) + f"{number(draw(coordinate))} {number(draw(coordinate))}")
        parts += [_segment(draw) for _ in range(draw(st.integers(1, 6)))]
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from("Zz")))
    return draw(st.sampled_from((" ", ""))).join(parts)


def loads_or_our_error(markup: str):
    """The Scene of ``markup``, or None when it raised the project's own error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return load_svg(markup)
        except ClipvgError:
            return None


def sampled_subpaths(scene) -> list[np.ndarray]:
    return [subpath_samples(s.points, s.degrees, s.closed) for path in scene.paths() for s in path.subpaths]


@PROFILE
@given(path_data())
def test_valid_path_data_gives_the_reference_geometry(d):
    reference = [points for points, _ in path_samples(d)
                 if np.ptp(points, 0).max() > 1e-6]  # a subpath of zero extent draws nothing
    scene = loads_or_our_error(SVG.format("", f'<path d="{d}" fill="black"/>'))
    ours = sampled_subpaths(scene) if scene is not None else []
    ours = [points for points in ours if np.ptp(points, 0).max() > 1e-6]
    assert len(ours) == len(reference), (d, len(ours), len(reference))
    for mine, theirs in zip(ours, reference):
        tolerance = 1e-3 * max(1.0, np.abs(theirs).max())
        assert distance_to_polyline(theirs, mine) < tolerance, d
        assert distance_to_polyline(mine, theirs) < tolerance, d


JUNK_PATH = st.text(alphabet=list("MmLlHhVvCcSsQqTtAaZzEe0123456789.-+, \t\n#xX"), max_size=60) | st.text(max_size=30)


@PROFILE
@given(JUNK_PATH, st.sampled_from(("path d", "polygon points", "polyline points")))
def test_junk_path_data_loads_or_is_our_error(data, element):
    kind, attribute = element.split()
    escaped = data.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    loads_or_our_error(SVG.format("", f'<{kind} {attribute}="{escaped}"/>'))


TRANSFORM = st.one_of(
    st.tuples(st.just("translate"), st.lists(coordinate, min_size=1, max_size=2)),
    st.tuples(st.just("scale"), st.lists(st.floats(0.1, 4).map(lambda v: round(v, 3)), min_size=1, max_size=2)),
    st.tuples(st.just("rotate"), st.one_of(st.lists(coordinate, min_size=1, max_size=1),
                                          st.lists(coordinate, min_size=3, max_size=3))),
    st.tuples(st.sampled_from(("skewX", "skewY")), st.lists(st.floats(-60, 60).map(lambda v: round(v, 2)),
                                                            min_size=1, max_size=1)),
    st.tuples(st.just("matrix"), st.lists(st.floats(-3, 3).map(lambda v: round(v, 3)), min_size=6, max_size=6)))


@PROFILE
@given(st.lists(TRANSFORM, min_size=1, max_size=3), st.sampled_from((" ", ",")))
def test_transform_lists_match_the_reference_matrix(items, separator):
    text = " ".join(f"{name}({separator.join(number(v) for v in values)})" for name, values in items)
    scene = loads_or_our_error(SVG.format("", f'<path transform="{text}" d="M10 20 L50 20 L30 60 Z"/>'))
    matrix = transform_matrix(items)
    if abs(np.linalg.det(matrix[:2, :2])) < 1e-6:
        return  # a singular transform draws nothing: dropping the path is right
    expected = np.array([[10, 20, 1], [50, 20, 1], [30, 60, 1]]) @ matrix.T
    assert scene is not None and scene.num_paths == 1, text
    ours = scene.path(0).subpaths[0].points
    assert np.allclose(ours, expected[:, :2], atol=1e-3 * max(1, np.abs(expected).max())), (text, ours, expected)


@PROFILE
@given(st.text(alphabet=list("translatescalerotateskewXYmatrix(),.-+0123456789e "), max_size=50))
def test_junk_transforms_load_or_are_our_error(text):
    loads_or_our_error(SVG.format("", f'<rect transform="{text}" width="10" height="10"/>'))


@PROFILE
@given(st.floats(1, 500).map(lambda v: round(v, 2)), st.sampled_from(sorted(UNITS)))
def test_lengths_in_units_give_the_reference_pixels(value, unit):
    pixels = value * UNITS[unit]
    scene = loads_or_our_error(f'<svg xmlns="http://www.w3.org/2000/svg" width="{number(value)}{unit}" '
                               f'height="100"><rect width="5" height="5"/></svg>')
    if pixels > 16384:  # over the reader's canvas size limit: its own error
        return
    assert scene is not None and scene.width == pytest.approx(pixels, rel=1e-5)


@PROFILE
@given(st.text(alphabet=list("0123456789.e-+%pxmcinteq "), max_size=14))
def test_junk_lengths_load_or_are_our_error(text):
    scene = loads_or_our_error(f'<svg xmlns="http://www.w3.org/2000/svg" width="{text}" height="{text}" '
                               f'viewBox="0 0 {text} 10"><rect width="{text}" height="5" x="{text}"/></svg>')
    if scene is not None:
        assert np.isfinite(scene.width) and scene.width > 0


@st.composite
def colours(draw) -> tuple[str, tuple[float, float, float]]:
    """(CSS colour text, reference RGB in [0, 1])."""
    r, g, b = (draw(st.integers(0, 255)) for _ in range(3))
    form = draw(st.sampled_from(("hex6", "hex3", "rgb", "percent", "named")))
    if form == "hex3":
        r, g, b = (v // 17 * 17 for v in (r, g, b))
        return f"#{r // 17:x}{g // 17:x}{b // 17:X}", (r / 255, g / 255, b / 255)
    if form == "rgb":
        return f"rgb({r}, {g},{b})", (r / 255, g / 255, b / 255)
    if form == "percent":
        p = [draw(st.integers(0, 100)) for _ in range(3)]
        return f"rgb({p[0]}%,{p[1]}%,{p[2]}%)", tuple(v / 100 for v in p)  # ours may round to 8 bits
    if form == "named":
        name, rgb = draw(st.sampled_from((("red", (255, 0, 0)), ("navy", (0, 0, 128)), ("teal", (0, 128, 128)),
                                          ("orange", (255, 165, 0)), ("white", (255, 255, 255)))))
        return name.upper() if draw(st.booleans()) else name, tuple(v / 255 for v in rgb)
    return f"#{r:02x}{g:02X}{b:02x}", (r / 255, g / 255, b / 255)


@PROFILE
@given(colours(), st.booleans())
def test_colours_and_style_attributes_give_the_reference_fill(colour, in_style):
    text, rgb = colour
    attribute = f'style="stroke:none; fill: {text} ;"' if in_style else f'fill="{text}"'
    scene = loads_or_our_error(SVG.format("", f'<rect width="10" height="10" {attribute}/>'))
    fill = scene.path(0).fill
    assert np.allclose(np.asarray(fill.rgba)[:3], rgb, atol=0.51 / 255 + 0.5 / 255 * ("%" in text)), (text, fill)


STYLE_JUNK = st.lists(st.tuples(st.sampled_from(("fill", "stroke", "stroke-width", "opacity", "display", "x", "",
                                                 "fill-rule", "stroke-dasharray", "font")),
                                st.text(alphabet=list("#abcdefrgb(),.%0123456789url-;:!/* "), max_size=16)),
                      max_size=4)


@PROFILE
@given(STYLE_JUNK, st.sampled_from((";", "; ", ";;")))
def test_junk_style_attributes_load_or_are_our_error(declarations, separator):
    style = separator.join(f"{name}:{value}" for name, value in declarations)
    escaped = style.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    loads_or_our_error(SVG.format("", f'<rect width="10" height="10" style="{escaped}" fill="{escaped}"/>'))


ALIGNS = ("none", "xMinYMin", "xMidYMin", "xMaxYMin", "xMinYMid", "xMidYMid", "xMaxYMid", "xMinYMax", "xMidYMax",
          "xMaxYMax")


@PROFILE
@given(st.tuples(coordinate, coordinate, positive, positive), st.sampled_from(ALIGNS), st.booleans(),
       st.integers(20, 300), st.integers(20, 300))
def test_viewbox_and_preserve_aspect_ratio_match_the_reference(box, align, slice_, width, height):
    aspect = align + (" slice" if slice_ else "")
    markup = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
              f'viewBox="{" ".join(number(v) for v in box)}" preserveAspectRatio="{aspect}">'
              f'<path d="M{number(box[0])} {number(box[1])} h{number(box[2])} v{number(box[3])} Z"/></svg>')
    scene = loads_or_our_error(markup)
    x, y, w, h = box
    expected = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1]]) @ viewbox_matrix(width, height, box, align,
                                                                                       slice_).T
    assert scene is not None and (scene.width, scene.height) == (width, height)
    ours = np.concatenate([s.points for p in scene.paths() for s in p.subpaths])
    assert np.allclose(ours, expected[:, :2], atol=1e-3 * max(1.0, np.abs(expected).max())), (markup, ours, expected)


@PROFILE
@given(st.text(alphabet=list("0123456789.-e, "), max_size=24), st.text(max_size=24))
def test_junk_viewbox_and_aspect_load_or_are_our_error(viewbox, aspect):
    escaped = aspect.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    loads_or_our_error(f'<svg xmlns="http://www.w3.org/2000/svg" width="50" height="40" viewBox="{viewbox}" '
                       f'preserveAspectRatio="{escaped}"><rect width="5" height="5"/></svg>')


@PROFILE
@given(st.integers(0, 2 ** 32 - 1))
def test_whole_small_documents_load_and_render_or_are_our_error(seed):
    scene = loads_or_our_error(fuzz_svg(random.Random(seed)))
    if scene is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                image = render(scene, 24)
            except ClipvgError:
                return
        assert image.shape[-1] == 4
