"""CLIPVG's directional CLIP loss on embeddings."""

from __future__ import annotations

import torch

from losses.clip_model import ClipModel
from losses.errors import LossInputError

_EPS = 1e-12


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine similarity of broadcastable `(..., D)` tensors; 0 where either vector is zero."""
    norms = a.norm(dim=-1).clamp_min(_EPS) * b.norm(dim=-1).clamp_min(_EPS)
    return (a * b).sum(dim=-1) / norms


class DirectionalClipLoss:
    """`1 - cos(E_I(x) - E_I(x0), E_T(prompt) - E_T(source_prompt))`, per image, in [0, 2].

    An image embedding equal to its reference (zero image delta) has cosine 0 by definition, so its
    loss is exactly 1. The cosine is scale-free, so its gradient grows as the image delta shrinks (as
    with `torch.cosine_similarity` in the official code).
    """

    def __init__(self, text_direction: torch.Tensor) -> None:
        """text_direction: `(D,)` E_T(prompt) - E_T(source_prompt), or `(R, D)`, one per region; not zero."""
        if not bool((text_direction.abs().sum(dim=-1) > 0).all()):
            raise LossInputError("the prompt and the source prompt have the same CLIP embedding, so there is "
                                 "no direction to edit toward; use a prompt that differs from the source")
        self.text_direction = text_direction

    @classmethod
    def from_prompts(cls, clip: ClipModel, prompt: str, source_prompt: str = "A photo") -> DirectionalClipLoss:
        """Build the text direction from template-averaged embeddings of the two prompts."""
        return cls(clip.encode_text_templates(prompt) - clip.encode_text_templates(source_prompt))

    def __call__(
        self, image_embeddings: torch.Tensor, reference_embeddings: torch.Tensor, region: torch.Tensor | None = None
    ) -> torch.Tensor:
        """image_embeddings: `(N, D)` E_I(x); reference_embeddings: `(N, D)` or `(D,)` E_I(x0);
        region: `(N,)` row of an `(R, D)` text direction for each image -> `(N,)` losses."""
        direction = self.text_direction if region is None else self.text_direction[region]
        return 1 - cosine(image_embeddings - reference_embeddings, direction)
