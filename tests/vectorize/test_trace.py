import numpy as np
from skimage.measure import label

from clipvg.scene import Path, Scene, Solid, Subpath
from vectorize.metrics import render_rgba
from vectorize.trace import trace_regions

COLOURS = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1], [1, 1, 0, 1], [0, 0, 0, 1]], np.float32)


def scene_of(labels: np.ndarray, tolerance: float = 0.7) -> Scene:
    contours = trace_regions(labels, tolerance)
    paths = [Path([Subpath(c, np.full(len(c) // 3, 3)) for c in loops], fill=Solid(tuple(COLOURS[r % 5])))
             for r, loops in enumerate(contours) if loops]
    return Scene.from_paths(paths, labels.shape[1], labels.shape[0])


def test_blocky_partition_is_reproduced_without_cracks():
    rng = np.random.default_rng(1)
    labels = np.kron(rng.integers(0, 4, (6, 8)), np.ones((6, 6), int))
    labels = label(labels + 1, background=0, connectivity=1) - 1
    image = render_rgba(scene_of(labels))
    expected = COLOURS[labels % 5]
    assert np.abs(image - expected).max() < 1e-3  # exact: axis-aligned boundaries, shared, no cracks


def test_neighbours_share_identical_boundary_curves():
    labels = np.zeros((30, 30), int)
    yy, xx = np.mgrid[:30, :30]
    labels[(yy - 15) ** 2 + (xx - 12) ** 2 < 80] = 1
    labels[(yy > 18) & (xx > 10)] = 2
    contours = trace_regions(labels, 0.7)
    points = [{tuple(p) for p in np.concatenate(loops)} for loops in contours]
    shared = points[0] & points[1]
    assert len(shared) > 10  # the disc's boundary with the background is one curve for both
    alpha = render_rgba(scene_of(labels))[..., 3]
    assert alpha.min() > 0.74  # only anti-aliasing conflation on boundaries, never a crack


def test_hole_is_a_second_contour_with_opposite_winding():
    labels = np.zeros((20, 20), int)
    labels[5:15, 5:15] = 1
    labels[8:12, 8:12] = -1
    contours = trace_regions(labels, 0.5)
    assert len(contours[1]) == 2
    outer, hole = contours[1]

    def area(c):
        x, y = c[:, 0], c[:, 1]  # control polygon: its area has the curve's winding sign
        return 0.5 * (x * np.roll(y, -1) - np.roll(x, -1) * y).sum()

    assert area(outer) > 0 > area(hole)
    image = render_rgba(scene_of(labels))
    assert image[10, 10, 3] < 1e-3 and image[6, 6, 3] > 0.999


def test_diagonal_pixels_stay_apart():
    checker = np.kron(np.indices((5, 5)).sum(0) % 2, np.ones((3, 3), int))  # saddles at block corners
    regions = label(checker + 1, background=0, connectivity=1) - 1
    image = render_rgba(scene_of(regions, tolerance=0.3))
    assert np.abs(image - COLOURS[regions % 5]).max() < 1e-3


def test_successors_follow_each_region_turning_right_first():
    """The merge walk along direction blocks finds what a per-vertex table of edges finds: the next
    edge of the same region leaving an edge's end, right turn before straight before left; edges out
    of block order are refused."""
    import pytest

    from vectorize.loops import _DX, _DY, boundary_edges, successors

    rng = np.random.default_rng(3)
    labels = rng.integers(-1, 3, (23, 31))  # speckle: saddles, holes, -1 (no region) around regions
    stride = labels.shape[1] + 1
    start, direction, owner = boundary_edges(labels)
    table = {(int(s), int(d)): i for i, (s, d) in enumerate(zip(start, direction))}
    expected = np.full(len(start), -1)
    for i, (s, d) in enumerate(zip(start.tolist(), direction.tolist())):
        end = s + _DX[d] + _DY[d] * stride
        for turn in (1, 0, 3):
            j = table.get((end, (d + turn) % 4), -1)
            if j >= 0 and owner[j] == owner[i]:
                expected[i] = j
                break
    vertices = (labels.shape[0] + 1) * stride
    found = successors(start, direction, owner, stride, vertices)
    assert np.array_equal(found, expected) and (found >= 0).all()  # every boundary edge continues
    with pytest.raises(ValueError, match="direction blocks"):
        successors(start[::-1].copy(), direction[::-1].copy(), owner[::-1].copy(), stride, vertices)


def test_boundary_edges_and_junctions_match_their_definition():
    """The compiled scans give, on speckle with -1 pixels, what the definitions say pixel by pixel:
    a pixel side is an edge where the neighbour across it (-1 outside) differs, blocks by side in
    raster order; a lattice vertex is a junction where 3+ of its 4 pixels' labels differ, or 2 in a
    diagonal saddle."""
    from vectorize.loops import boundary_edges, junctions

    rng = np.random.default_rng(5)
    labels = rng.integers(-1, 4, (17, 29)).astype(np.int32)
    height, width = labels.shape
    padded = np.pad(labels, 1, constant_values=-1)
    expected = []
    corners = ((0, 0), (1, 0), (1, 1), (0, 1))  # (x, y) of the start of the top, right, bottom, left side
    for d, (dy, dx) in enumerate(((-1, 0), (0, 1), (1, 0), (0, -1))):
        for y in range(height):
            for x in range(width):
                if labels[y, x] >= 0 and padded[y + 1 + dy, x + 1 + dx] != labels[y, x]:
                    expected.append(((y + corners[d][1]) * (width + 1) + x + corners[d][0], d, labels[y, x]))
    start, direction, owner = boundary_edges(labels)
    assert list(zip(start.tolist(), direction.tolist(), owner.tolist())) == expected
    found = junctions(labels)
    for y in range(height + 1):
        for x in range(width + 1):
            tl, tr, bl, br = padded[y, x], padded[y, x + 1], padded[y + 1, x], padded[y + 1, x + 1]
            saddle = tl == br and tr == bl and tl != tr
            assert found[y, x] == (len({tl, tr, bl, br}) >= 3 or saddle), (y, x)


def test_walked_loops_have_their_shoelace_area_and_cover_each_region():
    """Each loop's twice signed area (followed along its unit steps) is the shoelace sum of its
    vertices; per region the loops' areas add up to twice its pixel count (holes count negative)."""
    from vectorize.loops import boundary_edges, junctions, successors, walk_loops

    rng = np.random.default_rng(7)
    labels = rng.integers(-1, 3, (19, 27)).astype(np.int32)
    height, width = labels.shape
    stride = width + 1
    start, direction, owner = boundary_edges(labels)
    successor = successors(start, direction, owner, stride, (height + 1) * stride)
    loop_edge, area2 = walk_loops(successor, start, junctions(labels).ravel(), stride)[:2]
    per_region = np.zeros(3, np.int64)
    for first, area in zip(loop_edge.tolist(), area2.tolist()):
        ring, edge = [], first
        while not ring or edge != first:
            ring.append(start[edge])
            edge = successor[edge]
        x, y = np.array(ring) % stride, np.array(ring) // stride
        assert area == int((x * np.roll(y, -1) - np.roll(x, -1) * y).sum())
        per_region[owner[first]] += area
    assert per_region.tolist() == [2 * int((labels == r).sum()) for r in range(3)]
