"""The CLIP model cache is bounded by bytes (least recently used out, freed on demand) and loading
leaves the root logger as it was."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

import losses
from losses.clip_model import model_bytes

TINY_CONFIG = Path(__file__).with_name("tiny_clip.json")


@pytest.fixture
def bounded_cache():
    """An empty cache for the test; the limit and the models cached before are restored after (the
    session's fixtures hold them)."""
    from losses import clip_model

    limit, kept = clip_model._cache_limit, dict(clip_model._CACHE)
    losses.clear_cache()
    yield
    losses.clear_cache()
    losses.set_cache_limit(limit)
    clip_model._CACHE.update(kept)


def test_least_recently_used_models_go_first_when_over_the_byte_limit(bounded_cache):
    first = losses.load_clip(TINY_CONFIG, None, device="cpu")
    size = model_bytes(first)
    assert size > 0 and losses.cache_bytes() == size
    assert losses.load_clip(TINY_CONFIG, None, device="cpu", precision="fp16") is first  # fp32 on the CPU: same key
    other = losses.load_clip(*losses.shapes_clip_paths(), device="cpu")
    assert losses.cache_bytes() == size + model_bytes(other)
    assert losses.load_clip(TINY_CONFIG, None, device="cpu") is first  # now the most recently used
    losses.set_cache_limit(max(size, model_bytes(other)))  # room for one: the least recently used goes
    assert losses.cache_bytes() == size
    assert losses.load_clip(TINY_CONFIG, None, device="cpu") is first
    losses.clear_cache()
    assert losses.cache_bytes() == 0 and losses.load_clip(TINY_CONFIG, None, device="cpu") is not first


def test_a_failed_load_leaves_the_root_logger_alone(tmp_path):
    root = logging.getLogger()
    before = (root.level, list(root.handlers), list(root.filters))
    broken = tmp_path / "weights.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(losses.WeightsUnavailableError, match="cannot load checkpoint"):
        losses.load_clip(TINY_CONFIG, broken, device="cpu")
    assert (root.level, list(root.handlers), list(root.filters)) == before
