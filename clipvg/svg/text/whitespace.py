"""White space in SVG text as browsers (Chrome) and resvg handle it.

``xml:space="default"`` (or CSS ``white-space`` normal/nowrap/pre-line): tabs and line breaks become
spaces and runs of spaces collapse to one; then, across the text nodes of one ``<text>``, a space
that follows a space collapses (a tspan opening with a space after a space loses it), and the
text's leading and trailing spaces go. ``preserve`` (or ``white-space`` pre, pre-wrap,
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
    """A text node of a ``<text>``: its characters and white-space mode."""

    text: str
    preserve: bool


def trim(pieces: list[Piece]) -> None:
    """Collapse spaces across the text nodes of one ``<text>`` in place (after ``collapse``): a
    collapsible space after any space goes, as do collapsible spaces at the start and the end."""
    previous_space = True  # the start of the text: leading collapsible spaces go
    for piece in pieces:
        kept = []
        for char in piece.text:
            if char == " " and not piece.preserve and previous_space:
                continue
            kept.append(char)
            previous_space = char == " "
        piece.text = "".join(kept)
    for piece in reversed(pieces):
        if piece.text:
            if piece.text.endswith(" ") and not piece.preserve:
                piece.text = piece.text[:-1]
            break
