"""The 79 ImageNet prompt templates CLIPVG averages text embeddings over."""

from open_clip import OPENAI_IMAGENET_TEMPLATES

# OpenAI's 80 ImageNet templates without the plural "a photo of many {}.", as in CLIPVG's code.
IMAGENET_TEMPLATES: tuple[str, ...] = tuple(
    template("{}") for template in OPENAI_IMAGENET_TEMPLATES if template("{}") != "a photo of many {}."
)


def expand_prompt(prompt: str) -> list[str]:
    """Return `prompt` written into each of the 79 templates (79 strings)."""
    return [template.format(prompt) for template in IMAGENET_TEMPLATES]
