"""clipvg.svg.path_data: long path data read with numpy gives what svgelements' segments give (contours and
bounding boxes), and a document read with its path data set aside is the document read without."""
from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from svgelements import Path as SVGPath

from clipvg.svg import path_data
from clipvg.svg.geometry import to_contours
from clipvg.svg.path_data import SET_ASIDE, long_path_data_set_aside, parse_path_data
from clipvg.svg.reader import read_svg

EXAMPLES = settings(max_examples=400 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ARITY = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "Z": 0, "A": 7}

coordinate = st.one_of(st.integers(-50, 50).map(float), st.floats(-1e3, 1e3).map(lambda v: round(v, 3)),
                       st.sampled_from((0.5, -0.25, 1e-3, 1e4)))


def written(value: float, compact: bool) -> str:
    """``value`` as SVG writes numbers: plain, or compact ('.5', '-.5', '1e+06'), which glues to what comes before."""
    return f"{value:g}".replace("0.", ".", 1) if compact else f"{value:g}"


def arc_arguments(draw, compact: bool) -> str:
    """One arc's seven arguments: radii (0 and negative too, small ones scaled up to fit), a rotation, the flags; in
    ``compact`` form the flags written without separators and the end's x glued to them ("0 015 5")."""
    radius = st.one_of(st.just(0.0), st.floats(-30, 60).map(lambda v: round(v, 2)))
    rx, ry, rotation = draw(radius), draw(radius), draw(st.integers(-400, 400))
    large, sweep = draw(st.integers(0, 1)), draw(st.integers(0, 1))
    x, y = draw(coordinate), draw(coordinate)
    if compact:
        return (f"{written(rx, False)} {written(ry, False)} {rotation} {large}{sweep}{written(x, True)} "
                f"{written(y, True)}")
    return " ".join([written(rx, False), written(ry, False), str(rotation), str(large), str(sweep), written(x, False),
                     written(y, False)])


@st.composite
def path_text(draw) -> str:
    """Valid path data: every command in both cases, implicit repeats (a moveto's further pairs are linetos),
    close-paths followed by drawing commands or by other close-paths, smooth curves after any command, arcs (flags
    glued or apart), numbers written with and without separators."""
    parts = [draw(st.sampled_from("Mm"))]
    parts.append(" ".join(written(draw(coordinate), False) for _ in range(2 * draw(st.integers(1, 3)))))
    for _ in range(draw(st.integers(1, 14))):
        command = draw(st.sampled_from("MmLlHhVvCcSsQqTtZzAa"))
        parts.append(command)
        if command in "Zz":
            continue
        compact = draw(st.booleans())
        if command in "Aa":
            parts.append(" ".join(arc_arguments(draw, compact) for _ in range(draw(st.integers(1, 2)))))
            continue
        values = [draw(coordinate) for _ in range(ARITY[command.upper()] * draw(st.integers(1, 3)))]
        separator = draw(st.sampled_from((" ", ",", " ,")))
        parts.append(separator.join(written(v, compact) for v in values) if not compact else
                     "".join(f" {written(v, True)}" if v >= 0 else written(v, True) for v in values))
    return draw(st.sampled_from(("", " "))).join(parts)


def svgelements_contours(data: str):
    return to_contours(SVGPath(data).segments())


def assert_same_contours(data: str) -> None:
    ours, theirs = parse_path_data(data).contours, svgelements_contours(data)
    assert len(ours) == len(theirs), (data, len(ours), len(theirs))
    for mine, reference in zip(ours, theirs):
        assert mine.degrees == reference.degrees and mine.closed == reference.closed, data
        scale = max(1.0, float(np.abs(reference.points).max()))
        # an arc whose radii were scaled up to fit has its centre from the square root of a rounding error: the two
        # parsers' ends, rounded apart by 1e-16, put it 1e-8 of the radius apart
        tolerance = 1e-6 if "a" in data.lower() else 1e-9
        np.testing.assert_allclose(mine.points, reference.points, rtol=0, atol=tolerance * scale, err_msg=data)


@EXAMPLES
@given(path_text())
def test_parsed_contours_are_svgelements_contours(data):
    assert_same_contours(data)


def drawn_box(data: str) -> np.ndarray:
    """(x0, y0, x1, y1) of the curves svgelements' segments draw (``to_contours``), sampled at 4001 points each,
    with every segment's end (lone movetos too)."""
    points = [np.array([[float(s.end.x), float(s.end.y)] for s in SVGPath(data).segments()])]
    t = np.linspace(0.0, 1.0, 4001)[:, None]
    for contour in svgelements_contours(data):
        ring = np.concatenate([contour.points, contour.points[:1]]) if contour.closed else contour.points
        at = 0
        for degree in contour.degrees:
            p = ring[at:at + degree + 1]
            weights = [math.comb(degree, k) * (1 - t) ** (degree - k) * t ** k for k in range(degree + 1)]
            points.append(sum(w * q for w, q in zip(weights, p)))
            at += degree
    every = np.concatenate(points)
    return np.concatenate([every.min(0), every.max(0)])


@EXAMPLES
@given(path_text())
def test_the_bounding_box_is_that_of_the_drawn_curves(data):
    """Every end point (lone movetos too) and the curves' extremes, exactly: the sampled box lies within it, less
    than the sampling's error inside. (svgelements' own box differs where it reflects control points SVG does not:
    a T after a curve other than Q/T, an S after one other than C/S.)"""
    ours, sampled = np.array(parse_path_data(data).bbox()), drawn_box(data)
    scale = max(1.0, float(np.abs(sampled).max()))
    outward = np.array([-1, -1, 1, 1]) * (ours - sampled)
    assert (outward >= -1e-9 * scale).all() and (outward <= 1e-5 * scale).all(), (data, ours, sampled)


def test_a_smooth_quadratic_is_boxed_as_drawn():
    # Q's control (10, 40) reflected about (20, 0) is (30, -40): the T bulges up to y = -20 at its middle
    box = parse_path_data("M0 0 Q10 40 20 0 T40 0").bbox()
    np.testing.assert_allclose(box, (0.0, -20.0, 40.0, 20.0))


@pytest.mark.parametrize("data", [
    "m1 1 l2 2 z m1 1 l3 0 z l1 1",  # relative movetos after close-paths: the chain the ends are resolved along
    "M0 0 L1 1 Z Z L3 3",  # a close-path after a close-path draws nothing; a line after it starts a new subpath
    "M1 1 M2 2 L3 3",  # a lone moveto is dropped
    "M0 0 1 1 2 2 m5 5 1 1",  # a moveto's further pairs are linetos, relative after m
    "M10 10 q1 2 3 4 t5 5 t1 1 q1 1 1 1 t2 2 l1 1 t3 3",  # runs of T, broken by Q and by L
    "M0 0 S5 5 10 0 C1 2 3 4 5 6 s7 8 9 10",  # S after M reflects nothing; after C it does
    "M.5.5-1-1e1 2e-1,3", "m0 0h5v5h-5z",
])
def test_edge_cases_are_svgelements_contours(data):
    assert_same_contours(data)


def test_a_long_chain_of_relative_subpaths_lands_where_svgelements_does():
    """5000 closed subpaths, each moved relative to the last one's start: the pointer jumping takes 13 passes."""
    data = "M3 4 " + " ".join(f"l{i % 7} {i % 5}h2v-1z m{(i % 3) - 1} 1.5" for i in range(5000)) + " l1 1"
    assert_same_contours(data)
    assert len(parse_path_data(data).contours) == 5001


@pytest.mark.parametrize("data", ["M0 0 L1", "L1 1", "M0 0 Z1"])
def test_miscounted_arguments_are_left_to_svgelements(data):
    assert parse_path_data(data) is None


@pytest.mark.parametrize("data", [
    "M0 0 a1 1 0 0010 0 1 1 0 1 1-3-3",  # radii scaled up to fit: half ellipses, 4 cubics whatever the rounding
    "M0 0 A0 5 0 0 1 10 10 A5 5 0 0 1 10 10 L3 3",  # a zero radius draws a line; an arc to its start, nothing
    "M5 5 A2 3 -45 1 1 40 40 T50 50 S1 1 3 3",  # an arc is no curve the smooth ones reflect
    "m10 10 a-5 7 390 1 0 .5.5z",  # negative radii are their size; a rotation past a turn
])
def test_arcs_are_svgelements_cubics(data):
    assert_same_contours(data)


def test_empty_data_has_no_contours_and_no_box():
    assert parse_path_data("").contours == [] and parse_path_data("").bbox() is None


def test_setting_aside_restores_the_tree_and_drops_a_planted_attribute():
    long = "M0 0 " + "L1 1 " * 400
    root = ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg"><path d="{long}"/><path d="M0 0 L1 1" '
                         f'{SET_ASIDE}="M0 0 L90 90"/></svg>')
    short = root[1]
    with long_path_data_set_aside(root):
        assert root[0].get("d") == "" and root[0].get(SET_ASIDE) == long
        assert short.get(SET_ASIDE) is None and short.get("d") == "M0 0 L1 1"  # short data stays in d
    assert root[0].get("d") == long and SET_ASIDE not in root[0].attrib and SET_ASIDE not in short.attrib


ZIGZAG = " ".join(f"{(i * 37) % 180 + 10} {(i * 91) % 180 + 10}" for i in range(400))
DOCUMENT = f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200"
height="200">
<defs><linearGradient id="g"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient>
<marker id="m" markerWidth="4" markerHeight="4" refX="2" refY="2"><circle cx="2" cy="2" r="2"/></marker>
<clipPath id="c" clipPathUnits="objectBoundingBox"><rect width="0.5" height="1"/></clipPath></defs>
<path id="long" d="M{ZIGZAG}" fill="url(#g)" stroke="green" marker-mid="url(#m)" transform="rotate(10 100 100)"/>
<path d="m20 20 {'q5 10 10 0 t10 0 ' * 60}z" fill="none" stroke="url(#g)" stroke-width="3" clip-path="url(#c)"/>
<path d="M30 30 {'a4 6 30 0110 3 ' * 60}" fill="url(#g)" marker-end="url(#m)"/>
<use xlink:href="#long" x="5" fill="black"/>
</svg>"""


def read_paths(monkeypatch, long_from: int):
    monkeypatch.setattr(path_data, "LONG_PATH_DATA", long_from)
    read = read_svg(DOCUMENT)
    return read.paths, read.tree


def test_a_document_reads_the_same_with_its_path_data_set_aside(monkeypatch):
    """Gradients on the bounding box, markers on every vertex, a clip in bounding-box units and a <use> of a set-aside
    path: what is read is what svgelements' segments give."""
    aside, aside_tree = read_paths(monkeypatch, 1024)
    kept, kept_tree = read_paths(monkeypatch, 10 ** 9)
    assert len(aside) == len(kept) > 400  # the markers are paths
    for mine, theirs in zip(aside, kept):
        assert repr(mine.fill) == repr(theirs.fill) and repr(mine.stroke) == repr(theirs.stroke)
        assert len(mine.subpaths) == len(theirs.subpaths)
        for a, b in zip(mine.subpaths, theirs.subpaths):
            assert np.array_equal(a.degrees, b.degrees) and a.closed == b.closed
            np.testing.assert_allclose(a.points, b.points, atol=1e-9)
    assert repr(aside_tree) == repr(kept_tree)
