"""The project's own small CLIP, trained on synthetic coloured shapes: an offline stand-in for real CLIP.

`losses.load_clip(*shapes_clip_paths())` loads it; `python -m losses.shapes.train` rebuilds it.
"""

from pathlib import Path

from losses.errors import WeightsUnavailableError

CONFIG_PATH = Path(__file__).with_name("shapes_clip.json")
CHECKPOINT_PATH = Path(__file__).with_name("shapes_clip.pt")


def shapes_clip_paths() -> tuple[str, str]:
    """Return (model-config JSON path, checkpoint path) of the shapes CLIP."""
    if not CHECKPOINT_PATH.is_file():
        raise WeightsUnavailableError(
            f"the shapes CLIP checkpoint {str(CHECKPOINT_PATH)!r} is missing; rebuild it with "
            "`python -m losses.shapes.train` (a few CPU minutes)"
        )
    return str(CONFIG_PATH), str(CHECKPOINT_PATH)
