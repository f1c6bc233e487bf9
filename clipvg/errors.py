"""Exceptions a user can cause. Each message says what went wrong and how to fix it."""


class ClipvgError(Exception):
    """Base class for every error clipvg raises on bad input; the CLI prints it in one line."""


class InvalidInputError(ClipvgError, ValueError):
    """An argument or a file's content is unusable (bad ROI, empty prompt, corrupt image, ...)."""


class FontError(InvalidInputError):
    """A font cannot be found (by file or family name) or read (truncated or not a font file)."""


class ResourceLimitError(InvalidInputError):
    """An input or argument is larger than a ``clipvg.limits.ResourceLimits`` limit (the web answers 413)."""


class SVGParseError(ClipvgError):
    """An SVG file cannot be read (malformed XML, missing file, no drawable content)."""


class BackendUnavailableError(ClipvgError, ImportError):
    """An optional backend (pydiffvg, vtracer, diffusers) is not installed."""
