"""UniTune (Valevski, Kalman, Molad, Segalis, Matias, Leviathan: "UniTune: Text-Driven Image Editing by
Fine Tuning a Diffusion Model on a Single Image", arXiv 2210.09477) on Stable Diffusion.

Sources, cited by letter in the docstrings below:

* [A] the UniTune article (project seed ``003_f0e97a5d6975dc4f.txt``, as quoted in issue 22): fine-tune
  on repeated copies of the single image/caption pair with the Adafactor optimizer at learning rate
  1e-4, batch 128, 4 iterations, text encoder frozen; the caption is a rare token and editing samples
  "[rare_tokens] edit_prompt"; the super-resolution stage is fine-tuned the same way with the base
  model's noise augmentation; sampling uses classifier-free guidance, optionally "prompt guidance"
  (guidance whose baseline is a different prompt instead of the unconditional one), an SDEdit late
  start, and a naive interpolation between the original and the edited image, suggested as a
  default where the composition is close; edits work with or without a mask.
* [V4] the v4 abstract (arxiv.org/html/2210.09477v4): the sampler is initialised "with a noised
  version of the base image", and "relevant details from the base image" are interpolated "after
  sampling".
* [P] an open Stable Diffusion port of UniTune (facts listed in issue 22): lr 9e-5, only the
  cross-attention layers trained, the last half of the sampling steps run by the original model.
  Preset ``sd-port``.

Super-resolution stage: [A] fine-tunes Imagen's super-resolution model too. Stable Diffusion has no
super-resolution stage (its latents are decoded by the VAE, which UniTune does not tune), so nothing
here corresponds to it; ``HighResRefiner``'s x4 upscaler, when used, is not fine-tuned.

Choices of ours, not from the sources: the rare token ``sks``, guidance 7.5 (SD's usual scale; the
Imagen weight of the v1 notes does not carry over), the SDEdit start 0.8 T, the interpolation weight
0.25 (the article gives no number in the part quoted), micro-batches of 8 (same gradient as batch 128).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..errors import InvalidInputError
from .base import Refiner, check_inputs, paste, removal_prompt, resize
from .diffusion import Components, Predict
from .finetune import TuneSettings, Tuned
from .select import Scorer, best

DEFAULT_MODEL = "CompVis/stable-diffusion-v1-4"

# fine-tuning and late-step settings per preset: [A]'s, and [P]'s changes to them
PRESETS: dict[str, dict[str, Any]] = {
    "article": dict(optimizer="adafactor", lr=1e-4, batch=128, finetune_steps=4, train="all", original_share=0.0),
    "sd-port": dict(optimizer="adafactor", lr=9e-5, batch=128, finetune_steps=4, train="cross-attention",
                    original_share=0.5),
}


class UniTuneRefiner(Refiner):
    """UniTune on a Stable Diffusion model (hub id, local diffusers folder or a loaded pipeline).

    1. Fine-tune a float32 copy of the UNet (``finetune.py``: correct at every precision) on
       ``batch`` noised copies of the picture captioned with the rare token ``token`` alone, for
       ``finetune_steps`` updates of ``optimizer`` at ``lr`` (``preset`` "article": Adafactor, 1e-4,
       batch 128, 4 updates, [A]; ``micro_batch`` copies at a time). The text encoder stays frozen.
    2. Sample "``token`` edit" with ``steps`` DDIM steps from the picture noised to ``strength`` T
       (SDEdit start, [A], [V4]; a sequence of starts samples each and keeps the one ``scorer``
       rates best for the edit), guidance ``guidance`` against the unconditional prediction, or
       against the prompt ``baseline`` (prompt guidance, [A]); the last ``original_share`` of the
       steps run on the original UNet ([P]: 0.5). With a mask, latents outside it follow the
       picture's own noising path, and pixels outside it are returned unchanged.
    3. Blend the sample toward the picture by ``interpolation`` ([A], [V4]; 0 turns it off).
    """

    name = "unitune"

    def __init__(self, model: Any = DEFAULT_MODEL, device: str | None = None, *, preset: str = "article",
                 token: str = "sks", finetune_steps: int | None = None, batch: int | None = None,
                 micro_batch: int = 8, lr: float | None = None, optimizer: str | None = None,
                 train: str | None = None, steps: int = 50, guidance: float = 7.5, baseline: str | None = None,
                 strength: float | Sequence[float] = 0.8, interpolation: float = 0.25,
                 original_share: float | None = None, max_side: int = 512, precision: Any = None,
                 scorer: Scorer | None = None) -> None:
        if preset not in PRESETS:
            raise InvalidInputError(f"unknown unitune preset {preset!r}; choose one of {', '.join(PRESETS)}")
        chosen = {**PRESETS[preset], **{k: v for k, v in dict(
            optimizer=optimizer, lr=lr, batch=batch, finetune_steps=finetune_steps, train=train,
            original_share=original_share).items() if v is not None}}
        self.strengths = (float(strength),) if isinstance(strength, (int, float)) else tuple(map(float, strength))
        if not self.strengths or not all(0.0 < s <= 1.0 for s in self.strengths):
            raise InvalidInputError(f"unitune: strength (SDEdit start) must be in (0, 1], got {strength}")
        if len(self.strengths) > 1 and scorer is None:
            raise InvalidInputError("unitune: several SDEdit starts need scorer= to pick one (e.g. "
                                    "clipvg.refiners.select.ClipScorer(losses.load_clip(...)))")
        if not 0.0 <= interpolation <= 1.0 or not 0.0 <= chosen["original_share"] <= 1.0:
            raise InvalidInputError(f"unitune: interpolation and original_share must be in [0, 1], got "
                                    f"{interpolation} and {chosen['original_share']}")
        self.tuning = TuneSettings(chosen["finetune_steps"], chosen["lr"], chosen["optimizer"], chosen["batch"],
                                   min(micro_batch, chosen["batch"]), chosen["train"])
        self.model = Components.load(model, device, precision)
        self.token, self.steps, self.guidance, self.baseline = token, steps, guidance, baseline
        self.interpolation, self.original_share = interpolation, chosen["original_share"]
        self.max_side, self.scorer = max_side, scorer

    def finetune(self, image: torch.Tensor, seed: int = 0) -> tuple[Tuned, torch.Tensor]:
        """Step 1: (fine-tuned UNet copy, the picture's latents (1, 4, h, w)). The loss is the model's
        training loss over ``batch`` copies, each at its own timestep and noise: E_{t, eps} ||
        eps_theta(sqrt(a_t) x0 + sqrt(1 - a_t) eps, t, c_token) - eps ||^2 (the velocity target for
        v-prediction models)."""
        model = self.model
        latents = model.encode_image(image, model.size_for(image, self.max_side))
        unet = model.finetune(latents, model.encode_prompt(self.token), self.tuning,
                              torch.Generator().manual_seed(seed))
        return unet, latents

    def edit_prompt(self, prompt: str, remove: bool = False) -> str:
        """The sampling prompt "[rare_tokens] edit_prompt" ([A])."""
        return f"{self.token} {removal_prompt(prompt) if remove else prompt}"

    def guide(self, unet: Any, text: str) -> Predict:
        """Step 2's noise prediction: eps_b + w (eps_theta(x_t, "[token] edit") - eps_b), w =
        ``guidance``, where the baseline eps_b is the unconditional prediction (classifier-free
        guidance) or, with ``baseline``, the prediction for that prompt (prompt guidance, [A]).
        w = 1: the conditional prediction alone. One batched UNet call a step."""
        model, w = self.model, self.guidance
        embeddings = torch.cat([model.encode_prompt(self.baseline or ""), model.encode_prompt(text)])

        def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            if w == 1.0:
                return unet(x, t, encoder_hidden_states=embeddings[1:]).sample
            eps_b, eps_c = unet(x.expand(2, -1, -1, -1), t, encoder_hidden_states=embeddings).sample.chunk(2)
            return eps_b + w * (eps_c - eps_b)

        return predict

    def predictor(self, unet: Any, text: str, strength: float) -> Predict:
        """``guide`` on the tuned ``unet``, handing the last ``original_share`` of the sampled steps
        (by count, rounded) to the original UNet ([P])."""
        tuned = self.guide(unet, text)
        timesteps = self.model.timesteps(self.steps, strength)
        late = int(round(len(timesteps) * self.original_share))
        if late == 0:
            return tuned
        original, switch = self.guide(self.model.unet, text), int(timesteps[len(timesteps) - late])

        def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return original(x, t) if int(t) <= switch else tuned(x, t)

        return predict

    def sample(self, unet: Any, latents: torch.Tensor, text: str, seed: int = 0, strength: float | None = None,
               keep: torch.Tensor | None = None) -> torch.Tensor:
        """Step 2: DDIM from x_t0 = sqrt(a_t0) x_base + sqrt(1 - a_t0) eps, the picture's latents noised
        to t0 = ``strength`` T (default the first of ``strengths``), down to x_0; ``keep`` (1, 1, h, w)
        (``Components.latent_keep``) holds the latents outside a mask to the picture's. Returns the
        decoded (h, w, 3) image."""
        strength = self.strengths[0] if strength is None else strength
        model = self.model
        out = model.sample(self.predictor(unet, text, strength), tuple(latents.shape), self.steps,
                           torch.Generator().manual_seed(seed), init=latents, strength=strength, keep=keep)
        return model.decode(out)

    def interpolate(self, sample: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """Step 3, the naive interpolation (1 - lambda) sample + lambda base in pixel space, lambda =
        ``interpolation`` ([A]; 0 returns ``sample`` itself); ``base`` (H, W, 3) is resized to
        ``sample`` (h, w, 3)."""
        if self.interpolation == 0.0:
            return sample
        base = resize(base.float().cpu(), tuple(sample.shape[:2]))
        return torch.lerp(sample, base, self.interpolation)

    def refine(self, image: torch.Tensor, mask: torch.Tensor, prompt: str, *, seed: int = 0, remove: bool = False,
               prior: bool = False) -> torch.Tensor:
        check_inputs(image, mask, prompt)
        unet, latents = self.finetune(image, seed)
        text = self.edit_prompt(prompt, remove)
        keep = self.model.latent_keep(mask, tuple(latents.shape))
        samples = [self.sample(unet, latents, text, seed, strength, keep) for strength in self.strengths]
        return paste(image, self.interpolate(best(samples, prompt, self.scorer), image), mask)
