"""--refiner-precision: the dtype and torchao int8 config chosen per device, int8 weights on a tiny
pipeline (memory and image difference against full precision), the fallback without torchao, the CLI."""
from __future__ import annotations

import warnings

import pytest
import torch

pytest.importorskip("diffusers")

from clipvg.errors import InvalidInputError  # noqa: E402
from clipvg.refiners import precision as precision_module  # noqa: E402
from clipvg.refiners.precision import quantize_int8, resolve_precision, weight_bytes  # noqa: E402
from clipvg.refiners.sd_inpaint import SDInpaintRefiner  # noqa: E402
from clipvg.svg import load_svg  # noqa: E402
from test_inpaint_cli import disc_photo, run, shapes_clip_args  # noqa: E402
from tiny_diffusion import build_tiny_sd  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_sd(tmp_path_factory.mktemp("precision") / "inpaint", inpaint=True)


def test_precision_names_map_to_dtypes_and_int8_kernels_per_device(monkeypatch):
    assert resolve_precision(None, CPU).dtype == torch.float32 and resolve_precision("auto", CPU).name == "fp32"
    assert resolve_precision("fp16", CPU).dtype == torch.float16 and resolve_precision("bf16", CPU).dtype == torch.bfloat16
    int8 = resolve_precision("int8", CPU)
    assert (int8.dtype, int8.int8) == (torch.bfloat16, "Int8WeightOnlyConfig")
    cuda = torch.device("cuda")
    assert resolve_precision("auto", cuda).dtype == torch.float16
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))  # H100
    assert (resolve_precision("int8", cuda).int8, resolve_precision("int8", cuda).dtype) == (
        "Int8DynamicActivationInt8WeightConfig", torch.bfloat16)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))  # T4
    assert (resolve_precision("int8", cuda).int8, resolve_precision("int8", cuda).dtype) == (
        "Int8WeightOnlyConfig", torch.float16)
    with pytest.raises(InvalidInputError, match="int4"):
        resolve_precision("int4", CPU)


def test_int8_without_torchao_falls_back_with_a_warning(monkeypatch):
    monkeypatch.setattr(precision_module, "torchao_available", lambda: False)
    layer = torch.nn.Linear(8, 8)
    with pytest.warns(RuntimeWarning, match="torchao"):
        used = quantize_int8([layer], resolve_precision("int8", CPU))
    assert used.int8 is None and used.dtype == torch.bfloat16 and type(layer.weight) is torch.nn.Parameter


def test_int8_weights_are_smaller_than_fp16_and_change_the_image_little(model):
    pytest.importorskip("torchao")
    image = torch.rand(32, 32, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[8:24, 8:24] = True
    half = SDInpaintRefiner(model, "cpu", steps=2, precision="fp16")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no silent fallback
        small = SDInpaintRefiner(model, "cpu", steps=2, precision="int8")
    assert small.pipeline.clipvg_precision.int8 == "Int8WeightOnlyConfig"
    assert small.pipeline.unet.dtype == torch.bfloat16
    linear = sum(m.weight.numel() for m in half.pipeline.unet.modules() if isinstance(m, torch.nn.Linear))
    saved = weight_bytes(half.pipeline.unet) - weight_bytes(small.pipeline.unet)
    assert saved > 0.7 * linear  # 2-byte linear weights became 1-byte ones (plus per-row scales)
    a, b = (r.refine(image, mask, "a red circle", seed=0) for r in (half, small))
    assert torch.equal(a[~mask], b[~mask]) and float((a - b).abs().mean()) < 0.05


def test_refiner_precision_through_the_cli(model, tmp_path, capsys):
    pytest.importorskip("torchao")
    photo = disc_photo(tmp_path / "disc.png", 32)
    code, _, err = run(capsys, "inpaint", photo, "--box", "6,8,16,16", "-o", tmp_path / "p.svg", "--prompt",
                       "a green circle", "--refiner", "sd-inpaint", "--refiner-model", model,
                       "--refiner-precision", "int8", "--refiner-steps", "2", "--refit-iterations", "2",
                       *shapes_clip_args(patches=1, iterations=1))
    assert code == 0, err
    assert load_svg(tmp_path / "p.svg").num_paths > 0
