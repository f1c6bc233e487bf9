"""Supersampled renders (clipvg.render.supersample, ``samples=`` of render / render_rgba8, ``clipvg render
--samples``): no seam between abutting shapes, as resvg-py draws their union; one sample is the analytic
render; bands equal the one-shot render."""
from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import resvg_py
import torch
from PIL import Image

import clipvg.render.api as api
from clipvg.cli import main
from clipvg.errors import InvalidInputError
from clipvg.render import render
from clipvg.render.api import render_rgba8
from clipvg.render.bands import render_rows
from clipvg.render.supersample import box_reduce, drawn_samples, reduced_rows
from clipvg.samples import EXPORT_SAMPLES, export_samples
from clipvg.svg import load_svg

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">{body}</svg>'
# two rectangles sharing the edge x = 10.5, and two sharing y = 8.5: their union covers whole pixels
ABUTTING = ('<rect x="2" y="2" width="8.5" height="12" fill="{left}"/><rect x="10.5" y="2" width="9.5" height="6.5"'
            ' fill="{right}"/><rect x="10.5" y="8.5" width="9.5" height="5.5" fill="{right}"/>')


def _on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) straight RGBA uint8 -> (H, W, 3) composited on white, in 0..255."""
    color, alpha = rgba[..., :3].astype(float), rgba[..., 3:].astype(float) / 255
    return color * alpha + 255 * (1 - alpha)


def _premultiplied(image: torch.Tensor) -> torch.Tensor:
    return torch.cat([image[..., :3] * image[..., 3:], image[..., 3:]], -1)


def _resvg(svg: str, zoom: int = 1) -> np.ndarray:
    """resvg-py's render at ``zoom``, box-reduced back to the canvas size (premultiplied), on white (H, W, 3)."""
    rgba = np.asarray(Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=zoom)))).convert("RGBA"))
    image = torch.from_numpy(rgba.astype(np.float64) / 255)
    return _on_white((box_reduce(image, zoom).numpy() * 255 + 0.5).astype(np.uint8))


@pytest.mark.parametrize("samples", [2, 4])
def test_abutting_shapes_of_one_colour_draw_their_union_without_a_seam(samples):
    svg = SVG.format(w=24, h=16, body=ABUTTING.format(left="#c30", right="#c30"))
    union = SVG.format(w=24, h=16, body='<rect x="2" y="2" width="18" height="12" fill="#c30"/>')
    expected = _resvg(union)
    drawn = _on_white(render_rgba8(load_svg(svg), samples=samples))
    assert np.abs(drawn - expected).max() <= 1
    seamed = _on_white(render_rgba8(load_svg(svg), samples=1))  # one exact-area sample: the seams blend with white
    assert np.abs(seamed - expected)[:, 10].max() > 40 and np.abs(seamed - expected)[8].max() > 40


def test_abutting_shapes_of_two_colours_match_resvg_supersampled():
    svg = SVG.format(w=24, h=16, body=ABUTTING.format(left="#c30", right="#06f"))
    drawn = render_rgba8(load_svg(svg), samples=2)
    assert np.abs(_on_white(drawn) - _resvg(svg, 4)).max() <= 1
    assert abs(int(drawn[5, 10, 3]) - 255) <= 1  # the seam pixel is opaque: half red, half blue


def test_one_sample_is_the_analytic_render():
    scene = load_svg(SVG.format(w=24, h=16, body=ABUTTING.format(left="#c30", right="#06f")))
    image = render(scene, 30, 20)
    assert torch.equal(render(scene, 30, 20, samples=1), image)
    assert np.array_equal(render_rgba8(scene, 30, 20, samples=1), (image.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8))


def test_box_reduce_is_the_premultiplied_block_mean():
    image = torch.rand(6, 9, 4, dtype=torch.float64)
    image[:3, :3, 3] = 0  # a transparent block
    reduced = box_reduce(image, 3)
    mean = _premultiplied(image).reshape(2, 3, 3, 3, 4).mean((1, 3))
    assert torch.allclose(_premultiplied(reduced), mean)
    assert torch.equal(reduced[0, 0], torch.zeros(4, dtype=torch.float64))


def test_reduced_rows_carry_unfinished_blocks_across_bands():
    image = torch.rand(24, 6, 4, dtype=torch.float64)
    cuts = [0, 5, 12, 13, 24]  # bands of 5, 7, 1 and 11 rows; blocks of 3
    bands = [(a, image[a:b]) for a, b in zip(cuts, cuts[1:])]
    out = torch.empty(8, 2, 4, dtype=torch.float64)
    rows = []
    for y0, band in reduced_rows(bands, 3):
        out[y0:y0 + len(band)] = band
        rows += range(y0, y0 + len(band))
    assert rows == list(range(8)) and torch.allclose(out, box_reduce(image, 3))


def test_supersampled_bands_equal_the_one_shot_render(monkeypatch):
    body = ('<rect x="5" y="7.3" width="100" height="380" fill="#c33"/><circle cx="60" cy="150.2" r="50.5" fill="blue"'
            ' stroke="black" stroke-width="7"/><path d="M10 10 L110 390 L30 200Z" fill="green" fill-opacity="0.5"/>')
    scene = load_svg(SVG.format(w=120, h=400, body=body))
    monkeypatch.setattr("clipvg.tiling.TILE_BYTES", 1 << 28)  # 958 K px of a flat scene: 1331-row bands
    assert render_rows(scene, 720, 2400, None) is not None  # 240 x 800 at 3 x 3 samples: in bands
    with torch.no_grad():
        banded = render(scene, 240, 800, samples=3)
        bytes_banded = render_rgba8(scene, 240, 800, background=(1, 1, 1), samples=3)
    monkeypatch.setattr(api, "_bands", lambda *args: None)  # in one piece
    with torch.no_grad():
        whole = render(scene, 240, 800, samples=3)
        bytes_whole = render_rgba8(scene, 240, 800, background=(1, 1, 1), samples=3)
    # float32 bands differ from the one-shot render by the rounding of their shifted coordinates (clipvg.render.bands);
    # compared premultiplied, as a straight colour where alpha is ~1e-5 is any colour
    assert banded.shape == (800, 240, 4) and torch.allclose(_premultiplied(banded), _premultiplied(whole), atol=1e-4)
    assert np.abs(bytes_banded.astype(int) - bytes_whole).max() <= 1


@pytest.mark.parametrize("kind, supersampled", [
    ('<feGaussianBlur stdDeviation="1.5"/>', True),
    ('<feGaussianBlur stdDeviation="90"/>', False),  # at 2 x 2 samples it would reach past blur.MAX_RADIUS
    ('<feOffset dx="2.3" dy="1"/>', False),  # 9.2 px: cut to whole px at one sample, as resvg
    ('<feConvolveMatrix order="3" kernelMatrix="1 0 0 0 1 0 0 0 1"/>', False),  # a kernel per pixel
    ('<feDiffuseLighting><feDistantLight azimuth="30" elevation="40"/></feDiffuseLighting>', False),
])
def test_filters_on_the_pixel_grid_are_drawn_with_one_sample(kind, supersampled):
    body = (f'<filter id="f">{kind}</filter><g filter="url(#f)">' + ABUTTING.format(left="#c30", right="#06f") + '</g>')
    scene = load_svg(SVG.format(w=24, h=16, body=body))
    assert drawn_samples(scene, 4.0, 2) == (2 if supersampled else 1)
    one, two = render_rgba8(scene, 96, 64, samples=1), render_rgba8(scene, 96, 64, samples=2)
    assert np.array_equal(one, two) != supersampled


PIXEL = ('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJ'
         'RU5ErkJggg==')


@pytest.mark.parametrize("paint, supersampled", [
    ('<pattern id="p" width="5.3" height="3" patternUnits="userSpaceOnUse"><rect width="2.5" height="1.5"/></pattern>',
     False),  # 5.3 px tiles: the texture holds 5 texels, 11 at 2 x 2, so tile edges would move
    ('<pattern id="p" width="5" height="3" patternUnits="userSpaceOnUse"><rect width="2.5" height="1.5"/></pattern>',
     True),  # 5 x 3 px tiles at whole px: drawn finer only
    (f'<image id="i" width="4" height="4" image-rendering="pixelated" href="{PIXEL}"/>', False),
    (f'<image id="i" width="4" height="4" href="{PIXEL}"/>', True),  # resampled bicubically at any resolution
])
def test_textures_off_the_pixel_grid_are_drawn_with_one_sample(paint, supersampled):
    """A pattern tile not on the output's pixel grid and an image drawn nearest-texel look different at another
    resolution (resvg's pattern files failed at 2 x 2): drawn with one sample (clipvg.samples.textures_on_grid)."""
    fill = "url(#p)" if paint.startswith("<pattern") else "#06f"
    use = '<use href="#i" x="3.3"/>' if paint.startswith("<image") else ""
    seam = ABUTTING.format(left="#c30", right="#06f")  # differs at 2 x 2 unless the scene takes one sample
    body = f'<defs>{paint}</defs><rect x="1.3" y="1.3" width="20" height="12" fill="{fill}"/>{use}{seam}'
    scene = load_svg(SVG.format(w=24, h=16, body=body))
    assert drawn_samples(scene, 1.0, 2) == (2 if supersampled else 1)
    assert np.array_equal(render_rgba8(scene, samples=1), render_rgba8(scene, samples=2)) != supersampled


def test_a_tile_on_the_pixel_grid_draws_its_abutting_shapes_without_a_seam():
    # one tile over the canvas (openclipart's pattern-diamond-cubes-2): at 2 x 2 its shapes meet as in their union
    tile = ('<pattern id="p" width="24" height="16" patternUnits="userSpaceOnUse">'
            + ABUTTING.format(left="#c30", right="#c30") + '</pattern>')
    scene = load_svg(SVG.format(w=24, h=16, body=f'<defs>{tile}</defs><rect width="24" height="16" fill="url(#p)"/>'))
    union = _resvg(SVG.format(w=24, h=16, body='<rect x="2" y="2" width="18" height="12" fill="#c30"/>'))
    assert np.abs(_on_white(render_rgba8(scene, samples=2)) - union).max() <= 1
    assert np.abs(_on_white(render_rgba8(scene, samples=1)) - union)[:, 10].max() > 40  # one sample: the seam


def test_large_exports_take_one_sample_unless_asked(monkeypatch):
    """Exports draw 2 x 2 samples up to EXPORT_MAX_PIXELS output pixels and one above it (the work grows
    with the drawn pixels); a count given explicitly is kept."""
    assert export_samples(2048, 2048) == EXPORT_SAMPLES == 2 and export_samples(2049, 2048) == 1
    assert export_samples(8192, 8192, 3) == 3
    monkeypatch.setattr("clipvg.samples.EXPORT_MAX_PIXELS", 24 * 16)
    scene = load_svg(SVG.format(w=24, h=16, body=ABUTTING.format(left="#c30", right="#06f")))
    small, large = render_rgba8(scene, 24, 16), render_rgba8(scene, 36, 24)
    assert np.array_equal(small, render_rgba8(scene, 24, 16, samples=2))
    assert not np.array_equal(small, render_rgba8(scene, 24, 16, samples=1))  # the seam: 2 x 2 did draw
    assert np.array_equal(large, render_rgba8(scene, 36, 24, samples=1))
    assert not np.array_equal(large, render_rgba8(scene, 36, 24, samples=2))


def test_samples_must_be_a_small_whole_number():
    scene = load_svg(SVG.format(w=4, h=4, body='<rect width="2" height="2"/>'))
    for samples in (0, 9, 2.0, True):
        with pytest.raises(InvalidInputError, match="samples per axis"):
            render_rgba8(scene, samples=samples)


def test_cli_render_samples(tmp_path, capsys):
    source = tmp_path / "in.svg"
    source.write_text(SVG.format(w=24, h=16, body=ABUTTING.format(left="#c30", right="#c30")))
    union = _resvg(SVG.format(w=24, h=16, body='<rect x="2" y="2" width="18" height="12" fill="#c30"/>'))
    drawn = {}
    for samples in (1, 2):
        target = tmp_path / f"out{samples}.png"
        assert main(["render", str(source), "-o", str(target), "--samples", str(samples), "--background", "none"]) == 0
        drawn[samples] = _on_white(np.asarray(Image.open(target).convert("RGBA")))
    assert np.abs(drawn[2] - union).max() <= 1 < np.abs(drawn[1] - union).max()
    assert main(["render", str(source), "-o", str(tmp_path / "bad.png"), "--samples", "0"]) == 2
    assert "samples per axis" in capsys.readouterr().err and not (tmp_path / "bad.png").exists()


def test_cli_refuses_bad_samples_before_torch_loads(tmp_path):
    source = tmp_path / "in.svg"
    source.write_text(SVG.format(w=4, h=4, body=""))
    code = ("import sys; from clipvg.cli import main; "
            f"code = main(['render', {str(source)!r}, '-o', {str(tmp_path / 'o.png')!r}, '--samples', '9']); "
            "print(code, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["2", "False"] and "samples per axis" in done.stderr
