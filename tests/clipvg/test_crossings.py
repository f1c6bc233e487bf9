"""clipvg.crossings: the pieces a scene's edges are cut into bound the renderer's own, in the whole render and in
each band of rows; a file's count before torch loads is its Scene's; a stroke folded over itself many times is
drawn in bands of rows or refused, by its pieces, where its pixels alone looked small."""
from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

import clipvg
from clipvg import Path, Scene, Solid, Stroke, Subpath
from clipvg import crossings
from clipvg.crossings import COVERED_PER_PIXEL, TOLERANCE, EdgeLoad, crowding_bytes
from clipvg.errors import ResourceLimitError
from clipvg.input_check import check_edit_canvas
from clipvg.limits import ResourceLimits, using
from clipvg.render.coverage import split_at_grid
from clipvg.render.geometry import FLATTEN_TOLERANCE, MAX_PIECES_PER_SEGMENT
from clipvg.render.torch_backend import draw_items
from clipvg.svg.reader import read_svg
from clipvg import tiling
from clipvg.limits import FLAT_PIXEL_BYTES
from clipvg.tiling import plan_for, working_bytes
from svg_samples import svg
from vectorize import vectorize

SIZE = 40


def _renderer_pieces(scene: Scene, scale: float, band: tuple[int, int] | None = None, size: int = SIZE
                     ) -> tuple[int, int]:
    """The pieces the renderer cuts ``scene``'s edges into, drawn at ``scale`` on a ``size`` px canvas, and the
    lines it draws: on the whole canvas, or on the rows [y0, y1) of ``band`` (a band's tile: the edges moved up by
    y0 on a canvas y1 - y0 rows tall)."""
    width = height = round(size * scale)
    edges, items = draw_items(scene, torch.tensor([scale, scale], dtype=scene.points.dtype))
    if band is not None:
        edges = edges - edges.new_tensor([0.0, band[0]])
        height = band[1] - band[0]
    with torch.no_grad():
        return len(split_at_grid(edges, items, width, height)[0]), len(edges)


@st.composite
def scenes(draw) -> Scene:
    """1-3 paths of 1-2 subpaths of lines, quadratics and cubics around a 40 px canvas, filled, stroked (any
    width, join, cap and miter limit) or both."""
    paths = []
    for _ in range(draw(st.integers(1, 3))):
        subpaths = []
        for _ in range(draw(st.integers(1, 2))):
            degrees = draw(st.lists(st.integers(1, 3), min_size=1, max_size=5))
            closed = draw(st.booleans())
            count = sum(degrees) + (0 if closed else 1)
            points = draw(st.lists(st.tuples(st.floats(-15, 55), st.floats(-15, 55)), min_size=count, max_size=count))
            subpaths.append(Subpath(np.array(points), degrees, closed=closed))
        filled = draw(st.booleans())
        stroke = None
        if not filled or draw(st.booleans()):
            stroke = Stroke(Solid((0.1, 0.2, 0.3, 1.0)), width=draw(st.floats(0.2, 8)),
                            join=draw(st.sampled_from(["miter", "round", "bevel"])),
                            cap=draw(st.sampled_from(["butt", "round", "square"])), miter_limit=draw(st.floats(1, 12)))
        paths.append(Path(subpaths, fill=Solid((0.9, 0.1, 0.1, 1.0)) if filled else None, stroke=stroke))
    return Scene.from_paths(paths, SIZE, SIZE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes(), scale=st.sampled_from([0.5, 1.0, 2.5]), rows=st.integers(1, 30))
def test_the_count_holds_the_renderers_pieces_in_the_render_and_in_each_band(scene, scale, rows):
    """The grid crossings are a bound, the one piece a line the expected count: the renderer cuts at most 2 pieces
    a line it draws more than counted (a line across a pixel's corner)."""
    load = scene.edge_load()
    height = round(SIZE * scale)
    pieces, lines = _renderer_pieces(scene, scale)
    assert pieces <= load.crossings((scale, scale), (height, height)) + 2 * lines
    in_bands = [_renderer_pieces(scene, scale, (y0, min(height, y0 + rows))) for y0 in range(0, height, rows)]
    assert max(p for p, _ in in_bands) <= load.most_in_bands((scale, scale), (height, height), rows, 0) + 2 * lines


@pytest.fixture(scope="module")
def photo() -> Scene:
    return vectorize(skimage.data.astronaut(), rounds=(10, 30))


@pytest.mark.parametrize("size", [64, 256, 1024])
def test_a_vectorized_photos_count_is_near_its_pieces(photo, size):
    """~1100 paths of small curves: counted within 1-1.3x the pieces the renderer cuts, its lines as many as the
    renderer draws; a 512 px render is drawn in one piece (a worst case of 3 pieces a line counted 6x its pieces
    and drew it in bands, 5x slower on a GPU)."""
    scene = photo
    load, scale = scene.edge_load(), size / scene.width
    pieces, lines = _renderer_pieces(scene, scale, size=round(scene.width))
    assert load._lines((scale, scale)).sum() == pytest.approx(lines)
    assert pieces <= load.crossings((scale, scale), (size, size)) <= 1.3 * pieces
    assert plan_for(scene, 512, 512) is None


@pytest.mark.parametrize("join", ["miter", "round", "bevel"])
def test_a_wide_strokes_joins_are_counted(join):
    """A zigzag stroked 8 px wide with a miter limit of 10: its joins and their turns are a third of its pieces
    (the count holds them without the per-line slack, and is at most 4x them)."""
    points = " ".join(f"{5 + (i % 2) * 30} {4 + i * 3}" for i in range(11))
    scene = clipvg.load_svg(svg(f'<path d="M{points}" fill="none" stroke="red" stroke-width="8" '
                                f'stroke-linejoin="{join}" stroke-miterlimit="10"/>', f'width="{SIZE}" height="{SIZE}"'))
    pieces, _ = _renderer_pieces(scene, 1.0)
    assert pieces <= scene.edge_load().crossings((1.0, 1.0), (SIZE, SIZE)) <= 4 * pieces


def test_the_flattening_is_the_renderers():
    assert TOLERANCE == FLATTEN_TOLERANCE and crossings.MAX_SEGMENT_LINES == MAX_PIECES_PER_SEGMENT


def test_a_polygons_count_is_its_grid_crossings():
    """A 10 x 4 px rectangle: 2 x 10 + 2 x 4 px of edges, each edge one piece more."""
    scene = Scene.from_paths([Path([Subpath.polygon([[3, 5], [13, 5], [13, 9], [3, 9]])], fill=Solid((1, 0, 0, 1)))],
                             SIZE, SIZE)
    load = scene.edge_load()
    assert load.crossings((1.0, 1.0), (SIZE, SIZE)) == 2 * 10 + 2 * 4 + 4
    assert load.crossings((2.0, 1.0), (2 * SIZE, SIZE)) == 2 * 20 + 2 * 4 + 4
    assert load.crossings((1.0, 1.0), (6, SIZE)) == 2 * 6 + 2 * 4 + 4  # 6 columns: the rest is cut off
    # rows 4-5 (or 8-9): a long edge and the two sides, each crossing at most 2 rows there, each a piece more
    assert load.most_in_bands((1.0, 1.0), (SIZE, SIZE), 2, 0) == 10 + 1 + 2 * (2 + 1)
    assert load.excess((1.0, 1.0), (SIZE, SIZE)) == 0 and load.excess((1.0, 1.0), (SIZE, 1)) == 0
    # 20 x 1 px: its sides cross one row there; 26 pieces on 20 pixels
    assert load.excess((1.0, 1.0), (20, 1)) == pytest.approx(2 * 10 + 2 * 1 + 4 - 20 * COVERED_PER_PIXEL)
    assert crowding_bytes(10) == 10 * (crossings.CROSSING_BYTES + crossings.CROWDED_PIECE_BYTES)
    assert crowding_bytes(1e9, gradient=True) == 1e9 * crossings.GRADIENT_CROSSING_BYTES + crossings.GRADIENT_CROWDED_BYTES


def _zigzag(segments: int, paint: str = 'fill="none" stroke="red"') -> str:
    """A path folded over a 200 px canvas: ``segments`` lines, most of them 183 px tall."""
    points = " ".join(f"{i % 190} {(i * 7) % 190}" for i in range(segments + 1))
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><path d="M{points}" {paint}/></svg>'


def test_a_scribble_in_a_corner_of_a_large_canvas_is_crowded_however_empty_the_rest():
    """20 000 long segments in the 200 px corner of a 4000 px canvas: far under a piece a pixel over the canvas,
    but the path's own box holds 50 pieces a pixel: counted, drawn in bands of fewer rows than its pixels allow
    (1000 segments there: as many as they allow)."""
    document = _zigzag(20_000).replace('width="200" height="200"', 'width="4000" height="4000"')
    read = read_svg(document)
    load = read.edge_load()
    assert load.crossings((1.0, 1.0), (4000, 4000)) < COVERED_PER_PIXEL * 4000 * 4000 / 10
    assert load.excess((1.0, 1.0), (4000, 4000)) > 25 * 200 * 200  # beyond 4 a pixel of its box
    rows = tiling.TILE_BYTES // FLAT_PIXEL_BYTES // 4000  # the bands its pixels alone allow
    assert plan_for(read_svg(_zigzag(1000).replace('"200"', '"4000"')), 4000, 4000).rows == rows
    assert plan_for(read, 4000, 4000).rows < rows / 2


def test_a_files_count_before_torch_loads_is_its_scenes():
    document = svg('<path d="M1 2 C 30 40 5 60 40 40 Q 20 10 4 30 Z M50 5 60 5 55 20" stroke="blue" '
                   'stroke-width="3" stroke-miterlimit="7" fill="red"/><rect x="3" y="3" width="20" height="9"/>')
    read = read_svg(document)
    from_file, from_scene = read.edge_load(), read.to_scene().edge_load()
    for name in ("across", "down", "bend", "share", "times", "half_width", "reach", "top", "bottom", "by_bottom",
                 "corner_top", "corner_bottom", "corner_by_bottom", "corner_edge", "path", "box"):
        np.testing.assert_array_equal(getattr(from_file, name), getattr(from_scene, name), err_msg=name)


def test_a_folded_stroke_is_drawn_in_bands_of_rows_as_in_one_piece():
    """2000 long segments at 200 px: within the default limit (pieces included) it is drawn in one piece; under
    a limit its pieces exceed, in bands of rows, as in one piece."""
    scene = clipvg.load_svg(_zigzag(2000))
    white = (1.0, 1.0, 1.0)  # (straight RGBA's colour where nothing is drawn is no one's)
    whole = clipvg.render(scene, 200, background=white)
    assert plan_for(scene, 200, 200) is None
    tight = ResourceLimits(render_memory_bytes=int(working_bytes(scene, 200, 200) * 0.6) + (1 << 30))
    with using(tight):
        plan = plan_for(scene, 200, 200, reserved=1 << 30)
        assert plan is not None and plan.cols == 200 and plan.rows < 200  # bands: fewer rows, fewer pieces each
        banded = clipvg.render(scene, 200, background=white)
    # pixels crowded with pieces are cut at their crossings, or past a budget of work per drawing at fixed bands
    # (clipvg.render.self_overlap.CUT_PAIRS): one piece and its bands spend it differently
    torch.testing.assert_close(banded, whole, rtol=0, atol=1e-3)


def test_a_stroke_folded_too_often_is_refused_by_its_pieces_before_drawing():
    """150 000 segments across 200 px (9.6 GB drawn in one piece): an edit, and a render at twice the size (whose
    smallest band of rows does not fit), are refused before anything is drawn, and the error says why."""
    read = read_svg(_zigzag(150_000))
    with pytest.raises(ResourceLimitError, match="pieces at the pixel grid of 200x200") as refused:
        check_edit_canvas(read, "zigzag.svg")
    assert refused.value.limit == "memory_bytes"
    with pytest.raises(ResourceLimitError, match="pieces at the pixel grid of 400x400") as refused:
        clipvg.render(read.to_scene(), 400)
    assert refused.value.limit == "render_memory_bytes"


def test_edge_loads_of_empty_and_pointless_paths_count_nothing():
    empty = EdgeLoad.of(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64),
                        np.zeros(0, np.int64), np.zeros(1, bool), np.zeros(1), np.full(1, 4.0))
    assert empty.crossings((1.0, 1.0), (64, 64)) == 0 and empty.most_in_bands((1.0, 1.0), (64, 64), 8, 2) == 0
