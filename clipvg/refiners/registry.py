"""Refiners by name, in one table that the CLI, batch jobs, the job spec and the web editor read.

``REFINERS`` names each refiner's class and which job settings become which constructor keywords;
``SETTINGS`` declares those settings (type, default, help) once. ``build_refiner`` makes a refiner
from a name and a settings dict (the job spec's ``RefinerSettings.settings``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import InvalidInputError

if TYPE_CHECKING:
    from .base import Refiner

# torch-free on purpose (the CLI builds its refiner options from it before checking arguments):
# refiner modules load in make_refiner
DEFAULT_UPSCALER = "stabilityai/stable-diffusion-x4-upscaler"
PRECISION_CHOICES = ("auto", "fp32", "fp16", "bf16", "int8")


@dataclass(frozen=True)
class Setting:
    """A refiner setting: its job/CLI ``name`` (``--refiner-steps``), ``type``, ``default``, ``help``,
    ``choices`` and the ``metavar`` the command line shows."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    metavar: str | None = None


SETTINGS = {s.name: s for s in (
    Setting("refiner_steps", int, 30, "diffusion sampling steps (default 30)"),
    Setting("tune_steps", int, None, "imagic/unitune: embedding-optimisation and fine-tuning steps (default: the "
            "method's own: imagic 1000 + 1500, unitune 4 updates of 128 copies)"),
    Setting("eta", float, 0.7, "imagic: interpolation toward the prompt (default 0.7)"),
    Setting("controlnet_model", str, None, "controlnet-inpaint: the mask ControlNet (default "
            "lllyasviel/control_v11p_sd15_inpaint, or a folder from python -m clipvg.refiners.train_mask_controlnet)",
            metavar="ID|DIR"),
    Setting("layer_model", str, None, "layerdiffusion: the LayerDiffusion weights (default "
            "lllyasviel/LayerDiffuse_Diffusers; layerdiffusion-sd15: LayerDiffusion/layerdiffusion-v1)", metavar="ID|DIR"),
    Setting("layer_mode", str, "transparent", "layerdiffusion, layerdiffusion-sd15: transparent (a foreground layer), "
            "bg2fg (a foreground given the picture as background), fg2bg (the background behind the mask's content), "
            "joint (both; SD 1.5 only); default transparent", ("transparent", "bg2fg", "fg2bg", "joint")),
    Setting("refiner_precision", str, "auto", "weights as fp32, fp16, bf16 or int8 (torchao; pip install "
            "'clipvg[int8]'); auto: fp16 on CUDA, fp32 on the CPU", PRECISION_CHOICES),
    Setting("refiner_native_size", int, 0, "above this long side, repaint a crop shrunk to it, super-resolve the new "
            "region and blend it in (pixels outside the region stay identical); default 0: off", metavar="PX"),
    Setting("upscaler_model", str, DEFAULT_UPSCALER, "with --refiner-native-size: the x4 super-resolution model, "
            "or bicubic", metavar="ID|DIR|bicubic"),
)}


@dataclass(frozen=True)
class RefinerEntry:
    """A refiner: ``module`` and ``cls`` (with a ``DEFAULT_MODEL`` beside it) and ``keywords``,
    constructor keyword -> the setting that fills it; ``layered`` refiners paint two layers."""

    module: str
    cls: str
    keywords: Mapping[str, str]
    layered: bool = False


REFINERS: dict[str, RefinerEntry] = {
    "sd-inpaint": RefinerEntry("sd_inpaint", "SDInpaintRefiner", {"steps": "refiner_steps"}),
    "controlnet-inpaint": RefinerEntry("controlnet_inpaint", "ControlNetInpaintRefiner",
                                       {"steps": "refiner_steps", "controlnet": "controlnet_model"}),
    "imagic": RefinerEntry("imagic", "ImagicRefiner", {"steps": "refiner_steps", "embed_steps": "tune_steps",
                                                       "finetune_steps": "tune_steps", "eta": "eta"}),
    "unitune": RefinerEntry("unitune", "UniTuneRefiner", {"steps": "refiner_steps", "finetune_steps": "tune_steps"}),
    "layerdiffusion": RefinerEntry("layerdiffusion", "LayerDiffusionRefiner", {"steps": "refiner_steps", "layer_model":
                                                                               "layer_model", "mode": "layer_mode"},
                                   layered=True),
    "layerdiffusion-sd15": RefinerEntry("layerdiffusion_sd15", "LayerDiffusionSD15Refiner",
                                        {"steps": "refiner_steps", "layer_model": "layer_model", "mode": "layer_mode"},
                                        layered=True),
}
NAMES = tuple(REFINERS)


def check_settings(name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` completed with the defaults and checked; InvalidInputError on unknown names,
    wrong types or out-of-range values."""
    if name not in REFINERS:
        raise InvalidInputError(f"unknown refiner {name!r}; choose one of {', '.join(NAMES)}")
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise InvalidInputError(f"unknown refiner setting {unknown[0]!r}; known: {', '.join(SETTINGS)}")
    values = {key: settings.get(key, setting.default) for key, setting in SETTINGS.items()}
    for key, value in values.items():
        setting = SETTINGS[key]
        numeric = setting.type in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool)
        if value is not None and not (numeric if setting.type in (int, float) else isinstance(value, setting.type)):
            raise InvalidInputError(f"refiner setting {key} must be a {setting.type.__name__}, got {value!r}")
        if setting.choices and value not in setting.choices:
            raise InvalidInputError(f"refiner setting {key} must be one of {', '.join(setting.choices)}, got {value!r}")
    if values["refiner_steps"] < 1:
        raise InvalidInputError("--refiner-steps must be at least 1")
    if values["tune_steps"] is not None and values["tune_steps"] < 0:
        raise InvalidInputError("--tune-steps must be >= 0")
    native = values["refiner_native_size"]
    if native < 0 or 0 < native < 64:
        raise InvalidInputError("--refiner-native-size must be 0 (off) or at least 64")
    return values


def make_refiner(name: str, model: Any = None, device: str | None = None, **settings: Any) -> Refiner:
    """The refiner ``name`` on ``model`` (hub id / local folder / pipeline; None: its default model);
    ``settings`` go to its constructor (steps, guidance, precision, ...)."""
    if name not in REFINERS:
        raise InvalidInputError(f"unknown refiner {name!r}; choose one of {', '.join(NAMES)}")
    from .loading import require_diffusers

    require_diffusers()
    entry = REFINERS[name]
    module = importlib.import_module(f"{__package__}.{entry.module}")
    return getattr(module, entry.cls)(module.DEFAULT_MODEL if model is None else model, device, **settings)


def build_refiner(name: str, model: Any, device: str | None, settings: Mapping[str, Any],
                  layered: bool = False) -> Refiner:
    """The refiner a job asks for: ``name`` on ``model`` with the job's ``settings`` (``SETTINGS``
    names) mapped to constructor keywords by ``REFINERS``, wrapped in a HighResRefiner when
    ``refiner_native_size`` is set (not for layered refiners or ``layered`` edits)."""
    values = check_settings(name, settings)
    entry = REFINERS[name]
    keywords = {keyword: values[key] for keyword, key in entry.keywords.items() if values[key] is not None}
    precision = values["refiner_precision"]
    refiner = make_refiner(name, model, device, precision=precision, **keywords)
    native = values["refiner_native_size"]
    if native and not entry.layered and not layered:
        from .highres import HighResRefiner

        upscaler = None if values["upscaler_model"] in (None, "", "bicubic") else values["upscaler_model"]
        refiner = HighResRefiner(refiner, native=native, upscaler=upscaler, device=device, precision=precision)
    return refiner
