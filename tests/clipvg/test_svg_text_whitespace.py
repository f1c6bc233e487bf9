"""White-space collapsing of SVG text across text nodes and tspans (xml:space default/preserve)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given, settings, strategies as st

from clipvg.svg.text.content import collect
from clipvg.svg.text.style import Chain

NS = "http://www.w3.org/2000/svg"


def collapsed(markup: str) -> str:
    root = ET.fromstring(f'<svg xmlns="{NS}">{markup}</svg>')
    text = root[0]
    return "".join(node.text for node in collect(text, Chain([text, root]), {}).nodes)


def test_tspan_leading_space_after_a_space_collapses():
    assert collapsed("<text>Text <tspan> text</tspan></text>") == "Text text"
    assert collapsed("<text>\n  <tspan>\n   <tspan>  Text\n</tspan>\n  </tspan>\n</text>") == "Text"
    assert collapsed("<text>A<tspan> B </tspan> C</text>") == "A B C"


def pieces(markup: str) -> list[str]:
    root = ET.fromstring(f'<svg xmlns="{NS}">{markup}</svg>')
    text = root[0]
    return [node.text for node in collect(text, Chain([text, root]), {}).nodes]


def test_a_space_leaving_an_element_goes_with_the_text_after_it():
    # resvg's rule: the space that ends the textPath gives way to the one after it (same string)
    assert pieces("<text>A <textPath>B </textPath> <tspan>C</tspan></text>") == ["A ", "B", " ", "C"]
    assert pieces("<text>A <tspan>B </tspan><tspan> C</tspan></text>") == ["A ", "B", " C"]
    # entering an element, the later space still goes; a preserved space stays
    assert pieces("<text>A <tspan> B</tspan></text>") == ["A ", "B"]
    assert pieces('<text><tspan xml:space="preserve">A </tspan> B</text>') == ["A ", "B"]


def test_preserve_keeps_spaces_and_turns_breaks_into_spaces():
    assert collapsed('<text xml:space="preserve"> A\tB\n</text>') == " A B "
    assert collapsed('<text style="white-space: pre">A  B</text>') == "A  B"
    assert collapsed('<text>A  <tspan xml:space="preserve">  B</tspan></text>') == "A   B"


def test_unknown_elements_and_their_text_are_ignored():
    assert collapsed("<text>A<foo>hidden</foo>B<a>C</a></text>") == "AB" + "C"


_words = st.text(alphabet="ab", min_size=1, max_size=3)
_space = st.text(alphabet=" \t\n", min_size=0, max_size=3)


@st.composite
def _texts(draw) -> tuple[str, str]:
    """A <text> with words and white space spread over nested tspans; its plain character data."""
    parts, plain = [], []
    depth = 0
    for _ in range(draw(st.integers(1, 6))):
        piece = draw(_space) + draw(_words) + draw(_space)
        action = draw(st.sampled_from(["text", "open", "close"]))
        if action == "open":
            parts.append("<tspan>")
            depth += 1
        elif action == "close" and depth:
            parts.append("</tspan>")
            depth -= 1
        parts.append(piece)
        plain.append(piece)
    parts.append("</tspan>" * depth)
    return "<text>" + "".join(parts) + "</text>", "".join(plain)


@settings(max_examples=200, deadline=None)
@given(_texts())
def test_default_white_space_is_the_words_joined_by_single_spaces(case):
    markup, plain = case
    assert collapsed(markup) == re.sub(r"\s+", " ", plain).strip()
