"""Text properties of an element: own declarations (attributes, ``style``, the ``font`` shorthand) and
inherited values found by walking up the element chain, with CSS's font-size and font-weight rules."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..css import declared
from ..document import user_length

DEFAULT_FONT_SIZE = 12.0  # px, as resvg and the SVG user agents it matches
DEFAULT_FAMILY = "serif"  # browsers' default face (Times), resvg's fallback family
GENERIC = ("serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui")
_DPI = 96.0
_UNITS = {"px": 1.0, "in": _DPI, "cm": _DPI / 2.54, "mm": _DPI / 25.4, "pt": _DPI / 72, "pc": _DPI / 6, "": 1.0}
_SIZE_KEYWORDS = {"xx-small": -3, "x-small": -2, "small": -1, "medium": 0, "large": 1, "x-large": 2, "xx-large": 3,
                  "smaller": -1, "larger": 1}
_WEIGHTS = {"normal": 400, "bold": 700, **{str(w): w for w in range(100, 1000, 100)}}
STRETCHES = {"ultra-condensed": 50.0, "extra-condensed": 62.5, "condensed": 75.0, "narrower": 75.0,
             "semi-condensed": 87.5, "normal": 100.0, "semi-expanded": 112.5, "expanded": 125.0, "wider": 125.0,
             "extra-expanded": 150.0, "ultra-expanded": 200.0}
_LENGTH = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(%|[a-zA-Z]*)\s*$")


def declarations(element: ET.Element) -> dict[str, str]:
    """``clipvg.svg.css.declared`` with the ``font`` shorthand expanded into its longhands (which it resets). The
    cascade (clipvg.svg.css) has already dropped ``font``/``font-kerning`` attributes, which only
    CSS may set."""
    values = declared(element)
    shorthand = values.pop("font", None)
    if shorthand:
        values.update(parse_font_shorthand(shorthand))
    space = next((v for k, v in element.attrib.items() if k.endswith("}space")), None)
    if space is not None:
        values["xml:space"] = space
    return values


def parse_font_shorthand(value: str) -> dict[str, str]:
    """``font: [style] [variant] [weight] [stretch] size[/line-height] family`` -> longhands; {} if invalid."""
    match = re.match(r"^\s*((?:[\w-]+\s+)*?)([+-]?[\d.]+[a-z%]*|[a-z-]+-?(?:small|medium|large)|smaller|larger)"
                     r"(?:\s*/\s*[^\s]+)?\s+(.+)$", value)
    if not match:
        return {}
    result = {"font-style": "normal", "font-variant": "normal", "font-weight": "normal", "font-stretch": "normal",
              "font-kerning": "auto", "font-size": match.group(2), "font-family": match.group(3).strip()}
    for word in match.group(1).split():
        if word in ("italic", "oblique"):
            result["font-style"] = word
        elif word == "small-caps":
            result["font-variant"] = word
        elif word in _WEIGHTS or word in ("bolder", "lighter"):
            result["font-weight"] = word
        elif word in STRETCHES:
            result["font-stretch"] = word
        elif word != "normal":
            return {}
    return result


@dataclass
class Chain:
    """An element and its ancestors (nearest first) with their declarations, for inherited lookups."""

    elements: list[ET.Element]
    values: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.values:
            self.values = [declarations(e) for e in self.elements]

    def child(self, element: ET.Element) -> "Chain":
        return Chain([element] + self.elements, [declarations(element)] + self.values)

    def own(self, name: str) -> str | None:
        value = self.values[0].get(name)
        return None if value == "inherit" else value

    def find(self, name: str, default: str | None = None) -> str | None:
        """The nearest declared value of an inherited property (``inherit`` skipped)."""
        for values in self.values:
            value = values.get(name)
            if value is not None and value != "inherit":
                return value
        return default

    def font_size(self) -> float:
        """Computed font-size in px: lengths, %, em/ex of the parent size, keywords (x1.2 per step)."""
        size = DEFAULT_FONT_SIZE
        for values in reversed(self.values):
            text = values.get("font-size")
            if text is None or text == "inherit":
                continue
            match = _LENGTH.match(text)
            if match:
                number, unit = float(match.group(1)), match.group(2).lower()
                if unit == "%":
                    size = size * number / 100
                elif unit == "em":
                    size = size * number
                elif unit == "ex":
                    size = size * number / 2
                elif unit in _UNITS:
                    size = number * _UNITS[unit]
            elif text in _SIZE_KEYWORDS:
                size = size * 1.2 ** _SIZE_KEYWORDS[text]
        return size

    def font_weight(self) -> int:
        """Computed font-weight (100..900); bolder/lighter step as Chrome does (400 -> 700 / 200)."""
        weight = 400
        for values in reversed(self.values):
            text = values.get("font-weight", "")
            if text in _WEIGHTS:
                weight = _WEIGHTS[text]
            elif text == "bolder":
                weight = min(weight + (300 if weight == 400 else 100), 900)
            elif text == "lighter":
                weight = max(weight - (200 if weight == 400 else 100), 100)
        return weight

    def families(self) -> list[str]:
        text = self.find("font-family") or DEFAULT_FAMILY
        families = [f.strip().strip("'\"").strip() for f in text.split(",")]
        return [f for f in families if f] or [DEFAULT_FAMILY]

    def length(self, name: str, relative: float, default: float = 0.0) -> float:
        """An inherited length property in user units (em/ex of this element's font size, % of
        ``relative``)."""
        return self.to_user(self.find(name), relative, default)

    def to_user(self, text: str | None, relative: float, default: float = 0.0) -> float:
        """A length in user units: em/ex of this element's font size, % of ``relative``, absolute
        units at 96 dpi; ``default`` for none, ``normal``/``auto`` or an unreadable value."""
        if text is None or text in ("normal", "auto"):
            return default
        match = _LENGTH.match(text)
        if not match:
            return default
        number, unit = float(match.group(1)), match.group(2).lower()
        if unit == "em":
            return number * self.font_size()
        if unit == "ex":
            return number * self.font_size() / 2
        try:
            return user_length(text, relative)
        except Exception:  # an unreadable length: the property's default
            return default
