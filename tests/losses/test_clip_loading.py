"""load_clip: config-JSON architectures, local checkpoints, caching, errors; ClipModel encoders."""

import json
from pathlib import Path

import open_clip
import pytest
import torch
import torch.nn.functional as F

import losses
from clipvg.errors import InvalidInputError
from losses.clip_model import load_clip
from losses.preprocess import clip_preprocess
from losses.clip_model import register_architecture
from losses.templates import IMAGENET_TEMPLATES, expand_prompt

TINY_CONFIG = Path(__file__).with_name("tiny_clip.json")


def test_config_json_builds_the_described_architecture(tiny_clip):
    cfg = json.loads(TINY_CONFIG.read_text())
    assert tiny_clip.image_size == cfg["vision_cfg"]["image_size"]
    assert tiny_clip.model.visual.transformer.width == cfg["vision_cfg"]["width"]
    assert tiny_clip.device == torch.device("cpu") and tiny_clip.precision == "fp32"
    assert not any(p.requires_grad for p in tiny_clip.model.parameters())
    assert not tiny_clip.model.training


def test_models_are_cached_per_weights_and_device(tiny_clip):
    assert load_clip(TINY_CONFIG, None, device="cpu") is tiny_clip
    assert load_clip(str(TINY_CONFIG), None, device="cpu", precision="fp16") is tiny_clip  # CPU runs fp32


def test_encode_image_is_normalised_and_differentiable(tiny_clip):
    images = torch.rand(3, 3, 45, 70, requires_grad=True)
    embeddings = tiny_clip.encode_image(images)
    assert embeddings.shape == (3, 16) and embeddings.dtype == torch.float32
    torch.testing.assert_close(embeddings.norm(dim=-1), torch.ones(3))
    embeddings[:, 0].sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_encode_image_resizes_bicubic_and_normalises_like_clip(tiny_clip):
    images = torch.rand(2, 3, 50, 40)
    expected = F.interpolate(images, size=(32, 32), mode="bicubic", align_corners=False)
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(clip_preprocess(images, 32, tiny_clip.mean, tiny_clip.std), (expected - mean) / std)
    with torch.no_grad():
        direct = F.normalize(tiny_clip.model.encode_image((expected - mean) / std), dim=-1)
    torch.testing.assert_close(tiny_clip.encode_image(images), direct)


def test_text_embeddings_are_cached_per_prompt(tiny_clip, monkeypatch):
    calls = []
    tokenizer = tiny_clip.tokenizer
    monkeypatch.setattr(tiny_clip, "tokenizer", lambda texts: calls.append(list(texts)) or tokenizer(texts))
    first = tiny_clip.encode_text(["a cached prompt", "another cached prompt"])
    again = tiny_clip.encode_text(["another cached prompt", "a cached prompt", "a third one"])
    assert calls == [["a cached prompt", "another cached prompt"], ["a third one"]]
    torch.testing.assert_close(again[:2], first.flip(0))
    torch.testing.assert_close(first.norm(dim=-1), torch.ones(2))


def test_template_embedding_is_the_normalised_mean_over_79_templates(tiny_clip):
    assert len(IMAGENET_TEMPLATES) == 79 and len(set(IMAGENET_TEMPLATES)) == 79
    assert all(t.count("{}") == 1 for t in IMAGENET_TEMPLATES)
    assert "a bad photo of a {}." in IMAGENET_TEMPLATES and "a photo of many {}." not in IMAGENET_TEMPLATES
    embedding = tiny_clip.encode_text_templates("a red car")
    mean = tiny_clip.encode_text(expand_prompt("a red car")).mean(dim=0)
    torch.testing.assert_close(embedding, mean / mean.norm())
    assert tiny_clip.encode_text_templates("a red car") is embedding


@pytest.mark.parametrize("prompt", ["", "   "])
def test_empty_prompts_are_rejected(tiny_clip, prompt):
    with pytest.raises(losses.LossInputError, match="prompt"):
        tiny_clip.encode_text([prompt])


def test_local_state_dict_checkpoint_round_trips(tiny_clip, tmp_path):
    trained = open_clip.create_model(register_architecture(TINY_CONFIG), pretrained=None)
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    path = tmp_path / "tiny.pt"
    torch.save(trained.state_dict(), path)
    loaded = load_clip(TINY_CONFIG, path, device="cpu")
    assert loaded is not tiny_clip
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = F.normalize(trained.eval().encode_image(clip_preprocess(images, 32, loaded.mean, loaded.std)), dim=-1)
    torch.testing.assert_close(loaded.encode_image(images), expected)
    assert not torch.allclose(tiny_clip.encode_image(images), expected)
    assert load_clip(TINY_CONFIG, str(path), device="cpu") is loaded


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore:.*TorchScript archive:UserWarning")
def test_local_torchscript_checkpoint_loads(tiny_clip, tmp_path):
    """OpenAI's original .pt files are TorchScript archives; their state dict is used."""
    scripted = torch.jit.script(_StateHolder(tiny_clip.model.state_dict()))
    path = tmp_path / "openai_style.pt"
    scripted.save(str(path))
    loaded = load_clip(TINY_CONFIG, path, device="cpu")
    images = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(loaded.encode_image(images), tiny_clip.encode_image(images))


class _StateHolder(torch.nn.Module):
    """A scriptable module whose state dict equals the given one (nested names kept)."""

    def __init__(self, state_dict):
        super().__init__()
        for name, value in state_dict.items():
            *parents, leaf = name.split(".")
            module = self
            for part in parents:
                if not hasattr(module, part):
                    module.add_module(part, torch.nn.Module())
                module = getattr(module, part)
            module.register_buffer(leaf, value.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_missing_checkpoint_file_says_how_to_get_weights(tmp_path):
    with pytest.raises(losses.WeightsUnavailableError, match="local file nor a known open_clip tag") as info:
        load_clip(TINY_CONFIG, tmp_path / "nope.pt", device="cpu")
    assert isinstance(info.value, InvalidInputError)
    assert "path of a downloaded checkpoint" in str(info.value)


def test_failed_download_says_how_to_get_weights(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(open_clip.factory, "download_pretrained", offline)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("losses.clip_model.hub_reachable", lambda: True)  # the hub answers, the download fails
    with pytest.raises(losses.WeightsUnavailableError, match="network access") as info:
        load_clip("RN50", "openai", device="cpu")
    assert "pass its local path" in str(info.value)


def test_checkpoint_of_another_architecture_is_rejected(tmp_path):
    path = tmp_path / "tiny.pt"
    torch.save({"visual.proj": torch.zeros(3, 3)}, path)
    with pytest.raises(losses.WeightsUnavailableError, match="same architecture"):
        load_clip(TINY_CONFIG, path, device="cpu")


@pytest.mark.parametrize("model, match", [
    ("NoSuchArch-1", "unknown CLIP architecture"),
    ("/nonexistent/model.json", "does not exist"),
])
def test_bad_architectures_are_rejected(model, match):
    with pytest.raises(losses.LossInputError, match=match):
        load_clip(model, None, device="cpu")


def test_json_without_clip_keys_is_rejected(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"vision_cfg": {}}))
    with pytest.raises(losses.LossInputError, match="not an open_clip model config"):
        load_clip(path, None, device="cpu")


def test_unknown_precision_is_rejected():
    with pytest.raises(losses.LossInputError, match="precision"):
        load_clip(TINY_CONFIG, None, device="cpu", precision="int8")
