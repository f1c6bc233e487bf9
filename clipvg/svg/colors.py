"""CSS colour values -> straight RGBA floats: names (case-insensitive), ``#rgb``, ``#rgba``, ``#rrggbb``,
``#rrggbbaa``, ``rgb()``/``rgba()`` with integers, decimals or percentages (comma or space separated,
``/`` alpha), ``hsl()``/``hsla()`` (any hue, wrapped), ``transparent``. Channels are clamped to
[0, 1]; integers and percentages may not be mixed in one ``rgb()``; ``icc-color(...)`` is not read (a
value holding one is invalid, as in browsers)."""
from __future__ import annotations

import re

from PIL import ImageColor

RGBA = tuple[float, float, float, float]
_NAMES = {name: ImageColor.getrgb(value) for name, value in ImageColor.colormap.items()}
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_FUNCTION = re.compile(r"(rgba?|hsla?)\(\s*(.*?)\s*\)$", re.IGNORECASE)
_ARGUMENT = re.compile(rf"({_NUMBER})(%|deg|rad|grad|turn)?$", re.IGNORECASE)


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _hex(text: str) -> RGBA | None:
    digits = text[1:]
    if not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) not in (3, 4, 6, 8):
        return None
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits)
    values = [int(digits[i:i + 2], 16) / 255 for i in range(0, len(digits), 2)]
    return tuple(values + [1.0] * (4 - len(values)))


def _arguments(text: str) -> list[tuple[float, str]] | None:
    """``'0, 50%, 10'`` or ``'0 50% 10 / 0.5'`` -> [(0, ''), (50, '%'), (10, ''), (0.5, '')]."""
    parts = [p for p in re.split(r"\s*,\s*|\s*/\s*|\s+", text) if p]
    found = []
    for part in parts:
        match = _ARGUMENT.match(part)
        if match is None:
            return None
        found.append((float(match.group(1)), (match.group(2) or "").lower()))
    return found


def _alpha(argument: tuple[float, str] | None) -> float:
    if argument is None:
        return 1.0
    value, unit = argument
    return _clamp(value / 100 if unit == "%" else value)


def _hue(value: float, unit: str) -> float:
    """A hue in turns, wrapped into [0, 1)."""
    turns = {"": 1 / 360, "deg": 1 / 360, "rad": 1 / 6.283185307179586, "grad": 1 / 400, "turn": 1.0}[unit]
    return (value * turns) % 1.0


def _hsl(h: float, s: float, lightness: float) -> tuple[float, float, float]:
    """HSL (hue in turns, s and l in [0, 1]) -> RGB in [0, 1] (CSS Color 3's algorithm)."""
    def channel(t: float) -> float:
        t %= 1.0
        if t < 1 / 6:
            return m1 + (m2 - m1) * 6 * t
        if t < 1 / 2:
            return m2
        if t < 2 / 3:
            return m1 + (m2 - m1) * (2 / 3 - t) * 6
        return m1

    m2 = lightness * (s + 1) if lightness <= 0.5 else lightness + s - lightness * s
    m1 = 2 * lightness - m2
    return channel(h + 1 / 3), channel(h), channel(h - 1 / 3)


def parse_color(text: str | None) -> RGBA | None:
    """Straight RGBA in [0, 1] for a CSS colour, or None when ``text`` is not one (``none``,
    ``currentColor`` and paint references are not colours)."""
    if not text:
        return None
    text = text.strip()
    lower = text.lower()
    if lower == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    if lower in _NAMES:
        r, g, b = _NAMES[lower][:3]
        return (r / 255, g / 255, b / 255, 1.0)
    if text.startswith("#"):
        return _hex(text)
    match = _FUNCTION.match(text)
    if match is None:
        return None
    kind, arguments = match.group(1).lower(), _arguments(match.group(2))
    if arguments is None or len(arguments) not in (3, 4):
        return None
    if kind.startswith("rgb"):
        units = {unit for _, unit in arguments[:3]}
        if len(units) != 1 or units - {"", "%"}:
            return None
        channels = tuple(_clamp(v / 100 if unit == "%" else v / 255) for v, unit in arguments[:3])
    else:
        (h, h_unit), (s, s_unit), (lightness, l_unit) = arguments[:3]
        if h_unit == "%":
            return None
        channels = _hsl(_hue(h, h_unit), _clamp(s / 100), _clamp(lightness / 100))
    return (*channels, _alpha(arguments[3] if len(arguments) == 4 else None))


def color_text(rgba: RGBA) -> str:
    """A colour as ``#rrggbb`` (opaque) or ``rgba(r, g, b, a)``, channels rounded to 8 bits as
    browsers store them; a form svgelements reads."""
    r, g, b = (round(c * 255) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}" if rgba[3] >= 1 else f"rgba({r}, {g}, {b}, {rgba[3]!r})"


def normalize_paint(value: str, is_paint: bool = True) -> str | None:
    """A paint (``fill``/``stroke``: none, a colour, ``url(#id)`` with an optional fallback,
    ``context-fill``/``context-stroke``) or, with ``is_paint`` False, a colour, rewritten with its
    colours in ``color_text`` form; None when it is invalid (the property is then unset)."""
    text = value.strip()
    if is_paint and text in ("none", "context-fill", "context-stroke"):
        return text
    if is_paint and text.startswith("url("):
        reference, close, fallback = text.partition(")")
        if not close:
            return None
        fallback = fallback.strip()
        if not fallback or fallback == "none":
            return f"{reference}) {fallback}".strip()
        rgba = parse_color(fallback)
        return None if rgba is None else f"{reference}) {color_text(rgba)}"
    rgba = parse_color(text)
    return None if rgba is None else color_text(rgba)
