"""Where open_clip's pretrained weights come from: the local cache, or the hub when it can be reached.

Answers in seconds, so that a machine without network fails fast instead of retrying downloads.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import open_clip
from open_clip.constants import HF_WEIGHTS_NAME

CONNECT_SECONDS = 3.0
_TRUE = {"1", "on", "yes", "true"}


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set now."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().lower() in _TRUE


def weights_cached(arch: str, tag: str) -> bool:
    """True when open_clip's weights ``tag`` for ``arch`` are already on disk (Hugging Face cache or
    open_clip's URL cache), so loading them needs no network."""
    from huggingface_hub import constants, try_to_load_from_cache

    cfg = open_clip.get_pretrained_cfg(arch, tag) or {}
    if cfg.get("hf_hub"):
        repo, filename = os.path.split(cfg["hf_hub"])
        names = [filename or HF_WEIGHTS_NAME, "open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        if any(isinstance(try_to_load_from_cache(repo, name, cache_dir=constants.HF_HUB_CACHE), str)
               for name in names):
            return True
    if cfg.get("url"):
        return (Path("~/.cache/clip").expanduser() / os.path.basename(urlparse(cfg["url"]).path)).is_file()
    return False


def hub_reachable(timeout: float = CONNECT_SECONDS) -> bool:
    """True when a TCP connection to the Hugging Face endpoint (``HF_ENDPOINT``) opens within
    ``timeout`` seconds, name lookup included."""
    host = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"
    reached = threading.Event()

    def probe() -> None:
        with contextlib.suppress(OSError), socket.create_connection((host, 443), timeout=timeout):
            reached.set()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return reached.is_set()


@contextlib.contextmanager
def cache_only() -> Iterator[None]:
    """While open, huggingface_hub serves cached files without asking the hub (its offline mode)."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = saved
