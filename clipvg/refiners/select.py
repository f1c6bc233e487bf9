"""Picking among candidate pictures with CLIP: best-of-k samples (Imagic, UniTune's SDEdit starts)
and zero-shot scene recognition (MiracleVision's outpaint prompt)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from ..errors import InvalidInputError

Scorer = Callable[[torch.Tensor, str], float]

# MiracleVision picks the outpaint prompt from the recognised scene; a small, general vocabulary
SCENES = ("a beach", "a mountain landscape", "a forest", "a city street", "a room interior", "a field of grass",
          "a desert", "a snowy landscape", "the sea", "a night sky", "a garden", "a lake", "a studio backdrop",
          "a plain wall")


class ClipScorer:
    """``scorer(image, prompt) -> float``: the cosine between CLIP's embeddings of ``image`` (H, W, 3)
    in [0, 1] and of ``prompt`` (a ``losses.ClipModel``, e.g. ``losses.load_clip(...)``)."""

    def __init__(self, clip: Any) -> None:
        self.clip = clip

    @torch.no_grad()
    def __call__(self, image: torch.Tensor, prompt: str) -> float:
        return float(self.similarities(image, [prompt])[0])

    @torch.no_grad()
    def similarities(self, image: torch.Tensor, prompts: Sequence[str]) -> torch.Tensor:
        """(len(prompts),) cosines of ``image`` (H, W, 3) with each prompt."""
        features = self.clip.encode_image(image.float().permute(2, 0, 1)[None])
        return (self.clip.encode_text(list(prompts)) @ features[0]).cpu()


def best(candidates: Sequence[torch.Tensor], prompt: str, scorer: Scorer | None) -> torch.Tensor:
    """The candidate (H, W, 3) that ``scorer`` rates highest for ``prompt`` (the first on ties);
    one candidate needs no scorer."""
    if len(candidates) == 1:
        return candidates[0]
    if scorer is None:
        raise InvalidInputError("choosing among several samples needs a scorer (e.g. "
                                "clipvg.refiners.select.ClipScorer(losses.load_clip(...)))")
    scores = [scorer(candidate, prompt) for candidate in candidates]
    return candidates[max(range(len(scores)), key=scores.__getitem__)]


def recognise_scene(image: torch.Tensor, clip: Any, vocabulary: Sequence[str] = SCENES) -> str:
    """The entry of ``vocabulary`` CLIP finds closest to ``image`` (H, W, 3) in [0, 1] (zero-shot)."""
    if not vocabulary:
        raise InvalidInputError("scene recognition needs a non-empty vocabulary of scene descriptions")
    scores = ClipScorer(clip).similarities(image, vocabulary)
    return vocabulary[int(scores.argmax())]


def scene_prompt(image: torch.Tensor, area: torch.Tensor, clip: Any, vocabulary: Sequence[str] = SCENES) -> str:
    """MiracleVision's outpaint prompt: the scene CLIP recognises (``recognise_scene``) in the known
    part of ``image`` (H, W, 3), the bounding box of the pixels outside ``area`` (H, W) bool."""
    known = ~area.cpu().bool()
    if not bool(known.any()):
        raise InvalidInputError("the whole picture is to be painted: there is no known part to recognise a scene in")
    rows, cols = known.any(1).nonzero()[:, 0], known.any(0).nonzero()[:, 0]
    return recognise_scene(image[int(rows[0]):int(rows[-1]) + 1, int(cols[0]):int(cols[-1]) + 1], clip, vocabulary)
