"""Loading a frozen open_clip model and encoding images / prompts with it.

Loaded models are kept in a cache bounded by bytes (least recently used first out; see
``set_cache_limit``, ``clear_cache``, ``cache_bytes``); logging goes through this package's own
loggers, never the root logger.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F

from losses import vision_tower
from losses.errors import LossInputError, WeightsUnavailableError
from losses.hub import cache_only, hub_offline, hub_reachable, weights_cached
from losses.precision import autocast, resolve_precision
from losses.preprocess import clip_preprocess
from losses.templates import expand_prompt

_CACHE: OrderedDict[tuple[str, str | None, str, str], ClipModel] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_cache_limit = 2 * 1024 ** 3  # bytes of model weights kept loaded (two ViT-B/32 in fp32 fit)
log = logging.getLogger(__name__)


class ClipModel:
    """A frozen open_clip model with differentiable image encoding and cached text encoding.

    Embeddings are float32 and L2-normalised; `precision` "fp16"/"bf16" runs the towers under autocast
    on CUDA, "bf16" also on the CPU (where it pays on cores with AVX-512 bf16 / AMX), except inside
    `losses.precision.full_precision`. Build it with `load_clip`.
    Images go through `losses.vision_tower`'s leaner forward of plain ViT towers while `lean` is True (the
    default; False runs open_clip's own forward, the reference the tests and `benchmarks/edit.py` compare with).
    """

    def __init__(self, model: torch.nn.Module, tokenizer, device: torch.device, precision: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.precision = precision
        cfg = open_clip.get_model_preprocess_cfg(model)
        size = cfg["size"]
        self.image_size: int = int(size if isinstance(size, int) else size[0])
        self.mean: tuple[float, ...] = tuple(cfg["mean"])
        self.std: tuple[float, ...] = tuple(cfg["std"])
        self._text_cache: dict[str, torch.Tensor] = {}
        self._template_cache: dict[str, torch.Tensor] = {}
        self.lean = True

    def _autocast(self) -> contextlib.AbstractContextManager:
        return autocast(self.device, self.precision)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """Embed `(B, 3, H, W)` images in [0, 1] (any H, W) -> `(B, D)` unit vectors, differentiable."""
        pixels = clip_preprocess(images.to(self.device), self.image_size, self.mean, self.std)
        with self._autocast():
            if self.lean and vision_tower.supports(self.model.visual):
                features = vision_tower.encode_image(self.model.visual, pixels)
            else:
                features = self.model.encode_image(pixels)
        return F.normalize(features.float(), dim=-1)

    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """Embed prompts -> `(B, D)` unit vectors (no gradient); each prompt is encoded once and cached."""
        for prompt in prompts:
            check_prompt(prompt)
        missing = [p for p in dict.fromkeys(prompts) if p not in self._text_cache]
        if missing:
            tokens = self.tokenizer(missing).to(self.device)
            with torch.no_grad(), self._autocast():
                features = F.normalize(self.model.encode_text(tokens).float(), dim=-1)
            self._text_cache.update(zip(missing, features))
        return torch.stack([self._text_cache[p] for p in prompts])

    def encode_text_templates(self, prompt: str) -> torch.Tensor:
        """Embed `prompt` averaged over the 79 ImageNet templates -> `(D,)` unit vector, cached."""
        check_prompt(prompt)
        if prompt not in self._template_cache:
            mean = self.encode_text(expand_prompt(prompt)).mean(dim=0)
            self._template_cache[prompt] = F.normalize(mean, dim=-1)
        return self._template_cache[prompt]


def check_prompt(prompt: str) -> None:
    """Raise `LossInputError` unless `prompt` is a non-blank string."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise LossInputError(f"prompt must be a non-empty string, got {prompt!r}; describe the edit in words")


def default_device() -> torch.device:
    """`cuda` when available, else `cpu`."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_clip(
    model: str | Path = "ViT-B-32",
    pretrained: str | Path | None = "openai",
    device: str | torch.device | None = None,
    precision: str | None = None,
) -> ClipModel:
    """Load a frozen CLIP through open_clip's factory, cached per (model, weights, device, precision)
    in an LRU cache bounded by bytes (``set_cache_limit``; a model larger than the limit is returned
    but not kept).

    model: an open_clip architecture name ("ViT-B-32") or the path of an open_clip model-config JSON.
    pretrained: an open_clip tag ("openai"; downloaded once by open_clip), a local checkpoint path
        (open_clip state dict or OpenAI TorchScript .pt), or None for random weights (seeded, for tests).
    device: defaults to `cuda` when available, else `cpu`.
    precision: None/"fp32", "fp16" (autocast on CUDA; float32 on the CPU), "bf16" (autocast on CUDA
        and the CPU) or "auto" (bf16 on a CPU with native bf16, else fp32: ``losses.precision``).
    """
    device = torch.device(device) if device is not None else default_device()
    precision = resolve_precision(precision, device)
    arch = register_architecture(model)
    weights = _resolve_weights(arch, pretrained)
    key = (arch, weights, str(device), precision)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    net = _create_model(arch, weights, device)
    net.eval().requires_grad_(False)
    clip = ClipModel(net, open_clip.get_tokenizer(arch), device, precision)
    with _CACHE_LOCK:
        clip = _CACHE.setdefault(key, clip)  # another thread may have loaded it meanwhile
        _CACHE.move_to_end(key)
        _evict(_cache_limit)
    log.debug("loaded CLIP %s (%s) on %s: %.0f MB", arch, weights or "random weights", device, model_bytes(clip) / 1e6)
    return clip


def model_bytes(clip: ClipModel) -> int:
    """Bytes of ``clip``'s parameters and buffers."""
    tensors = list(clip.model.parameters()) + list(clip.model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def cache_bytes() -> int:
    """Bytes of the CLIP models the cache holds."""
    with _CACHE_LOCK:
        return sum(model_bytes(clip) for clip in _CACHE.values())


def _evict(limit: int) -> None:
    """Drop least recently used models until the cache holds at most ``limit`` bytes (lock held)."""
    total = sum(model_bytes(clip) for clip in _CACHE.values())
    while _CACHE and total > limit:
        key, clip = _CACHE.popitem(last=False)
        total -= model_bytes(clip)
        log.debug("evicted CLIP %s from the cache", key[0])
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def set_cache_limit(max_bytes: int) -> None:
    """Keep at most ``max_bytes`` of CLIP weights loaded (default 2 GiB), evicting the least recently
    used models now if needed; 0 keeps none (every ``load_clip`` loads afresh)."""
    global _cache_limit
    if max_bytes < 0:
        raise LossInputError(f"the CLIP cache limit must be >= 0 bytes, got {max_bytes}")
    with _CACHE_LOCK:
        _cache_limit = int(max_bytes)
        _evict(_cache_limit)


def clear_cache() -> None:
    """Free every cached CLIP model (models still referenced elsewhere live on there)."""
    with _CACHE_LOCK:
        _evict(0)


def register_architecture(model: str | Path) -> str:
    """Return the open_clip architecture name for `model` (a name or a model-config JSON path, which is
    registered with open_clip under a content-derived name)."""
    path = Path(model)
    if path.suffix == ".json" or path.is_file():
        if not path.is_file():
            raise LossInputError(f"model config file {str(path)!r} does not exist; pass an open_clip "
                                 "architecture name such as 'ViT-B-32' or the path of a model-config JSON")
        try:
            cfg = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LossInputError(f"cannot read model config {str(path)!r}: {exc}") from exc
        if not isinstance(cfg, dict) or not all(k in cfg for k in ("embed_dim", "vision_cfg", "text_cfg")):
            raise LossInputError(f"{str(path)!r} is not an open_clip model config: it needs the keys "
                                 "'embed_dim', 'vision_cfg' and 'text_cfg'")
        # open_clip names a config by its file stem; a content-derived name cannot clash with a
        # built-in architecture or with another file of the same stem
        name = f"{path.stem}-{hashlib.sha1(path.read_bytes()).hexdigest()[:12]}"
        if open_clip.get_model_config(name) is None:
            registry = Path(tempfile.gettempdir()) / "clipvg-open-clip-configs"
            registry.mkdir(exist_ok=True)
            copy = registry / f"{name}.json"
            partial = copy.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(cfg))
            os.replace(partial, copy)
            open_clip.add_model_config(copy)
        return name
    if open_clip.get_model_config(str(model)) is None:
        raise LossInputError(f"unknown CLIP architecture {str(model)!r}; use one of open_clip.list_models() "
                             "(e.g. 'ViT-B-32') or the path of an open_clip model-config JSON")
    return str(model)


def _resolve_weights(arch: str, pretrained: str | Path | None) -> str | None:
    """Return an absolute checkpoint path, a known open_clip tag, or None (random weights)."""
    if pretrained is None:
        return None
    path = Path(pretrained).expanduser()
    if path.is_file():
        return str(path.resolve())
    if open_clip.get_pretrained_cfg(arch, str(pretrained)):
        return str(pretrained)
    raise WeightsUnavailableError(
        f"CLIP weights {str(pretrained)!r} for {arch!r} are neither a local file nor a known open_clip tag "
        f"(known tags: {open_clip.list_pretrained_tags_by_model(arch) or 'none'}); pass the path of a "
        "downloaded checkpoint, or a tag such as 'openai' on a machine with network access"
    )


def _create_model(arch: str, weights: str | None, device: torch.device) -> torch.nn.Module:
    if weights is None:  # open_clip's "initialized randomly" warning goes to this module's debug log
        with torch.random.fork_rng(devices=[]), _quiet_downloads():
            torch.manual_seed(0)
            return open_clip.create_model(arch, pretrained=None, device=device)
    is_file = Path(weights).is_file()
    cached = is_file or weights_cached(arch, weights)
    if not cached and (hub_offline() or not hub_reachable()):
        raise WeightsUnavailableError(offline_message(arch, weights))
    try:
        with _quiet_downloads(), cache_only() if cached and not is_file else contextlib.nullcontext():
            return open_clip.create_model(arch, pretrained=weights, device=device,
                                          weights_only=not (is_file and _is_torchscript(Path(weights))))
    except Exception as exc:  # open_clip raises bare RuntimeError/OSError for download and load failures
        if is_file:
            raise WeightsUnavailableError(
                f"cannot load checkpoint {weights!r} into CLIP architecture {arch!r} ({exc}); check that "
                "the checkpoint was saved from the same architecture"
            ) from exc
        raise WeightsUnavailableError(
            f"cannot download CLIP weights {weights!r} for {arch!r} ({exc}); run once with network access "
            "so open_clip caches them, or download the checkpoint yourself and pass its local path "
            "(`pretrained=` in Python, `--clip-weights PATH` on the command line)"
        ) from exc


def offline_message(arch: str, tag: str) -> str:
    """The one-line error for weights that are neither cached nor downloadable, naming the ways forward."""
    why = "HF_HUB_OFFLINE is set" if hub_offline() else "the model hub cannot be reached"
    from losses.shapes import CHECKPOINT_PATH, CONFIG_PATH

    shapes = (CONFIG_PATH, CHECKPOINT_PATH)
    return (f"CLIP weights {tag!r} for {arch} are not cached and {why}. Either download them once elsewhere and "
            "pass --clip-weights FILE (pretrained= in Python), run with --quick, or use the offline shapes CLIP: "
            f"--clip-model {shapes[0]} --clip-weights {shapes[1]} (losses.shapes_clip_paths())")


class _quiet_downloads(logging.Filter):
    """While weights load, hold back huggingface_hub's per-retry warnings (its own logger's level,
    restored after) and open_clip's error log (open_clip logs through the root logger: only records
    from open_clip's files are dropped there, by a filter removed after; the root logger's level and
    handlers never change). A failure becomes one WeightsUnavailableError that says what to do; the
    held-back messages go to this module's logger at debug level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "open_clip" in record.pathname.replace(os.sep, "/").split("/"):
            log.debug("while loading CLIP weights: %s", record.getMessage())
            return False
        return True

    def __enter__(self) -> "_quiet_downloads":
        self._hub = logging.getLogger("huggingface_hub")
        self._level = self._hub.level
        self._hub.setLevel(logging.CRITICAL)
        logging.getLogger().addFilter(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger().removeFilter(self)
        self._hub.setLevel(self._level)


def _is_torchscript(path: Path) -> bool:
    """True for TorchScript archives such as OpenAI's original CLIP .pt files."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("constants.pkl") for name in archive.namelist())
