"""<image> in load_svg/save_svg: placement (x/y/width/height, auto sizes, preserveAspectRatio,
transforms), image-rendering, opacity and clip, SVG images, files next to the SVG, refusals and
corrupt data (warned, the rest drawn), and round trips; pixels against resvg."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import resvg_py
import torch
from PIL import Image as PILImage

from clipvg import load_svg, render
from clipvg.scene.tree import Image
from clipvg.svg import UnsupportedSVGWarning, save_svg, scene_to_svg_string
from resvg_compare import assert_like_resvg, clipvg_on_white, resvg_on_white
from scene_checkpoint import through_weights_only_checkpoint
from svg_renderers import psnr

RNG = np.random.default_rng(3)
PIXELS = RNG.integers(0, 256, size=(6, 8, 4), dtype=np.uint8)
PIXELS[..., 3] = np.where(PIXELS[..., 3] > 60, 255, PIXELS[..., 3])  # mostly opaque, some translucent texels


def png_uri(pixels: np.ndarray = PIXELS) -> str:
    buffer = io.BytesIO()
    PILImage.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def document(body: str, size: int = 48) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{size}" '
            f'height="{size}">{body}</svg>')


def images(scene) -> list[Image]:
    return [c for g in scene.tree.groups() for c in g.children if isinstance(c, Image)]


PLACEMENTS = {
    "plain": 'x="4" y="6" width="32" height="24"',
    "meet": 'x="2" y="2" width="40" height="20" preserveAspectRatio="xMaxYMid meet"',
    "slice": 'x="2" y="2" width="40" height="20" preserveAspectRatio="xMinYMax slice"',
    "none": 'x="2" y="2" width="40" height="44" preserveAspectRatio="none"',
    "auto_width": 'x="4" y="4" height="30"',
    "auto_both": 'x="4" y="4" width="auto" height="auto"',
    "rotated": 'x="8" y="8" width="24" height="18" transform="rotate(25 24 24)"',
    "pixelated": 'x="4" y="4" width="40" height="30" style="image-rendering:optimizeSpeed"',
    "faded_clipped": 'x="4" y="4" width="40" height="30" opacity="0.6" clip-path="url(#c)"',
}


@pytest.mark.parametrize("name", sorted(PLACEMENTS))
def test_image_draws_like_resvg(name):
    body = (f'<clipPath id="c"><circle cx="24" cy="20" r="14"/></clipPath>'
            f'<image {PLACEMENTS[name]} xlink:href="{png_uri()}"/>')
    assert len(images(assert_like_resvg(document(body), 48))) == 1


def test_auto_size_is_the_intrinsic_size():
    (image,) = images(load_svg(document(f'<image x="3" y="5" xlink:href="{png_uri()}"/>')))
    assert image.texture.shape == (6, 8, 4)
    assert image.transform == pytest.approx((1.0, 0.0, 0.0, 1.0, 3.0, 5.0))


def test_svg_image_is_drawn_through_clipvg():
    inner = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><rect width="10" height="10" fill="#08f"/>'
             '<circle cx="15" cy="5" r="4" fill="#f80"/></svg>')
    uri = "data:image/svg+xml;base64," + base64.b64encode(inner.encode()).decode()
    assert_like_resvg(document(f'<image x="4" y="4" width="40" height="20" href="{uri}"/>'), 48)


SHARP_INNER = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><rect width="10" height="10" fill="#08f"/>'
               '<circle cx="15" cy="5" r="4.3" fill="#f80"/><path d="M1 9 L9 1" stroke="#222" stroke-width="0.3"/></svg>')


def svg_uri(markup: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(markup.encode()).decode()


def test_svg_image_is_vector_sharp_at_any_output_size_and_never_pixelated():
    # drawn at 4x the canvas size: as close to resvg's vectors (16x supersampled) as clipvg's own paths
    # are; image-rendering does not apply to an SVG image (resvg, browsers)
    svg = document(f'<image x="4.3" y="4" width="40" height="20" href="{svg_uri(SHARP_INNER)}" '
                   'image-rendering="optimizeSpeed"/>')
    drawn = render(load_svg(svg), 192, 192, background=(1, 1, 1))[..., :3].double().numpy()
    png = PILImage.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=16)))).convert("RGBA")
    rgba = np.asarray(png, np.float64) / 255
    expected = (rgba[..., :3] * rgba[..., 3:] + 1 - rgba[..., 3:]).reshape(192, 4, 192, 4, 3).mean((1, 3))
    assert psnr(drawn, expected) >= 55  # 36 dB for the nearest texel of the load-time texture


@pytest.mark.parametrize("placement, equivalent", [
    ('x="4.3" y="4.1" width="40" height="20"', '<g transform="translate(4.3 4.1) scale(2)">{}</g>'),
    ('x="4" y="4" width="30" height="20" transform="skewX(20) rotate(5)"',
     '<g transform="skewX(20) rotate(5) translate(4 6.5) scale(1.5)">{}</g>'),
    ('x="2" y="2" width="40" height="30" preserveAspectRatio="xMidYMin slice"',
     '<clipPath id="v"><rect x="2" y="-9" width="40" height="60"/></clipPath>'
     '<g clip-path="url(#v)"><g transform="translate(-8 2) scale(3)">{}</g></g>')])
def test_svg_image_draws_as_its_vectors_at_the_output_pixels(placement, equivalent):
    # the SVG image is drawn anew at the output size: pixel for pixel what its content gives drawn
    # through the same placement (no texture resampled; edges antialiased once, as resvg draws them;
    # the slice is cut in x only, and the reference clip reaches past the image in y, so that no clip
    # edge lies on a content edge, where a clip-path antialiases twice)
    content = SHARP_INNER[SHARP_INNER.index(">") + 1:SHARP_INNER.rindex("</svg>")]
    as_image = render(load_svg(document(f'<image {placement} href="{svg_uri(SHARP_INNER)}"/>')), 150, 150,
                      background=(1, 1, 1))
    as_vectors = render(load_svg(document(equivalent.format(content))), 150, 150, background=(1, 1, 1))
    assert (as_image - as_vectors).abs().max() < 2 / 255


def test_svg_image_content_outside_its_viewbox_is_cut():
    # a shape reaching past the image's viewBox shows at most one output pixel past the image's edge
    inner = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="-5" y="-5" width="20" height="20" '
             'fill="#000"/></svg>')
    alpha = render(load_svg(document(f'<image x="10.3" y="10.3" width="20" height="20" href="{svg_uri(inner)}"/>')),
                   96, 96)[..., 3]
    inside = alpha[21:60, 21:60]
    assert inside.min() == pytest.approx(1.0, abs=1e-5)
    assert alpha[:19].max() == 0 and alpha[:, :19].max() == 0 and alpha[62:].max() == 0 and alpha[:, 62:].max() == 0


def test_svg_image_edge_on_a_pixel_boundary_stays_sharp():
    # resvg's painting/image-rendering/optimizeSpeed-on-SVG: 100 units drawn on 240 px at 300/80 scale;
    # the edge at 95 units lands on pixel row 258 exactly: rows 257 and 258 are wholly in or out (a
    # load-time texture of 768 texels blurred them by 0.075)
    inner = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="95" '
             'fill="#000"/></svg>')
    svg = document(f'<image x="8" y="8" width="64" height="64" href="{svg_uri(inner)}"/>', 80)
    alpha = render(load_svg(svg), 300, 300)[..., 3]
    assert alpha[257, 100:200].min() == pytest.approx(1.0, abs=1e-5)
    assert alpha[258, 100:200].max() == pytest.approx(0.0, abs=1e-5)


def test_file_next_to_the_svg(tmp_path):
    (tmp_path / "img").mkdir()
    PILImage.fromarray(PIXELS, "RGBA").save(tmp_path / "img" / "pic.png")
    body = '<image x="4" y="6" width="32" height="24" href="img/pic.png"/>'
    (tmp_path / "doc.svg").write_text(document(body))
    assert_like_resvg(document(body), 48, resources_dir=str(tmp_path), source=tmp_path / "doc.svg")


# the SVG images resvg's structure/image draws where Chromium draws none or another (a data: URI without a media
# type, an SVGZ file: a broken-image icon; width and height auto: nothing; a root without width and height: a
# size of its own): clipvg draws them as resvg does
SIZELESS = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><rect width="10" height="10" fill="#08f"/>'
            '<circle cx="15" cy="5" r="4" fill="#f80"/></svg>')
SVG_IMAGES_AS_RESVG = {
    "data URI without media type": ('x="4" y="4" width="40" height="20"',
                                    "data:;base64," + base64.b64encode(SHARP_INNER.encode()).decode()),
    "svgz file": ('x="4" y="4" width="40" height="20"', "inner.svgz"),
    "root without width and height": ('x="4" y="4"', svg_uri(SIZELESS)),  # its viewBox's size: 20 x 10
    "width and height auto": ('x="4" y="4" width="auto" height="auto"',
                              svg_uri(SHARP_INNER.replace("<svg ", '<svg width="30" height="15" '))),
}


@pytest.mark.parametrize("name", sorted(SVG_IMAGES_AS_RESVG))
def test_svg_image_sources_and_sizes_draw_as_resvg(name, tmp_path):
    import gzip

    placement, href = SVG_IMAGES_AS_RESVG[name]
    (tmp_path / "inner.svgz").write_bytes(gzip.compress(SHARP_INNER.encode()))
    body = document(f'<image {placement} href="{href}"/>')
    (tmp_path / "doc.svg").write_text(body)
    scene = assert_like_resvg(body, 48, resources_dir=str(tmp_path), source=tmp_path / "doc.svg")
    assert len(images(scene)) == 1


@pytest.mark.parametrize("href, reason", [
    ("https://example.com/a.png", "never reads https: URLs"),
    ("missing.png", "given as a string"),
    (png_uri()[:120], "cannot be decoded"),  # a PNG cut short
    ("data:text/plain,hello", "not a PNG, JPEG"),
])
def test_unusable_images_warn_by_id_and_the_rest_draws(href, reason):
    body = f'<image id="pic" width="10" height="10" href="{href}"/><rect x="20" y="20" width="8" height="8"/>'
    with pytest.warns(UnsupportedSVGWarning, match="image #pic") as record:
        scene = load_svg(document(body))
    assert reason in str(record[0].message)
    assert scene.num_paths == 1 and not images(scene)


def test_round_trip_keeps_images(tmp_path):
    body = (f'<image x="4" y="6" width="32" height="24" opacity="0.8" xlink:href="{png_uri()}"/>'
            f'<image x="2" y="2" width="40" height="20" preserveAspectRatio="xMinYMax slice" '
            f'style="image-rendering:pixelated" xlink:href="{png_uri(PIXELS[::-1])}"/>')
    scene = load_svg(document(body))
    save_svg(scene, tmp_path / "out.svg")
    again = load_svg(tmp_path / "out.svg")
    assert [i.sampling for i in images(again)] == ["bicubic", "nearest"]
    np.testing.assert_allclose(clipvg_on_white(again), clipvg_on_white(scene), atol=2e-3)
    written = scene_to_svg_string(scene)
    assert psnr(resvg_on_white(written, 48, 48), resvg_on_white(document(body), 48, 48)) >= 40


def test_images_survive_a_weights_only_checkpoint():
    scene = load_svg(document(f'<image x="4" y="6" width="32" height="24" xlink:href="{png_uri()}" '
                              'style="image-rendering:pixelated" preserveAspectRatio="xMidYMid slice"/>'))
    restored = through_weights_only_checkpoint(scene)
    (image,) = images(restored)
    assert image.sampling == "nearest" and image.view is not None
    torch.testing.assert_close(render(restored), render(scene))


def test_svg_images_survive_a_weights_only_checkpoint_drawn_from_their_texture():
    scene = load_svg(document(f'<image x="4.3" y="4" width="40" height="20" href="{svg_uri(SHARP_INNER)}"/>'))
    restored = through_weights_only_checkpoint(scene)
    (image,) = images(restored)
    assert image.redraw is None and images(scene)[0].redraw is not None
    assert psnr(render(restored, 96, 96).double().numpy(), render(scene, 96, 96).double().numpy()) >= 35
