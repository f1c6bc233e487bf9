"""Edit jobs as flat options: the one table of ``clipvg edit``'s options, from which the command line
(``clipvg edit``, ``clipvg batch``) and batch job lines (``{"input": ..., "prompt": ..., "roi":
[...], "iterations": 100}``) are read into a ``JobSpec``.

``OPTIONS`` declares each option once (kind, type, default, help); ``add_arguments`` puts them on
an argparse parser; ``spec_from_options`` turns a dict of them into a validated JobSpec.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..errors import InvalidInputError
from .presets import quick_options
from ..limits import ResourceLimits, describe, names as limit_names, option_name, resource_limits
from .spec import (BACKENDS, PRECISIONS, CheckpointPolicy, ClipSettings, JobSpec, Outputs, RefinerSettings, Region,
                   Subset)

PARAMS = ("all", "colors_only", "shapes_only", "region_only")
# options a preset (--quick, the CLI's CPU preset) sets when the user does not: the parser leaves them unset
PRESET_OPTIONS = ("iterations", "patches", "max_size")


@dataclass(frozen=True)
class Option:
    """One flat option: ``name`` (also ``--name-with-dashes``), ``kind`` "value", "flag" (true/false)
    or "list" (repeatable), ``type`` of a value, ``default``, ``help``, ``metavar``, ``choices``."""

    name: str
    kind: str
    help: str
    type: type = str
    default: Any = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def flags(self) -> tuple[str, ...]:
        """The command-line spellings: ``--name-with-dashes`` (and ``-o`` for ``output``)."""
        return ("-o",) * (self.name == "output") + ("--" + self.name.replace("_", "-"),)


def _weights(text: str) -> str | None:
    """``--clip-weights``: a tag or checkpoint path; ``none`` means random weights."""
    return None if text is None or text.lower() == "none" else text


OPTIONS: tuple[Option, ...] = (
    Option("output", "list", "file to write: .svg (layers kept), .png or .pdf; repeat for several", metavar="OUT"),
    Option("prompt", "value", "text describing the result, e.g. 'a green circle' (optional with --roi)", default=""),
    Option("iterations", "value", "optimisation steps (default 150)", int, 150),
    Option("patches", "value", "random patches per ROI and step (default 64)", int, 64),
    Option("clip_model", "value", "open_clip architecture name or model-config JSON (default ViT-B-32)",
           default="ViT-B-32"),
    Option("clip_weights", "value", "pretrained tag (downloaded on first use), local checkpoint path, or 'none' for "
           "random weights (default openai)", default="openai"),
    Option("precision", "value", "CLIP precision: auto (default: bf16 autocast on CPUs with native bf16, such as "
           "AVX-512 bf16 or AMX, else fp32), fp32, fp16 autocast on CUDA, bf16 autocast on CUDA and the CPU",
           default="auto", choices=PRECISIONS),
    Option("quick", "flag", "smoke run, offline: the project's shapes CLIP, 3 steps of 4 patches "
           "(explicit options still win)"),
    Option("seed", "value", "random seed; the same seed gives the same SVG", int, 0),
    Option("device", "value", "cpu or cuda (default: cuda when available)"),
    Option("deterministic", "flag", "bit-identical results for a seed on CUDA too (slower there; always on for the CPU)"),
    Option("backend", "value", "renderer the edit differentiates: torch (default) or diffvg (pydiffvg, if installed, "
           "as CLIPVG; see README)", default="torch", choices=BACKENDS),
    Option("save_every", "value", "every N steps save a frame (OUT_frames/) and a checkpoint, and at the end OUT.gif",
           int, metavar="N"),
    Option("checkpoint_every", "value", "save a checkpoint every N steps (resume after a crash)", int, metavar="N"),
    Option("checkpoint_seconds", "value", "save a checkpoint at most every S seconds of editing", float, metavar="S"),
    Option("export_layers", "flag", "also write one transparent PNG and one SVG per layer into OUT_layers/"),
    Option("roi", "list", "a region (pixels of the vectorized canvas) with its own prompt; repeatable",
           metavar="X,Y,W,H=TEXT"),
    Option("colors_only", "flag", "change colours only (points stay put)"),
    Option("shapes_only", "flag", "change shapes only (colours stay put)"),
    Option("region_only", "flag", "only paths touching the ROI boxes (or --mask) change; the rest stays identical"),
    Option("mask", "value", "region mask image (white = inside); implies --region-only"),
    Option("max_size", "value", "long side in pixels a photo is resized to before vectorizing (default 512)", int, 512),
    Option("max_seconds", "value", "stop editing after S seconds (checkpoint saved; run again to continue)", float,
           metavar="S"),
)
# the resource limits (clipvg.limits), by their option names: in job files; the CLI adds their flags to every command
LIMIT_OPTIONS: tuple[Option, ...] = tuple(
    Option(option_name(name), "value", describe(name), type(getattr(ResourceLimits(), name)), metavar="N")
    for name in limit_names())
BY_NAME = {o.name: o for o in OPTIONS + LIMIT_OPTIONS}
ALIASES = {"outputs": "output", "rois": "roi", "num_patches": "patches", "steps": "iterations"}


def refiner_options() -> dict[str, Option]:
    """The refiner options, from the refiner registry's table: ``refiner`` (its names),
    ``refiner_model``, every registry setting (``refiner_steps``, ``tune_steps``, ...) and
    ``refit_iterations``."""
    from ..refiners.registry import NAMES, SETTINGS

    options = [Option("refiner", "value", "repaint the region with a diffusion model first, then fit the paths to it",
                      choices=NAMES),
               Option("refiner_model", "value", "Hugging Face model id (downloaded on first use) or local diffusers "
                      "folder", metavar="ID|DIR")]
    options += [Option(name, "value", s.help, s.type, s.default, s.metavar, s.choices) for name, s in SETTINGS.items()]
    options.append(Option("refit_iterations", "value", "steps fitting the paths to the refined picture (default 100)",
                          int, 100))
    return {option.name: option for option in options}


def all_options() -> dict[str, Option]:
    """Every flat option by name: ``OPTIONS`` and the refiner settings."""
    return {**BY_NAME, **refiner_options()}


def add_arguments(parser: argparse.ArgumentParser | Any, names: Iterable[str], defaults: bool = True) -> None:
    """Add the options ``names`` to ``parser`` (a parser or argument group); ``defaults`` False leaves
    unset options out of the parsed namespace (``clipvg batch``: a job's own value wins)."""
    options = all_options()
    for name in names:
        option = options[name]
        extra: dict[str, Any] = {"help": option.help}
        if option.kind == "flag":
            extra.update(action="store_true", default=None if option.name == "deterministic" else False)
        elif option.kind == "list":
            extra.update(action="append", default=[], metavar=option.metavar)
        else:
            kind = _weights if option.name == "clip_weights" else option.type
            extra.update(type=kind, default=option.default, metavar=option.metavar, choices=option.choices)
        if not defaults or option.name in PRESET_OPTIONS:
            extra["default"] = argparse.SUPPRESS
        parser.add_argument(*option.flags, **extra)


def parse_roi(text: str) -> Region:
    """``"X,Y,W,H=TEXT"`` (whole pixels) -> Region; raises InvalidInputError when malformed."""
    box_text, sep, prompt = text.partition("=")
    try:
        box = tuple(int(v) for v in box_text.split(","))
    except ValueError:
        box = ()
    if not sep or len(box) != 4 or not prompt.strip():
        raise InvalidInputError(f"malformed ROI {text!r}; write X,Y,W,H=TEXT, e.g. --roi 10,20,100,80='a cat'")
    if box[2] <= 0 or box[3] <= 0:
        raise InvalidInputError(f"ROI {text!r} has a zero or negative size; width and height must be positive")
    return Region(box, prompt.strip())


def _region(roi: Any) -> Region:
    """A ROI as "X,Y,W,H=TEXT", {"box": [x, y, w, h], "prompt": TEXT} or [[x, y, w, h], TEXT]."""
    if isinstance(roi, str):
        return parse_roi(roi)
    if isinstance(roi, Mapping) and {"box", "prompt"} <= set(roi):
        box, prompt = roi["box"], roi["prompt"]
    elif isinstance(roi, (list, tuple)) and len(roi) == 2:
        box, prompt = roi
    else:
        raise InvalidInputError(f"malformed ROI {roi!r}; write \"X,Y,W,H=TEXT\", {{\"box\": [x, y, w, h], "
                                "\"prompt\": TEXT}} or [[x, y, w, h], TEXT]")
    if not isinstance(box, (list, tuple)) or not all(isinstance(v, (int, float)) and float(v).is_integer() for v in box):
        raise InvalidInputError(f"malformed ROI box {box!r}; give four whole pixel numbers [x, y, w, h]")
    return Region(tuple(int(v) for v in box), str(prompt))


def normalize(entry: Mapping[str, Any], extra: Iterable[str] = ()) -> dict[str, Any]:
    """``entry``'s keys as option names (dashes or underscores, aliases, ``params``); raises
    InvalidInputError on keys that are not options (``extra`` names more that are allowed)."""
    options, known = all_options(), set(extra) | {"input"}
    result: dict[str, Any] = {}
    for key, value in entry.items():
        name = str(key).replace("-", "_")
        name = ALIASES.get(name, name)
        if name == "params":
            if not isinstance(value, (str, list, tuple)):
                raise InvalidInputError(f"params must be a name or a list of names from {list(PARAMS)}, got {value!r}")
            names = [value] if isinstance(value, str) else list(value)
            names = [n.strip() for part in names for n in str(part).replace("-", "_").split(",") if n.strip()]
            unknown = sorted(set(names) - set(PARAMS))
            if unknown:
                raise InvalidInputError(f"params {unknown} are not edit options; choose from {list(PARAMS)}")
            result.update(dict.fromkeys((n for n in names if n != "all"), True))
        elif name in options or name in known:
            if name in options and options[name].kind == "list":
                if not isinstance(value, (str, Mapping, list, tuple)):
                    raise InvalidInputError(f"{name} must be a list (or one item), got {value!r}")
                value = [value] if isinstance(value, (str, Mapping)) else list(value)
            result[name] = value
        else:
            names = sorted(set(options) | set(ALIASES) | known | {"params"})
            raise InvalidInputError(f"unknown job key {key!r}; an edit takes {', '.join(names)}")
    return result


def _typed(name: str, value: Any) -> Any:
    """``value`` checked against option ``name``'s kind and type."""
    option = all_options()[name]
    if option.kind == "flag":
        if value is not None and not isinstance(value, bool):
            raise InvalidInputError(f"{name} must be true or false, got {value!r}")
        return value
    if option.kind == "list" or value is None:
        return value
    if option.name == "clip_weights":
        return _weights(value) if isinstance(value, str) else value
    numeric = option.type in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool)
    if option.type is int and numeric and float(value).is_integer():
        return int(value)
    if (option.type is float and numeric) or isinstance(value, str) and option.type is str:
        return value
    raise InvalidInputError(f"{name} must be {'a whole number' if option.type is int else 'a ' + option.type.__name__}, "
                            f"got {value!r}")


def with_quick(given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` (normalized options) with the ``--quick`` preset filled in when ``quick`` is set: for
    options not given, and for a CLIP model or weights left at their defaults."""
    if not given.get("quick"):
        return dict(given)
    preset = quick_options()
    return {**given, **{name: value for name, value in preset.items()
                        if name not in given or given[name] == BY_NAME[name].default}}


def spec_from_options(options: Mapping[str, Any], **fixed: Any) -> JobSpec:
    """A validated JobSpec from flat options (``clipvg edit``'s, by name; missing ones take their
    defaults). ``fixed``: JobSpec fields set directly (``checkpoint``, ``id``, ...)."""
    given = with_quick(normalize(options))
    values = {name: _typed(name, given.get(name, option.default)) for name, option in all_options().items()}
    if values["refiner"] is not None and values["refiner"] not in all_options()["refiner"].choices:
        raise InvalidInputError(f"unknown refiner {values['refiner']!r}; choose one of "
                                f"{', '.join(all_options()['refiner'].choices)}")
    if values["colors_only"] and values["shapes_only"]:
        raise InvalidInputError("colors_only and shapes_only exclude each other; pick one")
    subset = Subset(points=not values["colors_only"], colors=not values["shapes_only"],
                    stroke_widths=bool(values["shapes_only"]), region_only=bool(values["region_only"]),
                    mask=values["mask"])
    refiner = None
    if values["refiner"]:
        from ..refiners.registry import check_settings

        if values["refit_iterations"] < 1:
            raise InvalidInputError("--refit-iterations must be at least 1")
        from ..refiners.registry import SETTINGS

        settings = check_settings(values["refiner"], {k: values[k] for k in SETTINGS})
        refiner = RefinerSettings(values["refiner"], values["refiner_model"], settings, values["refit_iterations"])
    every = values["checkpoint_every"] if values["checkpoint_every"] is not None else values["save_every"]
    spec = JobSpec(
        input=given.get("input"), prompt=values["prompt"] or "", regions=[_region(r) for r in values["roi"] or []],
        subset=subset, steps=values["iterations"], seed=values["seed"], size=values["max_size"],
        clip=ClipSettings(values["clip_model"], values["clip_weights"], values["patches"], values["precision"]),
        refiner=refiner,
        outputs=Outputs(list(values["output"] or []), bool(values["export_layers"]), values["save_every"]),
        checkpoint=CheckpointPolicy(every_steps=every, every_seconds=values["checkpoint_seconds"]),
        limits=resource_limits().with_values({name: values[option_name(name)] for name in limit_names()}, option_name),
        max_seconds=values["max_seconds"], device=values["device"],
        deterministic=values["deterministic"], backend=values["backend"])
    for key, value in fixed.items():
        setattr(spec, key, value)
    return spec.validate()
