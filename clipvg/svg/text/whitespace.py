"""White space in SVG text as browsers (Chrome) and resvg handle it.

``xml:space="default"`` (or CSS ``white-space`` normal/nowrap/pre-line): tabs and line breaks become
spaces and runs of spaces collapse to one; then, across the text nodes of one ``<text>``, a space
that follows a space collapses (a tspan opening with a space after a space loses it), and the
text's leading and trailing spaces go. Where the first space ends an element's text and the second
follows it outside (``<textPath>A </textPath> B``), the first goes instead, as resvg has it: the
string is the same, but the space then belongs to the text after, which matters after a textPath.
``preserve`` (or ``white-space`` pre, pre-wrap, break-spaces) keeps every space, line breaks and
tabs becoming spaces.
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
    """A text node of a ``<text>``: its characters, white-space mode and nesting depth (0 for the
    ``<text>``'s own text, 1 inside a child element, ...)."""

    text: str
    preserve: bool
    depth: int = 0


def trim(pieces: list[Piece]) -> None:
    """Collapse spaces across the text nodes of one ``<text>`` in place (after ``collapse``): a
    collapsible space after any space goes, as do collapsible spaces at the start and the end; a
    collapsible space that ended a deeper or equally deep piece gives way to one that follows it."""
    kept: list[list[str]] = [[] for _ in pieces]
    last_space: int | None = -1  # piece holding the last kept character when a space; -1: the start
    for i, piece in enumerate(pieces):
        for char in piece.text:
            if char == " " and not piece.preserve and last_space is not None:
                earlier = pieces[last_space] if last_space >= 0 else None
                if earlier is None or last_space == i or earlier.preserve or earlier.depth < piece.depth:
                    continue
                kept[last_space].pop()
            kept[i].append(char)
            last_space = i if char == " " else None
    for i in reversed(range(len(pieces))):
        if kept[i]:
            if kept[i][-1] == " " and not pieces[i].preserve:
                kept[i].pop()
            break
    for piece, chars in zip(pieces, kept):
        piece.text = "".join(chars)
