"""White space in SVG text as browsers (Chrome) and resvg handle it.

``xml:space="default"`` (or CSS ``white-space`` normal/nowrap/pre-line): tabs and line breaks become
spaces and runs of spaces collapse to one; then, across the text nodes of one ``<text>``, a space
that follows a space collapses (a tspan opening with a space after a space loses it), and the
text's first leading and last trailing space go. ``preserve`` (or ``white-space`` pre, pre-wrap,
break-spaces) keeps every space, line breaks and tabs becoming spaces.
"""
from __future__ import annotations

from dataclasses import dataclass

PRESERVING = ("pre", "pre-wrap", "break-spaces")


def preserves(white_space: str | None, xml_space: str | None) -> bool:
    """Whether spaces are kept: CSS ``white-space`` when declared, else ``xml:space``."""
    if white_space is not None and white_space != "inherit":
        return white_space in PRESERVING
    return xml_space == "preserve"


def collapse(text: str, preserve: bool) -> str:
    """One text node: line breaks and tabs -> spaces; runs of spaces -> one unless ``preserve``."""
    out: list[str] = []
    previous = ""
    for char in text:
        if char in "\r\n\t":
            char = " "
        if not preserve and char == " " and previous == " ":
            continue
        out.append(char)
        previous = char
    return "".join(out)


@dataclass
class Piece:
    """A text node of a ``<text>``: its characters, nesting depth and white-space mode."""

    text: str
    depth: int
    preserve: bool


def trim(pieces: list[Piece]) -> None:
    """Collapse spaces across the text nodes of one ``<text>`` in place (after ``collapse``)."""
    if len(pieces) == 1:
        piece = pieces[0]
        if not piece.preserve:
            piece.text = _strip_one(piece.text)
        return
    last_non_empty: Piece | None = None
    for i in range(len(pieces) - 1):
        first, second = pieces[i], pieces[i + 1]
        if not first.text and last_non_empty is not None:
            first = last_non_empty
        c1, c2 = first.text[:1], first.text[-1:]
        c3, c4 = second.text[:1], second.text[-1:]
        if first.depth < second.depth:
            if c3 == " " and not second.preserve:
                second.text = second.text[1:]
        elif c2 == " " and c3 == " ":
            if not first.preserve and not second.preserve:
                first.text = first.text[:-1]
            elif first.preserve and not second.preserve:
                second.text = second.text[1:]
        is_last = i == len(pieces) - 2
        if i == 0 and c1 == " " and not first.preserve and first.text:
            first.text = first.text[1:]
        elif is_last and c4 == " " and second.text and not second.preserve:
            second.text = second.text[:-1]
        if is_last and c2 == " " and first.text and not second.text and first.text.endswith(" "):
            first.text = first.text[:-1]
        if first.text.strip():
            last_non_empty = first


def _strip_one(text: str) -> str:
    """Drop one leading and one trailing space."""
    if text.startswith(" "):
        text = text[1:]
    if text.endswith(" "):
        text = text[:-1]
    return text
