"""Errors a user of the losses can cause; each message says how to fix it."""

from clipvg.errors import InvalidInputError


class LossInputError(InvalidInputError):
    """A bad ROI, prompt or image given to a CLIP loss."""


class WeightsUnavailableError(LossInputError):
    """CLIP weights cannot be found locally nor downloaded."""


class PrecisionWarning(UserWarning):
    """A reduced-precision (bf16/fp16) CLIP step gave a non-finite loss or gradient and was redone in float32."""
