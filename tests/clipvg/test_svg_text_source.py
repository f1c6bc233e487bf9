"""Unedited text is written back as ``<text>``, edited text as outlines; both draw like the scene in
resvg (DejaVu Sans, Debian's fonts-dejavu-core, and the synthetic test font)."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import resvg_py
import torch
from PIL import Image

import clipvg
from clipvg.scene.tree import tree_from_data, tree_to_data
from clipvg.svg.writer import scene_to_svg_string
from text_fonts import FAMILY, load, svg, text_font  # noqa: F401

pytestmark = pytest.mark.usefixtures("text_font")
CASES = {
    "inherited-transform": ('<g fill="navy" font-family="DejaVu Sans" transform="translate(10 5)">'
                            '<text id="greeting" x="20" y="80" font-size="36" transform="rotate(5)">'
                            'Hi <tspan fill="red" dy="-8">you</tspan> there</text></g>'),
    "opacity-stroke": (f'<text x="20" y="150" font-family="{FAMILY}" font-size="100" opacity="0.6" fill="gold" '
                       f'stroke="black" stroke-width="2" letter-spacing="5">AVO</text>'),
    "view-box-style": ('<text x="10" y="40" style="font: bold 24px \'DejaVu Sans\'; fill: green" '
                       'rotate="0 10 20">Boxed</text>'),
}
ROOTS = {"view-box-style": {"viewBox": "0 0 200 100"}}


def _elements(markup: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for element in ET.fromstring(markup).iter():
        name = element.tag.rpartition("}")[2]
        counts[name] = counts.get(name, 0) + 1
    return counts


def _resvg(markup: str, font_dir) -> np.ndarray:
    png = resvg_py.svg_to_bytes(svg_string=markup, font_dirs=[str(font_dir)])
    rgba = np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"), dtype=np.float64) / 255
    return rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])


def _points(scene: clipvg.Scene) -> np.ndarray:
    return scene.points.detach().cpu().numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_unedited_text_is_written_as_text(name, text_font):
    source = svg(CASES[name], **ROOTS.get(name, {}))
    scene = load(source)
    saved = scene_to_svg_string(scene)
    counts = _elements(saved)
    assert counts.get("text") == 1 and counts.get("path", 0) == 0, counts
    again = load(saved)
    assert again.num_paths == scene.num_paths
    np.testing.assert_allclose(_points(again), _points(scene), atol=2e-3)
    # the kept <text> draws in resvg as the source does
    differing = (np.abs(_resvg(saved, text_font.parent) - _resvg(source, text_font.parent)).max(-1) > 16 / 255).mean()
    assert differing < 0.005, f"{differing:.2%} of pixels differ"


def test_source_survives_a_checkpoint_tree(text_font):
    scene = load(svg(CASES["inherited-transform"]))
    text_group = next(g for g in scene.tree.groups() if g.source_text is not None)
    copied = tree_from_data(tree_to_data(scene.tree))
    assert next(g for g in copied.groups() if g.source_text is not None).source_text == text_group.source_text


@pytest.mark.parametrize("edit", ["move", "repaint"])
def test_edited_glyph_is_written_as_outlines(edit, text_font):
    scene = load(svg(CASES["inherited-transform"]))
    with torch.no_grad():
        if edit == "move":
            scene.points[scene.point_path_index() == 0] += torch.tensor([0.0, 12.0])
        else:
            scene.fill_color[0] = torch.tensor([0.0, 0.8, 0.0, 1.0])
    saved = scene_to_svg_string(scene)
    counts = _elements(saved)
    assert counts.get("text", 0) == 0 and counts.get("path") == scene.num_paths, counts
    ours = clipvg.render(scene).numpy().astype(np.float64)
    ours = ours[..., :3] * ours[..., 3:] + (1 - ours[..., 3:])
    differing = (np.abs(_resvg(saved, text_font.parent) - ours).max(-1) > 16 / 255).mean()
    assert differing < 0.01, f"{differing:.2%} of pixels differ"
