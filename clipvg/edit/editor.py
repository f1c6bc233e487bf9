"""The CLIPVG optimisation loop, step by step: render on white, ROI CLIP loss, Adam, clamp."""
from __future__ import annotations

import contextlib
import time
import warnings
from typing import Callable, Iterator

import torch
from tqdm.auto import tqdm

from ..errors import InvalidInputError
from ..render import render_on_white
from ..scene import Scene
from .interrupt import deferred_interrupt
from .options import EditOptions
from .regions import canvas_shape, paths_touching, region_mask

PHASES = ("render", "clip", "render_backward", "optimizer")
Callback = Callable[[int, float, "Editor"], None]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``cuda`` when available and ``device`` is None, else ``device``; a clear error if unusable."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise InvalidInputError(f"unknown device {device!r}; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("CUDA is not available on this machine; use --device cpu")
    return device


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic kernels inside (e.g. the gradient of indexing accumulates in a fixed order, and
    attention runs its plain math kernel), so a seed gives bit-identical results and a resumed edit
    equals an uninterrupted one; ops without a deterministic kernel run as usual, silently. The
    previous settings are restored on exit."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with warnings.catch_warnings(), sdpa_kernel([SDPBackend.MATH]):
            warnings.filterwarnings("ignore", message=".*deterministic.*")
            yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def resolve_deterministic(deterministic: bool | None, device: torch.device) -> bool:
    """``deterministic`` as given; by default True on the CPU (it costs little there) and False on
    CUDA, where the fast path adds gradients in a varying order (results vary in the last bits).
    On CUDA, cuBLAS reduces reproducibly only with ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set before
    CUDA starts: the CLI and batch workers set it at start-up (``set_startup_environment``); a
    library user sets it in the environment."""
    if deterministic is None:
        return device.type == "cpu"
    return bool(deterministic)


def build_optimizer(scene: Scene, options: EditOptions, path_mask: torch.Tensor | None = None) -> torch.optim.Adam:
    """Adam over the parameters ``options.params`` selects, one group per kind with CLIPVG's learning
    rates (``options.lr_points``, ``lr_colors``, ``lr_stroke_widths``); with ``path_mask`` (N,) bool,
    every other path's gradient is zeroed so those paths stay bit-identical."""
    params = options.params
    tensors = scene.parameters(points=params.points, colors=params.colors, stroke_widths=params.stroke_widths,
                               paths=path_mask)
    groups = {"points": [], "colors": [], "stroke_widths": []}
    for tensor in tensors:
        kind = ("points" if tensor is scene.points else
                "stroke_widths" if tensor is scene.stroke_width else "colors")
        groups[kind].append(tensor)
    return torch.optim.Adam([{"params": group, "lr": getattr(options, f"lr_{kind}"), "name": kind}
                             for kind, group in groups.items() if group])


class Editor:
    """Step-wise CLIPVG editing of a copy of ``scene`` (the caller's scene is never modified).

    ``clip`` a model from ``losses.load_clip`` (default: loaded from the options). ``source_image``
    (H, W, 3) the reference render for the directional loss (default: ``scene`` rendered on white).
    ``path_mask`` (N,) bool, the paths allowed to change (default: all, or for region-only edits
    the paths that touch the ROI boxes / region mask). ``timings`` accumulates seconds per phase.
    """

    def __init__(self, scene: Scene, options: EditOptions, clip=None, *, source_image: torch.Tensor | None = None,
                 path_mask: torch.Tensor | None = None) -> None:
        import losses  # deferred: open_clip is slow to import

        self.options = options
        self.device = resolve_device(options.device)
        self.deterministic = resolve_deterministic(options.deterministic, self.device)
        self.scene = scene.clone().to(self.device)
        if self.scene.num_paths == 0:
            raise InvalidInputError("the scene has no paths to edit")
        self.rois = options.build_rois()
        self.path_mask = self._select_paths() if path_mask is None else path_mask.to(self.device)
        self.source_image = (self.render().detach() if source_image is None else source_image.to(self.device))
        self.clip = clip if clip is not None else losses.load_clip(options.clip_model, options.clip_weights,
                                                                   device=self.device, precision=options.precision)
        self.generator = torch.Generator().manual_seed(options.seed)  # the views are drawn on the CPU
        # deterministic on CUDA: views are resampled on the CPU (CUDA's bicubic resampling gradient is not)
        view_device = "cpu" if self.deterministic and self.device.type == "cuda" else None
        self.loss_fn = losses.ROIClipLoss(self.clip, self.rois, source_image=self.source_image,
                                          generator=self.generator, view_device=view_device)
        self.optimizer = build_optimizer(self.scene, options, self.path_mask)
        self.step_count = 0
        self.losses: list[float] = []
        self.timings = dict.fromkeys(PHASES, 0.0)
        self.profile = False  # synchronise CUDA around each phase so timings are exact

    def _select_paths(self) -> torch.Tensor | None:
        if not self.options.params.region_only:
            return None
        boxes = [roi.box for roi in self.rois if roi.box is not None]
        if not boxes and self.options.region_mask is None:
            raise InvalidInputError("a region-only edit needs at least one ROI box (--roi) or a region mask")
        region = region_mask(canvas_shape(self.scene), boxes, self.options.region_mask)
        mask = paths_touching(self.scene, region)
        if not mask.any():
            raise InvalidInputError("no path touches the region; check the ROI boxes or the mask")
        return mask

    def render(self) -> torch.Tensor:
        """(H, W, 3) float in [0, 1]: the current scene on white, at canvas size (differentiable)."""
        return render_on_white(self.scene, backend=self.options.backend)

    def _lap(self, phase: str, start: float) -> float:
        if self.profile and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        self.timings[phase] += now - start
        return now

    def step(self) -> float:
        """One iteration: render, loss, backward, Adam, clamp colours. Returns the loss value.

        Waits for the device once per step (the finite check and the loss value travel together).
        Out of memory propagates as torch raises it; ``run_job`` and ``edit`` turn it into one
        EditOutOfMemoryError with advice (``clipvg.edit.memory``).
        """
        with deterministic() if self.deterministic else contextlib.nullcontext():
            return self._step()

    def _step(self) -> float:
        start = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        image = self.render()
        start = self._lap("render", start)
        view = image.detach().requires_grad_(True)
        loss = self._clip_loss(view)
        start = self._lap("clip", start)
        image.backward(view.grad)
        start = self._lap("render_backward", start)
        grads = [p.grad for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        finite = torch.stack([torch.isfinite(loss.detach())] + [torch.isfinite(g).all() for g in grads]).all()
        value, finite = torch.stack([loss.detach().float(), finite.float()]).tolist()  # the step's one host sync
        if not finite:
            raise InvalidInputError(f"step {self.step_count + 1}: the loss or its gradient is not finite (NaN/inf); "
                                    "the scene is left as it was after the previous step")
        self.optimizer.step()
        self.scene.clamp_()
        self._lap("optimizer", start)
        self.step_count += 1
        self.losses.append(value)
        return value

    def _clip_loss(self, view: torch.Tensor) -> torch.Tensor:
        """The CLIP loss (a float32 scalar) of ``view`` (H, W, 3), its gradient left in ``view.grad``.
        With a reduced-precision CLIP (bf16/fp16 autocast) the loss and gradient are checked finite (one
        more wait for the device); if not, the step's CLIP pass is redone in float32 on the same views,
        with a ``PrecisionWarning``."""
        from losses.errors import PrecisionWarning
        from losses.precision import full_precision

        reduced = getattr(self.clip, "precision", "fp32") != "fp32"
        state = self.generator.get_state() if reduced else None
        loss = self.loss_fn(view)
        loss.backward()
        if not reduced or bool(torch.isfinite(loss.detach()) & torch.isfinite(view.grad).all()):
            return loss
        warnings.warn(f"step {self.step_count + 1}: CLIP's {self.clip.precision} loss or gradient is not finite; "
                      "redoing the step's CLIP pass in fp32 (--precision fp32 does so for every step)",
                      PrecisionWarning, stacklevel=4)  # at the caller of step()
        self.generator.set_state(state)  # the same random views as the reduced-precision pass
        view.grad = None
        with full_precision():
            loss = self.loss_fn(view)
            loss.backward()
        return loss

    def run(self, iterations: int | None = None, callback: Callback | None = None, progress: bool = False) -> bool:
        """Step until ``iterations`` steps in total (default ``options.iterations``) have been taken.

        ``callback(step, loss, editor)`` runs after every step; ``progress`` shows a tqdm bar with
        the current loss. Ctrl-C stops after the current step; returns True when interrupted.
        """
        total = self.options.iterations if iterations is None else iterations
        with deferred_interrupt() as interrupted, tqdm(total=total, initial=min(self.step_count, total),
                                                       disable=not progress, desc="clipvg edit",
                                                       unit="step", dynamic_ncols=True) as bar:
            while self.step_count < total:
                loss = self.step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")
                if callback is not None:
                    callback(self.step_count, loss, self)
                if interrupted():
                    return True
        return False
