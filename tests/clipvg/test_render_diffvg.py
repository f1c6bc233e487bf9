"""backend="diffvg" (pydiffvg, as CLIPVG calls it: 2 x 2 jittered samples per pixel) against the
torch backend: the same pictures within a stated PSNR, gradients pointing the same way, an edit that
lowers the loss like the torch backend's, and clear errors for what pydiffvg cannot draw.

Everything that calls pydiffvg runs only where it is importable (it is not on PyPI: build it from
https://github.com/BachiLi/diffvg); CI has none, so those tests skip there with that reason. The
tests of the option plumbing and of the missing-library error run everywhere.

PSNR thresholds: pydiffvg's 2 x 2 jittered samples against exact-area coverage leave about
35-45 dB at 4x zoom; where pydiffvg draws round joins for miter/bevel ones, less (stated per test).
"""
from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import clipvg
from clipvg import GradientStops, Path as VPath, RadialGradient, Scene, Solid, Subpath
from clipvg.errors import BackendUnavailableError, InvalidInputError
from clipvg.render import diffvg_backend
from clipvg.render.diffvg_backend import DiffvgApproximationWarning
from edit_scenes import circle, quick_settings, red_circle
from render_samples import RENDER_SAMPLES
from svg_samples import FAITHFUL, svg

try:
    import pydiffvg  # noqa: F401

    PYDIFFVG_MISSING = None
except ImportError as error:  # not built here (CI)
    PYDIFFVG_MISSING = ("pydiffvg is not installed (build it from https://github.com/BachiLi/diffvg; CI has none): "
                        f"{error}")

needs_pydiffvg = pytest.mark.skipif(PYDIFFVG_MISSING is not None, reason=PYDIFFVG_MISSING or "")
WHITE = (1.0, 1.0, 1.0)
ZOOM = 4  # hand-written 64 px scenes are compared at 256 px: edges are then a small share of pixels


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.double() - b.double()) ** 2).mean())
    return math.inf if mse == 0 else -10 * math.log10(mse)


def both(scene: Scene, width: int | None = None, height: int | None = None, background=WHITE):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiffvgApproximationWarning)
        ours = clipvg.render(scene, width, height, background=background)
        theirs = clipvg.render(scene, width, height, background=background, backend="diffvg")
    return ours, theirs


def load(text: str) -> Scene:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clipvg.svg.UnsupportedSVGWarning)
        return clipvg.load_svg(text)


# Gradients pydiffvg draws exactly once the transform is folded in: a linear gradient under rotation,
# skew and non-uniform scale; radial gradients under axis scales (objectBoundingBox on a non-square
# box, scale(1.4 0.6)) and under rotation with uniform scale; a gradient stroke.
GRADIENTS = svg("""
  <defs>
    <linearGradient id="lin" gradientUnits="userSpaceOnUse" x1="6" y1="6" x2="30" y2="20"
                    gradientTransform="rotate(25 16 16) skewX(15) scale(1 0.7)">
      <stop offset="0.1" stop-color="#e33"/><stop offset="0.6" stop-color="#3c6" stop-opacity="0.7"/>
      <stop offset="0.9" stop-color="#36e"/>
    </linearGradient>
    <linearGradient id="bbox" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#fd0"/><stop offset="0.5" stop-color="#f60"/><stop offset="1" stop-color="#0cf"/>
    </linearGradient>
    <radialGradient id="rad" cx="0.5" cy="0.5" r="0.5">
      <stop offset="0" stop-color="#ff8"/><stop offset="1" stop-color="#a20"/>
    </radialGradient>
    <radialGradient id="scaled" gradientUnits="userSpaceOnUse" cx="48" cy="44" r="10"
                    gradientTransform="translate(48 44) scale(1.4 0.6) translate(-48 -44)">
      <stop offset="0.2" stop-color="#fff"/><stop offset="1" stop-color="#207" stop-opacity="0.6"/>
    </radialGradient>
    <radialGradient id="turned" gradientUnits="userSpaceOnUse" cx="0" cy="0" r="8"
                    gradientTransform="translate(20 46) rotate(35) scale(1.2)">
      <stop offset="0" stop-color="#0a4"/><stop offset="1" stop-color="#ff0"/>
    </radialGradient>
  </defs>
  <path d="M6.3 8.2 C 20 2, 34 10, 30 24 L 8 30 Z" fill="url(#lin)"/>
  <rect x="36.4" y="4.3" width="24" height="14" fill="url(#bbox)"/>
  <rect x="36.2" y="21.1" width="22" height="8" fill="url(#rad)"/>
  <ellipse cx="48.3" cy="44.2" rx="13" ry="9" fill="url(#scaled)"/>
  <circle cx="20.2" cy="46.3" r="12" fill="url(#turned)" fill-opacity="0.9"/>
  <path d="M4.2 60.3 L 30.1 55.4 Q 40 62 44.3 58.1" fill="none" stroke="url(#lin)" stroke-width="3"
        stroke-linecap="round" stroke-linejoin="round"/>
""")

# Strokes as pydiffvg draws them (round caps and joins), open and closed, on lines and curves.
ROUND_STROKES = svg("""
  <polyline points="6.2,10.1 20.3,30.2 34.1,10.4" fill="none" stroke="#1144aa" stroke-width="5"
            stroke-linecap="round" stroke-linejoin="round"/>
  <path d="M36.3 30.2 C 40 4, 52 4, 58.1 30.3" fill="none" stroke="#aa4411" stroke-width="3.5"
        stroke-linecap="round"/>
  <rect x="8.3" y="38.2" width="20" height="16" rx="3" fill="#fc8" stroke="#420" stroke-width="2.5"
        stroke-linejoin="round" stroke-opacity="0.8"/>
  <path d="M36.4 40.2 Q 60 44 50.3 58.2 T 38.2 60.1" fill="none" stroke="#2a4" stroke-width="1.2"
        stroke-linecap="round"/>
""")

# Equal stop offsets (hard stops) and decreasing ones: pydiffvg asserts (aborting the process) unless
# offsets strictly increase, so the adapter nudges them apart by 1e-5. The torch backend evaluates
# paint at pixel centres, pydiffvg at its samples: a hard stop's line differs by up to a pixel.
HARD_STOPS = svg("""
  <linearGradient id="hard" x1="0" y1="0" x2="1" y2="0.3">
    <stop offset="0" stop-color="#fd0"/><stop offset="0.5" stop-color="#f60"/><stop offset="0.5" stop-color="#06f"/>
    <stop offset="0.4" stop-color="#0cf"/><stop offset="1" stop-color="#003"/>
  </linearGradient>
  <rect x="4.3" y="6.2" width="56" height="50" fill="url(#hard)"/>
""")

GROUP_OPACITY = svg("""
  <rect x="4.2" y="4.1" width="40" height="40" fill="#c33"/>
  <g opacity="0.5"><circle cx="40.3" cy="40.2" r="18" fill="#33c"/></g>
  <g opacity="0.7"><g opacity="0.6"><rect x="10.1" y="30.3" width="20" height="26" fill="#3a3"/></g></g>
""")

# pydiffvg's own geometry: these draw alike up to sampling noise. (name, svg, PSNR dB at 4x on white)
# (Measured with pydiffvg at BachiLi/diffvg 85802a7, CPU build: each about 1.5 dB above its threshold;
# the jitter is seeded, so a build gives the same figures every run.)
EXACT = {
    "gradients": (GRADIENTS, 36), "hard_stops": (HARD_STOPS, 33), "round_strokes": (ROUND_STROKES, 35),
    "group_opacity": (GROUP_OPACITY, 40), "arcs": (FAITHFUL["arcs"], 39),
    "donut_evenodd": (FAITHFUL["donut_evenodd"], 39), "compound_3": (FAITHFUL["compound_3"], 43),
    "layers": (FAITHFUL["layers"], 43), "use": (FAITHFUL["use"], 42), "viewports": (FAITHFUL["viewports"], 42),
    "huge": (RENDER_SAMPLES["huge"], 46), "opacity_stack": (RENDER_SAMPLES["opacity_stack"], 46),
    "fill_rules": (RENDER_SAMPLES["fill_rules"], 39),
}
# Miter/bevel joins and butt/square caps, which pydiffvg draws round (with a warning).
ROUNDED = {"shapes": (FAITHFUL["shapes"], 30), "transforms": (FAITHFUL["transforms"], 35),
           "strokes": (FAITHFUL["strokes"], 25), "css": (FAITHFUL["css"], 37)}


# ---------------------------------------------------------------------- plumbing (no pydiffvg needed)
def test_missing_pydiffvg_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydiffvg", None)  # import fails as if not installed
    with pytest.raises(BackendUnavailableError, match="github.com/BachiLi/diffvg"):
        clipvg.render(red_circle(), backend="diffvg")


def test_edit_options_take_the_backend():
    from clipvg.edit import EditOptions

    assert EditOptions("x").backend == "auto"
    assert "backend" not in EditOptions("x", backend="torch").fingerprint()  # old checkpoints still resume
    assert EditOptions("x", backend="diffvg").fingerprint()["backend"] == "diffvg"
    with pytest.raises(InvalidInputError, match="unknown backend"):
        EditOptions("x", backend="cairo")


def test_cli_backend_option_reaches_the_options(tmp_path):
    from clipvg.cli import build_parser
    from clipvg.cli.edit_command import RUN_OPTIONS, job_spec
    from clipvg.edit.job import edit_options

    source = tmp_path / "in.svg"
    source.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="4" height="4"/></svg>')
    parser = build_parser()
    args = parser.parse_args(["edit", str(source), "-o", "out.svg", "--prompt", "a cat", "--backend", "diffvg"])
    assert edit_options(job_spec(args, RUN_OPTIONS, input=args.input)).backend == "diffvg"
    args = parser.parse_args(["edit", str(source), "-o", "out.svg", "--prompt", "a cat"])
    assert edit_options(job_spec(args, RUN_OPTIONS, input=args.input)).backend == "torch"
    with pytest.raises(SystemExit):
        parser.parse_args(["edit", "in.svg", "-o", "out.svg", "--prompt", "a cat", "--backend", "cairo"])


# ---------------------------------------------------------------------- pictures
@needs_pydiffvg
@pytest.mark.parametrize("name", sorted(EXACT))
def test_hand_written_scenes_agree(name):
    text, threshold = EXACT[name]
    scene = load(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiffvgApproximationWarning)
        ours, theirs = both(scene, round(scene.width * ZOOM), round(scene.height * ZOOM))
    assert psnr(ours, theirs) >= threshold


@needs_pydiffvg
@pytest.mark.parametrize("name", sorted(ROUNDED))
def test_other_caps_and_joins_are_drawn_round_with_a_warning(name):
    text, threshold = ROUNDED[name]
    scene = load(text)
    with pytest.warns(DiffvgApproximationWarning, match="round"):
        clipvg.render(scene, backend="diffvg")
    ours, theirs = both(scene, round(scene.width * ZOOM), round(scene.height * ZOOM))
    assert psnr(ours, theirs) >= threshold


@needs_pydiffvg
@pytest.mark.parametrize("name", ["gradients", "round_strokes", "opacity_stack"])
def test_transparent_background_gives_exact_coverage(name):
    """Without a background the scene is drawn over black and over white, which gives exact
    premultiplied colour and alpha per sample (measured: alpha 33.0 / 33.0 / 51.0 dB, premultiplied
    colour 35.2 / 39.8 / 50.3 dB for the three scenes)."""
    scene = load(EXACT[name][0])
    ours, theirs = both(scene, round(scene.width * ZOOM), round(scene.height * ZOOM), background=None)
    assert psnr(ours[..., 3], theirs[..., 3]) >= 31
    assert psnr(ours[..., :3] * ours[..., 3:], theirs[..., :3] * theirs[..., 3:]) >= 33


@needs_pydiffvg
def test_with_many_samples_gradients_and_strokes_converge_to_ours(monkeypatch):
    """With 8 x 8 samples pydiffvg's noise is small, so what is left is the geometry: folded gradient
    transforms, strokes (gradient strokes as capsule unions), fills of open subpaths."""
    monkeypatch.setattr(diffvg_backend, "SAMPLES", 8)
    for text in (GRADIENTS, ROUND_STROKES):
        ours, theirs = both(load(text), 256, 256)
        assert psnr(ours, theirs) >= 50


@needs_pydiffvg
def test_vectorized_photo_agrees():
    import skimage.data
    import vectorize

    scene = vectorize.vectorize(skimage.data.chelsea(), rounds=(6, 16), max_size=160)
    assert scene.num_paths > 100
    ours, theirs = both(scene)
    assert psnr(ours, theirs) >= 40  # measured 41.8 dB (212 paths, 160 x 106 px)


def _icons(folder: str, every: int) -> list[Path]:
    root = Path(folder)
    return sorted(root.rglob("*.svg"))[::every] if root.is_dir() else []


ICONS = ([pytest.param(p, id=f"papirus-{p.stem}") for p in _icons("/usr/share/icons/Papirus/64x64/apps", 1100)]
         + [pytest.param(p, id=f"tango-{p.stem}") for p in _icons("/usr/share/icons/Tango/scalable", 60)])
REFUSALS = ("rotated or skewed ellipse", "focal point", "spreadMethod", "blur", "clip", "mask",
            "opacity applies to", "dashed")


@needs_pydiffvg
@pytest.mark.parametrize("icon", ICONS or [pytest.param(None, marks=pytest.mark.skip(
    reason="no Papirus or Tango icons installed (apt-get install papirus-icon-theme tango-icon-theme)"))])
def test_real_icons_agree_or_are_refused_by_name(icon):
    """Papirus icons are flat; Tango icons have transformed gradients, gradient strokes, group opacity
    and blur. Each is drawn within 33 dB of ours at 4x or refused with the path or group named."""
    scene = load(str(icon))
    try:
        ours, theirs = both(scene, 256, 256)
    except BackendUnavailableError as error:
        assert any(reason in str(error) for reason in REFUSALS), str(error)
        assert "path " in str(error) or "group " in str(error), str(error)
        return
    assert psnr(ours, theirs) >= 33


# ---------------------------------------------------------------------- gradients
def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a * b).sum() / (a.norm() * b.norm()))


FLOAT_FIELDS = ("points", "fill_color", "stroke_color", "stroke_width", "opacity", "miter_limit", "gradient_coords",
                "gradient_transform", "stop_offsets", "stop_colors")


def _double(scene: Scene) -> Scene:
    scene = scene.clone()
    for name in FLOAT_FIELDS:
        setattr(scene, name, getattr(scene, name).double())
    return scene


@needs_pydiffvg
def test_gradients_agree_in_direction():
    """Per parameter kind, cosine of d(loss)/d(parameter), pydiffvg against the torch backend in
    float64 (which matches central differences; pydiffvg's edge gradients are Monte Carlo estimates,
    so points agree less tightly than colours). Radial stop colours are left out: see below."""
    scene = load(GRADIENTS.replace('stroke="url(#lin)"', 'stroke="#c80"'))
    strokes = load(ROUND_STROKES)
    size = 150  # 64 px canvas at 150 px: no edge lies exactly on a pixel boundary
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    weights = torch.stack([torch.sin(3 * xx + 1), torch.cos(2 * yy + xx), torch.sin(4 * yy - 2 * xx)], -1)
    cosines = {}
    for label, base in (("fills", scene), ("strokes", strokes)):
        grads = {}
        for backend in ("torch", "diffvg"):
            copy = _double(base) if backend == "torch" else base.clone()
            copy.parameters(points=True, colors=True, stroke_widths=True, gradients=True)
            copy.opacity.requires_grad_(True)
            image = clipvg.render(copy, size, size, background=WHITE, backend=backend)
            (image[..., :3] * weights.to(image.dtype)).sum().backward()
            grads[backend] = {name: getattr(copy, name).grad for name in
                              ("points", "fill_color", "stroke_color", "stroke_width", "opacity", "stop_colors",
                               "gradient_coords")}
        for name, ours in grads["torch"].items():
            if ours is not None and float(ours.norm()) > 0:
                theirs = grads["diffvg"][name].double()
                if name in ("stop_colors", "gradient_coords"):  # linear gradients only
                    keep = (base.gradient_kind == 0)
                    if name == "stop_colors":
                        keep = keep.repeat_interleave(base.gradient_stop_offsets.diff())
                    ours, theirs = ours[keep], theirs[keep]
                cosines[f"{label}.{name}"] = _cosine(ours, theirs)
    print({name: round(value, 4) for name, value in cosines.items()})
    assert cosines["fills.points"] >= 0.99 and cosines["strokes.points"] >= 0.93
    for name in ("fills.stop_colors", "fills.gradient_coords", "fills.stroke_color", "fills.stroke_width",
                 "strokes.fill_color", "strokes.stroke_color", "strokes.stroke_width", "strokes.opacity"):
        assert cosines[name] >= 0.99, name
    assert cosines["fills.opacity"] >= 0.95


@needs_pydiffvg
def test_pydiffvg_radial_stop_colour_gradient_double_counts():
    """A pydiffvg bug the adapter cannot fix (at BachiLi/diffvg 85802a7, d_sample_color's radial case
    has no ``return`` after the matching stop interval): the last stop colour of a radial gradient
    also receives the derivative of every sample between the stops. Pinned so a fixed pydiffvg shows."""
    stops = GradientStops([0.0, 1.0], [[1.0, 1.0, 0.5, 1.0], [0.6, 0.1, 0.0, 1.0]])
    scene = Scene.from_paths([VPath([circle(32.3, 32.2, 20)], fill=RadialGradient((32.0, 32.0), 30.0, stops))], 64, 64)
    last = {}
    for backend in ("torch", "diffvg"):
        copy = scene.clone()
        copy.parameters(points=False, colors=True)
        clipvg.render(copy, background=WHITE, backend=backend)[..., :3].sum().backward()
        last[backend] = float(copy.stop_colors.grad[1, 0])
    assert last["diffvg"] > 1.5 * last["torch"]


# ---------------------------------------------------------------------- editing
@needs_pydiffvg
def test_editing_with_diffvg_lowers_the_loss_like_torch():
    """The shapes CLIP, a 64 px red circle, 12 steps: both backends lower the loss, by similar amounts."""
    import losses
    from clipvg.edit import edit

    clip = losses.load_clip(*losses.shapes_clip_paths())
    runs = {}
    for backend in ("torch", "diffvg"):
        settings = quick_settings(iterations=12, num_patches=8, backend=backend)
        runs[backend] = edit(red_circle(), "a green circle on a white background", clip=clip, **settings).losses
    print({k: [round(v, 4) for v in losses_] for k, losses_ in runs.items()})
    drops = {k: v[0] - min(v[-3:]) for k, v in runs.items()}
    assert drops["torch"] > 0 and drops["diffvg"] > 0
    assert 0.5 * drops["torch"] <= drops["diffvg"] <= 2 * drops["torch"]


@needs_pydiffvg
def test_cli_edit_with_backend_diffvg(tmp_path):
    from clipvg.cli import main
    from clipvg.svg import save_svg
    import losses

    model, weights = losses.shapes_clip_paths()
    source = tmp_path / "circle.svg"
    save_svg(red_circle(), source)
    out = tmp_path / "out.svg"
    assert main(["edit", str(source), "-o", str(out), "--prompt", "a green circle", "--iterations", "2",
                 "--patches", "2", "--clip-model", model, "--clip-weights", weights, "--device", "cpu",
                 "--backend", "diffvg", "--quiet"]) == 0
    assert out.read_text().startswith("<")


# ---------------------------------------------------------------------- what pydiffvg cannot draw
REFUSED = {
    "rotated ellipse": ("""<radialGradient id="g" gradientUnits="userSpaceOnUse" cx="0" cy="0" r="10"
                            gradientTransform="translate(32 32) rotate(30) scale(2 1)">
                            <stop stop-color="#fff"/><stop offset="1" stop-color="#000"/></radialGradient>
                          <rect id="victim" width="64" height="64" fill="url(#g)"/>""",
                        "path 0 (id 'victim'): its radial gradient is a rotated or skewed ellipse"),
    "focal point": ("""<radialGradient id="g" cx="0.5" cy="0.5" r="0.5" fx="0.3">
                        <stop stop-color="#fff"/><stop offset="1" stop-color="#000"/></radialGradient>
                      <circle cx="32" cy="32" r="20"/><circle id="f" cx="32" cy="32" r="20" fill="url(#g)"/>""",
                    "path 1 (id 'f'): its radial gradient has a focal point"),
    "reflect": ("""<linearGradient id="g" x2="0.2" spreadMethod="reflect">
                    <stop stop-color="#fff"/><stop offset="1" stop-color="#000"/></linearGradient>
                  <rect width="64" height="64" fill="url(#g)"/>""", "spreadMethod='reflect'"),
    "blur": ("""<filter id="b"><feGaussianBlur stdDeviation="2"/></filter>
               <g id="soft" filter="url(#b)"><rect x="8" y="8" width="30" height="30"/></g>""",
             "group 'soft': its filters"),
    "dashes": ("""<path id="dots" d="M4 32 H60" stroke="#000" stroke-width="2" stroke-dasharray="4 2"/>""",
               "path 0 (id 'dots'): its stroke is dashed"),
    "group opacity over two paths": ("""<g id="pair" opacity="0.5"><rect width="30" height="30"/>
                                        <rect x="20" y="20" width="30" height="30"/></g>""",
                                     "group 'pair': its opacity applies to 2 paths"),
}


@needs_pydiffvg
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_pydiffvg_cannot_draw_is_refused_by_name(name):
    body, message = REFUSED[name]
    scene = load(svg(body))
    with pytest.raises(BackendUnavailableError, match="use backend='torch'") as raised:
        clipvg.render(scene, backend="diffvg")
    assert message in str(raised.value)


def _squares(count: int, size: float, step: float) -> Scene:
    paths = [VPath([Subpath.polygon([[x, x], [x + size, x], [x + size, x + size], [x, x + size]])],
                   fill=Solid((0.5, 0.2, 0.1, 0.5))) for x in np.arange(count) * step + 0.3]
    return Scene.from_paths(paths, 64, 64)


@needs_pydiffvg
def test_deep_stacks_are_refused_instead_of_aborting():
    """pydiffvg asserts (killing the process) when more than 256 shapes cover one sample."""
    with pytest.raises(BackendUnavailableError, match="aborts the process above 256"):
        clipvg.render(_squares(300, 40.0, 0.01), backend="diffvg")


@needs_pydiffvg
def test_overlapping_boxes_without_deep_overlap_still_draw():
    """300 thin rings share their bounding boxes' centre but no pixel: the exact count lets them through."""
    rings = []
    for k in range(300):
        radius = 1 + 0.15 * k
        hole = circle(48.1, 48.2, radius)  # reversed: a nonzero hole
        hole = Subpath(np.roll(hole.points[::-1], 1, 0), hole.degrees)
        rings.append(VPath([circle(48.1, 48.2, radius + 0.1), hole], fill=Solid((0.1, 0.3, 0.8, 0.5))))
    scene = Scene.from_paths(rings, 96, 96)
    ours, theirs = both(scene)
    # measured 0.015: sub-pixel rings are where coverage-based compositing (ours) and point samples differ
    assert abs(float(ours.mean()) - float(theirs.mean())) < 0.03


@needs_pydiffvg
def test_float64_scenes_and_devices(device):
    """Float64 scenes come back in float64. On CUDA a CUDA build of pydiffvg agrees with the CPU; a
    CPU-only build says so."""
    scene = load(GRADIENTS)
    for name in ("points", "fill_color", "stroke_color", "stroke_width", "opacity", "gradient_coords",
                 "stop_offsets", "stop_colors"):
        setattr(scene, name, getattr(scene, name).double())
    cpu = clipvg.render(scene, backend="diffvg", background=WHITE)
    assert cpu.dtype == torch.float64
    if device.type == "cpu":
        return
    try:
        gpu = clipvg.render(scene.to(device), backend="diffvg", background=WHITE)
    except BackendUnavailableError as error:
        assert "built without CUDA" in str(error)
        return
    assert gpu.device.type == "cuda" and psnr(gpu.cpu(), cpu) >= 40
