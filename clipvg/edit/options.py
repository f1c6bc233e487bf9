"""Edit settings: which parameters move (``Params``) and everything else an edit needs (``EditOptions``)."""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from ..errors import InvalidInputError
from ..input_check import ReadRaster

_PRESETS = {
    "all": dict(points=True, colors=True),
    "colors_only": dict(points=False, colors=True, stroke_widths=False),
    "shapes_only": dict(points=True, colors=False, stroke_widths=True),
}
_FLAGS = ("points", "colors", "stroke_widths")


@dataclass(frozen=True)
class Params:
    """The parameter subset an edit optimizes.

    ``points`` control points, ``colors`` fill/stroke/gradient-stop colours, ``stroke_widths``;
    ``region_only`` restricts all of them to the paths that touch the ROI boxes or the region mask.
    """

    points: bool = True
    colors: bool = True
    stroke_widths: bool = False
    region_only: bool = False

    @classmethod
    def parse(cls, value: "Params | str | Iterable[str]") -> "Params":
        """From a Params, or names joined by commas / in a list: presets ``all``, ``colors_only``,
        ``shapes_only``, single subsets ``points``, ``colors``, ``stroke_widths``, plus ``region_only``."""
        if isinstance(value, Params):
            return value
        names = value.split(",") if isinstance(value, str) else list(value)
        names = [n.strip().replace("-", "_") for n in names if n.strip()]
        unknown = set(names) - set(_PRESETS) - set(_FLAGS) - {"region_only"}
        if unknown:
            raise InvalidInputError(f"unknown parameter subset {sorted(unknown)}; choose from "
                                    f"{sorted(_PRESETS) + list(_FLAGS) + ['region_only']}")
        presets = [n for n in names if n in _PRESETS]
        flags = [n for n in names if n in _FLAGS]
        if len(presets) > 1 or (presets and flags):
            raise InvalidInputError(f"conflicting parameter subsets {names}; pick one preset or a list of subsets")
        chosen = _PRESETS[presets[0]] if presets else ({n: n in flags for n in _FLAGS} if flags else _PRESETS["all"])
        params = cls(**{**dict(points=False, colors=False, stroke_widths=False), **chosen},
                     region_only="region_only" in names)
        if not (params.points or params.colors or params.stroke_widths):
            raise InvalidInputError("no parameters to optimize; enable points, colors or stroke_widths")
        return params


@dataclass
class EditOptions:
    """Everything an edit needs besides the scene. Defaults follow CLIPVG.

    ``prompt`` covers the whole canvas (it may be empty when ``rois`` are given: then only the
    regions are looked at); ``rois`` adds boxed regions, each a ``losses.ROI``, a
    ``(box, prompt)`` pair with box (x, y, w, h) in canvas pixels (rounded to whole pixels), or a
    dict of ``losses.ROI`` fields.
    ``num_patches`` is the patch count for the canvas ROI and for pairs. ``clip_weights`` None means
    random weights (benchmarks). ``region_mask`` (an image path, one ``clipvg.input_check`` decoded, or an
    (H, W) array) adds to the ROI boxes for region-only edits. Learning rates are Adam's, per parameter
    kind. ``deterministic``: the same seed gives a bit-identical result (None: yes on the CPU, the fast
    path on CUDA, where results vary in the last bits unless True). ``precision``: CLIP's, "auto" (bf16 autocast on
    a CPU with native bf16, else fp32; ``losses.precision``), "fp32", or "fp16"/"bf16" autocast.
    ``backend``: the renderer the loop differentiates, "auto"/"torch" (clipvg's) or "diffvg"
    (pydiffvg, as CLIPVG; see the README).
    """

    prompt: str
    rois: Sequence[Any] = ()
    params: Params | str | Iterable[str] = "all"
    iterations: int = 150
    seed: int = 0
    device: str | None = None
    clip_model: str = "ViT-B-32"
    clip_weights: str | None = "openai"
    source_prompt: str = "A photo"
    num_patches: int = 64
    lr_points: float = 0.2
    lr_colors: float = 0.01
    lr_stroke_widths: float = 0.1
    region_mask: Any = None
    deterministic: bool | None = None
    backend: str = "auto"
    precision: str = "auto"

    def __post_init__(self) -> None:
        from ..render.api import BACKENDS
        self.params = Params.parse(self.params)
        if self.backend not in BACKENDS:
            raise InvalidInputError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if not isinstance(self.prompt, str) or (not self.prompt.strip() and not self.rois):
            raise InvalidInputError("the prompt is empty; describe the edit, e.g. --prompt 'a green circle', or give "
                                    "regions with their own prompts")
        if self.iterations < 0:
            raise InvalidInputError(f"iterations must be >= 0, got {self.iterations}")
        if self.num_patches < 0:
            raise InvalidInputError(f"the patch count must be >= 0, got {self.num_patches}")

    def build_rois(self) -> list:
        """``losses.ROI`` objects: the whole canvas with ``prompt`` (unless it is empty), then every
        entry of ``rois``."""
        import losses

        defaults = dict(source_prompt=self.source_prompt, num_patches=self.num_patches)
        result = [losses.ROI(self.prompt, box=None, **defaults)] if self.prompt.strip() else []
        for item in self.rois:
            if isinstance(item, losses.ROI):
                result.append(item)
            elif isinstance(item, dict):
                result.append(losses.ROI(**{**defaults, **item}))
            elif isinstance(item, (tuple, list)) and len(item) == 2:
                box, prompt = item
                result.append(losses.ROI(prompt, box=tuple(int(round(float(v))) for v in box), **defaults))
            else:
                raise InvalidInputError(f"cannot read ROI {item!r}; pass (box, prompt), a dict or a losses.ROI")
        return result

    def fingerprint(self) -> dict:
        """A JSON-able summary of the settings that decide the result (not iterations or device);
        a checkpoint only resumes under the same fingerprint."""
        rois = [_plain(roi) for roi in self.build_rois()]
        keep = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in ("rois", "iterations", "device", "region_mask", "params", "deterministic")}
        mask = None if self.region_mask is None else _digest(self.region_mask)
        if keep["backend"] in ("auto", "torch"):  # the default: checkpoints from before the option resume
            del keep["backend"]
        if keep["precision"] in ("auto", "fp32"):  # likewise (fp32 was the default)
            del keep["precision"]
        return {**keep, "rois": rois, "params": dataclasses.asdict(self.params), "region_mask": mask}


def _plain(value: Any) -> Any:
    """Dataclasses and tuples as JSON-able dicts and lists."""
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _digest(mask: Any) -> str:
    """A short content hash of a mask given as a file path or an array; a decoded file (``ReadRaster``) is hashed
    as its path is, by the file's bytes (so a checkpoint resumes whichever of the two the job was given)."""
    if isinstance(mask, (np.ndarray, torch.Tensor)):
        data = np.ascontiguousarray(torch.as_tensor(mask).cpu().numpy()).tobytes()
    else:
        with open(mask.name if isinstance(mask, ReadRaster) else mask, "rb") as handle:
            data = handle.read()
    return hashlib.sha256(data).hexdigest()[:16]
