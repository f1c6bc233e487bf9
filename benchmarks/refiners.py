"""Benchmark the diffusion refiners: seconds and peak memory of one ``refine`` per refiner.

    python benchmarks/refiners.py [--size tiny|sd15] [--device cpu|cuda] [--precision auto|fp32|fp16|bf16]
                                  [--refiners sd-inpaint imagic unitune ...] [--picture 32]

``tiny``: the test suite's tiny components built from configs (tests/clipvg/tiny_diffusion.py), every
refiner. ``sd15``: Stable Diffusion 1.5's layout at full size with random weights (same cost as the
real ones: 860 M-parameter UNet, its VAE, a 12-layer 768-wide text encoder), for sd-inpaint, imagic
and unitune, meant for a GPU. Each refiner runs in its own child process, so the peak memory is its
own: the process's peak resident set (ru_maxrss) on the CPU, ``torch.cuda.max_memory_allocated``
on CUDA. Fine-tuning settings are the refiners' defaults except where ``SETTINGS`` lowers the step
counts (printed with the results). Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from json_result import git_commit  # benchmarks/, before it leaves sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT / "tests" / "clipvg"))  # tiny_diffusion: the suite's builders

TINY = ("sd-inpaint", "controlnet-inpaint", "imagic", "unitune", "layerdiffusion", "layerdiffusion-sd15")
FULL = ("sd-inpaint", "imagic", "unitune")
# sampling steps and (where the method's defaults take minutes per picture even on tiny weights) tuning steps
SETTINGS = {
    "sd-inpaint": dict(steps=20),
    "controlnet-inpaint": dict(steps=20),
    "imagic": dict(steps=20, embed_steps=100, finetune_steps=100),
    "unitune": dict(steps=20),  # the article's 4 updates of 128 copies
    "layerdiffusion": dict(steps=20, augment=False),
    "layerdiffusion-sd15": dict(steps=20, augment=False),  # the transparent mode (attention sharing, one frame)
}


def build_sd15(directory: Path, inpaint: bool) -> Path:
    """Save an SD 1.5-layout pipeline with random weights (the tiny character tokenizer, 77 tokens)."""
    from diffusers import (AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel
    from tiny_diffusion import tiny_tokenizer

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(directory / "_tokenizer_src")
    tokenizer.model_max_length = 77
    unet = UNet2DConditionModel(in_channels=9 if inpaint else 4, cross_attention_dim=768, attention_head_dim=8)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4,
                        sample_size=512)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tokenizer), max_position_embeddings=77,
                                        bos_token_id=len(tokenizer) - 2, eos_token_id=len(tokenizer) - 1,
                                        pad_token_id=len(tokenizer) - 1))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    cls = StableDiffusionInpaintPipeline if inpaint else StableDiffusionPipeline
    cls(vae=vae, unet=unet, text_encoder=text, tokenizer=tokenizer, scheduler=scheduler, safety_checker=None,
        feature_extractor=None, requires_safety_checker=False).save_pretrained(directory)
    return directory


def build_models(name: str, size: str, root: Path) -> dict:
    """The refiner's model arguments (folders saved under ``root``)."""
    from tiny_diffusion import build_tiny_layer_model, build_tiny_sd, build_tiny_sd15_layer_model, build_tiny_sdxl

    inpaint = name == "sd-inpaint"
    if size == "sd15":
        return {"model": build_sd15(root / "sd", inpaint)}
    if name == "layerdiffusion":
        sdxl = build_tiny_sdxl(root / "sdxl")
        return {"model": sdxl, "layer_model": build_tiny_layer_model(root / "layers", sdxl)}
    if name == "layerdiffusion-sd15":
        sd = build_tiny_sd(root / "sd", vae_levels=4)  # the transparent decoder's 64 px granularity
        return {"model": sd, "layer_model": build_tiny_sd15_layer_model(root / "layers", sd)}
    if name == "controlnet-inpaint":
        from diffusers import ControlNetModel, UNet2DConditionModel

        base = build_tiny_sd(root / "sd")
        controlnet = ControlNetModel.from_unet(UNet2DConditionModel.from_pretrained(base, subfolder="unet"),
                                               conditioning_embedding_out_channels=(16, 32))  # the 2x tiny VAE
        controlnet.save_pretrained(root / "cn")
        return {"model": base, "controlnet": root / "cn"}
    return {"model": build_tiny_sd(root / "sd", inpaint=inpaint)}


def run_one(name: str, size: str, device: str, precision: str, picture: int) -> dict:
    """Time one refine of ``name`` (in this process) and read its peak memory."""
    from clipvg.refiners import make_refiner

    with tempfile.TemporaryDirectory() as tmp:
        models = build_models(name, size, Path(tmp))
        model = models.pop("model")
        refiner = make_refiner(name, model, device, precision=precision, **models, **SETTINGS[name])
        image = torch.rand(picture, picture, 3, generator=torch.Generator().manual_seed(0))
        mask = torch.zeros(picture, picture, dtype=torch.bool)
        mask[picture // 4: 3 * picture // 4, picture // 4: 3 * picture // 4] = True
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        out = refiner.refine(image, mask, "a red circle", seed=0)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"seconds": round(seconds, 3), "peak_mib": round(peak / 2**20, 1),
            "peak_kind": "cuda max_memory_allocated" if device == "cuda" else "process peak RSS",
            "finite": bool(torch.isfinite(out).all()), "settings": SETTINGS[name]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("tiny", "sd15"), default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    parser.add_argument("--refiners", nargs="+")
    parser.add_argument("--picture", type=int, default=None, help="picture side in px (default 32 tiny, 512 sd15)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: one refiner, JSON on stdout
    args = parser.parse_args()
    picture = args.picture or (32 if args.size == "tiny" else 512)
    if args.one:
        print(json.dumps(run_one(args.one, args.size, args.device, args.precision, picture)))
        return
    names = args.refiners or (TINY if args.size == "tiny" else FULL)
    results = {}
    for name in names:
        child = subprocess.run([sys.executable, __file__, "--one", name, "--size", args.size, "--device", args.device,
                                "--precision", args.precision, "--picture", str(picture)],
                               capture_output=True, text=True)
        lines = child.stdout.strip().splitlines()
        results[name] = json.loads(lines[-1]) if child.returncode == 0 and lines else {
            "error": (child.stderr.strip().splitlines() or ["no output"])[-1]}
    commit = git_commit()
    device = torch.cuda.get_device_name(0) if args.device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(json.dumps({"benchmark": "refiners", "size": args.size, "device": device, "precision": args.precision,
                      "picture": picture, "torch": torch.__version__, "commit": commit, "results": results},
                     indent=1))


if __name__ == "__main__":
    main()
