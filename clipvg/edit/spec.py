"""The edit job spec: everything one edit needs, as typed dataclasses that round-trip through JSON.

The CLI builds a ``JobSpec`` from argv, batch manifests and the web editor from JSON; ``run_job``
(``clipvg.edit.job``) runs it. Validation raises the project's ``InvalidInputError`` with the fix in
the message.

    spec = JobSpec(input="cat.png", prompt="a cat made of gold", steps=100,
                   outputs=Outputs(["cat.svg", "cat.png"]))
    JobSpec.from_json(spec.to_json()) == spec
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from losses.precision import PRECISIONS

from .. import json_text
from ..errors import InvalidInputError
from ..limits import ResourceLimits, names as limit_names, resource_limits

VERSION = 1
OUTPUT_SUFFIXES = (".svg", ".png", ".pdf")
BACKENDS = ("torch", "diffvg")
LEGACY_LIMITS = {"max_paths": "paths", "max_pixels": "render_pixels"}  # JobSpec.limits before ResourceLimits


def check_output_suffixes(targets: typing.Sequence[str]) -> None:
    """Raise InvalidInputError unless every target ends in .svg, .png or .pdf."""
    for target in targets:
        if Path(target).suffix.lower() not in OUTPUT_SUFFIXES:
            raise InvalidInputError(f"cannot write {target}: the output must end in {', '.join(OUTPUT_SUFFIXES)}")


@dataclass
class Region:
    """A boxed region with its own prompt: ``box`` (x, y, w, h) in whole canvas pixels; ``patches``
    random patches per step for it (None: the job's ``clip.patches``)."""

    box: tuple[int, int, int, int]
    prompt: str
    patches: int | None = None


@dataclass
class Subset:
    """Which parameters move: control ``points``, ``colors`` (fills, strokes, gradient stops),
    ``stroke_widths``; ``region_only`` restricts them to the paths touching the region boxes or
    ``mask`` (an image file, white = inside; giving it implies ``region_only``)."""

    points: bool = True
    colors: bool = True
    stroke_widths: bool = False
    region_only: bool = False
    mask: str | None = None

    def names(self) -> list[str]:
        """The subset as ``clipvg.edit.Params`` names."""
        flags = [n for n in ("points", "colors", "stroke_widths") if getattr(self, n)]
        return flags + ["region_only"] * (self.region_only or self.mask is not None)


@dataclass
class ClipSettings:
    """The CLIP model and loss views: ``model`` an open_clip architecture or model-config JSON path,
    ``weights`` a pretrained tag, a checkpoint path or None (random weights, for tests); ``patches``
    random patches per region and step; ``precision`` auto (bf16 autocast on a CPU with native bf16,
    else fp32), fp32, or fp16/bf16 autocast (bf16 also on the CPU)."""

    model: str = "ViT-B-32"
    weights: str | None = "openai"
    patches: int = 64
    precision: str = "auto"
    source_prompt: str = "A photo"


@dataclass
class RefinerSettings:
    """A diffusion refiner run before the edit (``clipvg.refiners.registry``): its ``name``, ``model``
    (hub id or local folder; None: the refiner's default), ``settings`` (the registry's settings by
    name, e.g. {"steps": 30}) and ``refit_iterations`` (steps fitting the paths to its picture)."""

    name: str
    model: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    refit_iterations: int = 100


@dataclass
class Outputs:
    """Files to write when the job ends (``paths`` .svg with layers, .png on white, .pdf), all
    atomically; ``export_layers`` one PNG + SVG per layer into ``<first>_layers/``;
    ``frames_every`` N: a frame every N steps into ``<first>_frames/`` and ``<first>.gif``."""

    paths: list[str] = field(default_factory=list)
    export_layers: bool = False
    frames_every: int | None = None


@dataclass
class CheckpointPolicy:
    """Where and how often the job saves its state (the optimizer's too; resuming equals an
    uninterrupted run). ``directory`` (default ``<first output>.checkpoint``) also holds the job's
    owner lock. A checkpoint is written every ``every_steps`` steps and/or ``every_seconds`` seconds
    (whichever comes first; neither: only when the job stops early), and always when it is cancelled
    or fails. ``resume``: continue from a checkpoint found in ``directory``; ``resume_from``: a
    checkpoint directory to start from when ``directory`` has none (e.g. continuing a finished
    edit); ``keep``: keep the checkpoint after the job finished (default: removed)."""

    directory: str | None = None
    every_steps: int | None = None
    every_seconds: float | None = None
    resume: bool = True
    resume_from: str | None = None
    keep: bool = False


@dataclass
class JobSpec:
    """One edit job. ``input`` a photo (vectorized first, long side resized to ``size`` px) or SVG
    file, or ``svg`` SVG markup (exactly one of them). ``prompt`` covers the whole picture; it may be
    empty when ``regions`` have prompts. ``steps`` Adam steps in total (a resumed job continues to
    it), ``seed`` seeds everything random (same seed, same SVG), ``device`` cpu/cuda/cuda:N (None:
    cuda when available), ``deterministic`` bit-identical results on CUDA too (None: only on the
    CPU), ``backend`` the renderer differentiated (torch, or diffvg if installed). ``id`` names the
    job in messages. ``limits`` the resource limits the job runs under (default: those in force when
    the spec is made, ``clipvg.limits.resource_limits()``; in JSON, the limits given are put into
    those in force where the spec is read); ``max_seconds`` of optimisation, then the job stops as if
    cancelled (checkpoint saved)."""

    input: str | None = None
    svg: str | None = None
    prompt: str = ""
    regions: list[Region] = field(default_factory=list)
    subset: Subset = field(default_factory=Subset)
    steps: int = 150
    seed: int = 0
    size: int | None = 512
    clip: ClipSettings = field(default_factory=ClipSettings)
    refiner: RefinerSettings | None = None
    outputs: Outputs = field(default_factory=Outputs)
    checkpoint: CheckpointPolicy = field(default_factory=CheckpointPolicy)
    limits: ResourceLimits = field(default_factory=resource_limits)
    max_seconds: float | None = None
    device: str | None = None
    deterministic: bool | None = None
    backend: str = "torch"
    id: str = ""

    def validate(self) -> "JobSpec":
        """Raise InvalidInputError naming the first unusable field and its fix; returns self."""
        _check_types(self, "")
        if (self.input is None) == (self.svg is None):
            raise InvalidInputError("give the job exactly one of input (a photo or SVG file) or svg (SVG markup)")
        for path in (self.input, self.subset.mask):
            if path is not None and not _is_file(path):
                raise InvalidInputError(f"input file not found: {path}")
        if not self.prompt.strip() and not self.regions:
            raise InvalidInputError("the prompt is empty; describe the edit, e.g. --prompt 'a green circle', or give "
                                    "regions with their own prompts (--roi X,Y,W,H=TEXT)")
        for number, region in enumerate(self.regions, 1):
            if len(region.box) != 4 or region.box[2] <= 0 or region.box[3] <= 0:
                raise InvalidInputError(f"region {number} box {list(region.box)} needs 4 whole pixels x, y, w, h "
                                        "with a positive width and height")
            if not region.prompt.strip():
                raise InvalidInputError(f"region {number} has no prompt; describe what its box should show")
        if not (self.subset.points or self.subset.colors or self.subset.stroke_widths):
            raise InvalidInputError("no parameters to optimize; enable points, colors or stroke_widths")
        if self.subset.region_only and not self.regions and self.subset.mask is None:
            raise InvalidInputError("a region-only edit needs at least one ROI box (--roi) or a region mask")
        _at_least("--iterations (steps)", self.steps, 0)
        _at_least("--patches (clip.patches)", self.clip.patches, 0)
        _at_least("--max-size (size)", self.size, 1)
        _at_least("--save-every (outputs.frames_every)", self.outputs.frames_every, 1)
        _at_least("--checkpoint-every (checkpoint.every_steps)", self.checkpoint.every_steps, 1)
        _at_least("--checkpoint-seconds (checkpoint.every_seconds)", self.checkpoint.every_seconds, 0)
        _at_least("--max-seconds (max_seconds)", self.max_seconds, 0)
        self.limits.with_values(dataclasses.asdict(self.limits), lambda name: f"job spec field limits.{name}")
        if self.clip.precision not in PRECISIONS:
            raise InvalidInputError(f"unknown precision {self.clip.precision!r}; choose one of {', '.join(PRECISIONS)}")
        if self.backend not in BACKENDS:
            raise InvalidInputError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if not self.outputs.paths:
            raise InvalidInputError("the job writes nothing; give at least one output (.svg, .png or .pdf)")
        check_output_suffixes(self.outputs.paths)
        return self

    def input_files(self) -> tuple[str, ...]:
        """The files the job reads (never written)."""
        return tuple(p for p in (self.input, self.subset.mask) if p is not None)

    def checkpoint_dir(self) -> Path:
        """The checkpoint (and owner lock) directory."""
        if self.checkpoint.directory is not None:
            return Path(self.checkpoint.directory)
        stem = Path(self.outputs.paths[0]).with_suffix("")
        return stem.with_name(stem.name + ".checkpoint")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (nested dicts and lists), with the spec version."""
        return {"version": VERSION, **dataclasses.asdict(self)}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "JobSpec":
        """A spec from ``to_dict``'s data (missing fields take their defaults); unknown keys and
        wrong types raise InvalidInputError naming the field."""
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"a job spec is a JSON object, got {type(data).__name__}")
        data = dict(data)
        version = data.pop("version", VERSION)
        if version != VERSION:
            raise InvalidInputError(f"job spec version {version!r} is not {VERSION}; write the spec again with this clipvg")
        if "limits" in data:
            data["limits"] = _limits(data["limits"], data)
        return _build(cls, data, "")

    @classmethod
    def from_json(cls, text: str | bytes) -> "JobSpec":
        try:
            data = json_text.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidInputError(f"the job spec is not JSON ({error.msg} at line {error.lineno})") from None
        except UnicodeDecodeError as error:
            raise InvalidInputError(f"the job spec is not UTF-8 text ({error.reason} at byte {error.start})") from None
        return cls.from_dict(data)


def _limits(given: Any, data: dict[str, Any]) -> ResourceLimits:
    """The resource limits in force with the JSON object ``given`` put in (limit name -> number);
    the limits of specs written before ResourceLimits (``max_seconds``, ``max_paths``, ``max_pixels``)
    move to ``data["max_seconds"]`` and the limits ``paths``/``render_pixels``."""
    if not isinstance(given, Mapping):
        raise InvalidInputError(f"job spec field limits must be an object of resource limits, got {given!r}")
    given = dict(given)
    if "max_seconds" in given:
        data.setdefault("max_seconds", given.pop("max_seconds"))
    for old, new in LEGACY_LIMITS.items():
        value = given.pop(old, None)
        if value is not None:
            given[new] = value
    unknown = sorted(set(given) - set(limit_names()))
    if unknown:
        raise InvalidInputError(f"unknown job spec field limits.{unknown[0]}; known: {', '.join(limit_names())}")
    return resource_limits().with_values(given, lambda name: f"job spec field limits.{name}")


def _is_file(path: str) -> bool:
    """Whether ``path`` names a file (False for a name the system refuses: too long, a NUL byte)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def _at_least(name: str, value: float | None, minimum: float) -> None:
    if value is not None and value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}")


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of dataclass ``cls``."""
    return typing.get_type_hints(cls)


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    """``cls`` (a dataclass) from ``data``, nested dataclasses built from nested dicts."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise InvalidInputError(f"unknown job spec field {where}{unknown[0]}; known: {', '.join(sorted(names))}")
    hints = _hints(cls)
    values = {}
    for name, value in data.items():
        nested = _dataclass_of(hints[name])
        if nested is not None and isinstance(value, Mapping):
            value = _build(nested, value, f"{where}{name}.")
        elif name == "regions" and isinstance(value, list):
            value = [_build(Region, r, f"{where}regions[{i}].") if isinstance(r, Mapping) else r
                     for i, r in enumerate(value)]
        elif name == "box" and isinstance(value, list):
            value = tuple(value)
        values[name] = value
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise InvalidInputError(f"job spec field {where}{missing[0]} is missing; give it a value")
    return cls(**values)


def _dataclass_of(hint: Any) -> type | None:
    """The dataclass in ``hint`` (``X`` or ``X | None``), else None."""
    for option in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(option):
            return option
    return None


def _accepts(hint: Any, value: Any) -> bool:
    """Whether ``value`` fits the type ``hint`` (shallowly; ints pass for floats, bools never for numbers)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(option, value) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin in (list, tuple, dict):
        return isinstance(value, origin)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _check_types(obj: Any, where: str) -> None:
    """InvalidInputError for the first field of ``obj`` (a dataclass, nested) whose value has the wrong type."""
    for name, hint in _hints(type(obj)).items():
        value = getattr(obj, name)
        if not _accepts(hint, value):
            raise InvalidInputError(f"job spec field {where}{name} must be {_describe(hint)}, got {value!r}")
        if dataclasses.is_dataclass(value):
            _check_types(value, f"{where}{name}.")
        elif name == "regions":
            for i, region in enumerate(value):
                if not isinstance(region, Region):
                    raise InvalidInputError(f"job spec field regions[{i}] must be {{box, prompt}}, got {region!r}")
                _check_types(region, f"regions[{i}].")
                if not all(isinstance(v, int) and not isinstance(v, bool) for v in region.box):
                    raise InvalidInputError(f"region {i + 1} box {list(region.box)} needs whole pixel numbers")


def _describe(hint: Any) -> str:
    """``int or None``, ``list``, ``str`` ... for a type hint."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "None"
    return getattr(origin or hint, "__name__", str(hint))
