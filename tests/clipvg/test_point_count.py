"""The pre-parse point count of path data (clipvg.svg.point_count) against a regular expression that
finds SVG numbers, on generated well-formed path data, compact forms and chunk boundaries."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings, strategies as st

from clipvg.errors import SVGParseError
from clipvg.svg import load_svg
from clipvg.svg import point_count
from clipvg.svg.point_count import count_points

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

digits = st.integers(0, 10**6).map(str)
mantissa = st.one_of(digits, st.tuples(digits, digits).map("{0[0]}.{0[1]}".format),
                     digits.map(".{}".format), digits.map("{}.".format))
exponent = st.one_of(st.just(""), st.tuples(st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), digits).map("".join))
number = st.tuples(st.sampled_from(["", "+", "-"]), mantissa, exponent).map("".join)
separator = st.sampled_from([" ", ",", " , ", "\n", "L", "l", "M", "c ", "z", "A"])


@st.composite
def path_data(draw) -> str:
    """Well-formed path data's numbers and separators; numbers touch where SVG allows it (a sign, or a
    dot after a number holding a dot or an exponent: ``1.5.5``, ``1e5.5``, ``1-2``)."""
    text, previous = "", ""
    for value in draw(st.lists(number, max_size=40)):
        touches = value[0] in "+-" or (value[0] == "." and previous.lower().strip("0123456789+-").count(".")
                                       + ("e" in previous.lower()) > 0 and not previous.endswith("."))
        text += (draw(st.sampled_from(["", " "])) if touches else draw(separator)) + value
        previous = value
    return text


def regex_points(data: str) -> int:
    return len(NUMBER.findall(data)) // 2


@settings(max_examples=400, deadline=None)
@given(path_data())
def test_count_points_is_the_regular_expressions_count(data):
    assert count_points(data) == regex_points(data)


@settings(max_examples=60, deadline=None)
@given(st.lists(path_data(), min_size=5, max_size=30).map(" ".join))
def test_chunk_boundaries_keep_the_count_exact(data):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(point_count, "CHUNK_BYTES", 16)  # many chunks, each ending where the data allows
        assert count_points(data) == regex_points(data)


@pytest.mark.parametrize("data, points", [("1.5.5.5", 1), ("1e5.5-2E-3.7", 2), ("M.5.5.5.5", 2), ("1-2-3-4", 2),
                                          ("5.e1 2", 1), ("+.5-.5", 1), ("", 0)])
def test_compact_numbers(data, points):
    assert count_points(data) == points == regex_points(data)


def test_many_paths_of_decimal_data_over_the_total_are_refused_at_once():
    """12 paths of 180 000 decimal points each (32 MB): each under points_per_path, all over points.
    The count took about 2 s with a regular expression; numpy masks take about 0.2 s."""
    path = '<path d="M0 0' + " L-12.345 67.89" * 180_000 + '"/>'
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">' + path * 12 + "</svg>"
    start = time.thread_time()
    with pytest.raises(SVGParseError, match="point count of all path data is at least 2,160,012, over the points limit"):
        load_svg(svg)
    assert time.thread_time() - start < 2.0  # this thread's CPU time (load-independent): about 0.3 s with the parse
