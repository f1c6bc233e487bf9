"""The compiled kernels of the budgeted vectorizer against plain numpy / scikit-image references."""
import numpy as np
import pytest
from scipy.optimize import least_squares
from skimage.measure import label
from skimage.segmentation import felzenszwalb

from vectorize.felzenszwalb import segment
from vectorize.fills import _rank_one
from vectorize.heap_merge import row_error
from vectorize.merge import Layout, merge_levels, pixel_ridge
from vectorize.pixel_sums import adjacent_pairs, region_counts, region_extremes, region_sums

from vectorize_images import photo


def features_of(height: int, width: int) -> np.ndarray:
    """(H, W, 3) coordinate features (x, y, x² + y²) as pixel_sums defines them."""
    scale = 2.0 / max(height, width)
    ys, xs = np.mgrid[0:height, 0:width]
    x = (xs + 0.5) * scale - width * scale / 2
    y = (ys + 0.5) * scale - height * scale / 2
    return np.stack([x, y, x * x + y * y], axis=-1)


def test_region_sums_match_bincount():
    rng = np.random.default_rng(0)
    labels = rng.integers(-1, 5, (9, 13))
    colours = rng.random((9, 13, 3))
    f = features_of(9, 13)
    sums = region_sums(labels, 5, colours, 3)
    for r in range(5):
        at = labels == r
        c, g = colours[at], f[at]
        expected = np.concatenate([[at.sum()], c.sum(0), [(c ** 2).sum()], g.sum(0), (g.T @ g).ravel(), (g.T @ c).ravel()])
        np.testing.assert_allclose(sums[r], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.int16, np.int32])
def test_region_counts_match_bincount(dtype):
    labels = np.random.default_rng(2).integers(-1, 7, (11, 17)).astype(dtype)
    labels[labels == 5] = 6  # a region with no pixels counts 0
    counts = region_counts(labels, 8)
    assert counts.dtype == np.int64
    assert counts.tolist() == np.bincount(labels[labels >= 0], minlength=8).tolist()


@pytest.mark.parametrize("dtype", [np.int16, np.int32])
def test_adjacent_pairs_are_the_unique_sorted_pairs_of_4_neighbours(dtype):
    rng = np.random.default_rng(3)
    labels = rng.integers(-1, 40, (23, 31)).astype(dtype)
    labels[5:12, 7:20] = 7  # a region with long boundaries: repeated pairs
    pairs = set()
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        differ = (a != b) & (a >= 0) & (b >= 0)
        pairs |= {(min(p, q), max(p, q)) for p, q in zip(a[differ].tolist(), b[differ].tolist())}
    first, second = adjacent_pairs(labels, 40)
    assert first.dtype == second.dtype == np.int32
    assert list(zip(first.tolist(), second.tolist())) == sorted(pairs)
    none = adjacent_pairs(np.zeros((4, 5), dtype), 1)  # one region: no pairs
    assert len(none[0]) == len(none[1]) == 0


def test_rank_one_fits_each_region_on_its_own():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 12, (20, 24))
    stats = region_sums(labels, 12, rng.random((20, 24, 3)), 3)
    n, colour, _, fsum, ff, fc = Layout(3, 3).split(stats)
    every = _rank_one(np.arange(12), n, colour, fsum, ff, fc, 0.01)
    rows = np.array([1, 4, 5, 10])
    some = _rank_one(rows, n, colour, fsum, ff, fc, 0.01)
    others = np.setdiff1d(np.arange(12), rows)
    for full, part in zip(every[:3], some[:3]):  # reduction, colour direction, weights
        assert np.array_equal(part[rows], full[rows])  # bit for bit: the regions left out change nothing
        assert not part[others].any()
    assert np.array_equal(some[3], every[3]) and every[0][rows].min() > 0


@pytest.mark.parametrize("features", [2, 3])
def test_rank_one_matches_the_svd_of_the_whitened_cross_covariance(features):
    rng = np.random.default_rng(5)
    height, width = 40, 48
    labels = rng.integers(0, 30, (height, width))
    f = features_of(height, width)
    colours = 0.5 + 0.3 * np.sin(3 * f[..., :1]) * np.array([1.0, 0.5, -0.3]) + 0.05 * rng.random((height, width, 3))
    n, colour, _, fsum, ff, fc = Layout(3, 3).split(region_sums(labels, 30, colours, 3))
    fsum, ff, fc = fsum[:, :features], ff[:, :features, :features], fc[:, :features]
    reduction, b, gamma, _ = _rank_one(np.arange(30), n, colour, fsum, ff, fc, 0.01)
    # numpy reference: Cholesky of the centred covariance, SVD of L^-1 cross, gamma = s L^-T a
    cov = ff - fsum[:, :, None] * fsum[:, None, :] / n[:, None, None] + 0.01 * n[:, None, None] * np.eye(features)
    cross = fc - fsum[:, :, None] * colour[:, None, :] / n[:, None, None]
    chol = np.linalg.cholesky(cov)
    u, sigma, vt = np.linalg.svd(np.linalg.solve(chol, cross))
    expected_gamma = np.linalg.solve(np.swapaxes(chol, 1, 2), (sigma[:, :1] * u[:, :, 0])[..., None])[..., 0]
    np.testing.assert_allclose(reduction, sigma[:, 0] ** 2, rtol=1e-12)
    # the direction's sign is free: the model b gamma^T is what the fills use
    np.testing.assert_allclose(b[:, :, None] * gamma[:, None, :], vt[:, 0, :, None] * expected_gamma[:, None, :],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, rtol=1e-12)


def test_row_error_is_the_least_squares_error_of_the_gradient_model():
    rng = np.random.default_rng(1)
    height, width = 7, 9
    f = features_of(height, width)[..., :2].reshape(-1, 2)
    colours = 0.5 + 0.3 * np.outer(f @ [0.7, -0.4], [1.0, 0.5, -0.2]) + 0.05 * rng.standard_normal((len(f), 3))
    row = region_sums(np.zeros((height, width), np.int64), 1, colours.reshape(height, width, 3), 2)[0]
    flat = ((colours - colours.mean(0)) ** 2).sum()
    assert abs(row_error(row, 3, 0, 0.0) - flat) < 1e-9
    # Brute force: c(p) = m + b (g . (f(p) - mean f)) fitted by nonlinear least squares (no ridge).
    centred = f - f.mean(0)

    def residual(theta):
        m, b, g = theta[:3], theta[3:6], theta[6:]
        return (colours - m - np.outer(centred @ g, b)).ravel()

    best = least_squares(residual, np.r_[colours.mean(0), 1.0, 0.5, -0.2, 0.2, -0.1]).fun
    assert abs(row_error(row, 3, 2, 0.0) - (best ** 2).sum()) < 1e-6 * flat
    assert (best ** 2).sum() < 0.3 * flat  # the gradient explains most of the colour
    # The ridge (one pixel's coordinate variance) only damps the gradient a little.
    assert (best ** 2).sum() < row_error(row, 3, 2, pixel_ridge(height, width)) < 1.1 * (best ** 2).sum()


def test_merging_recovers_flat_blocks():
    blocks = np.kron(np.arange(6).reshape(2, 3), np.ones((8, 8), int))
    palette = np.random.default_rng(2).random((6, 3))
    colours = palette[blocks]
    initial = np.arange(blocks.size).reshape(blocks.shape)  # every pixel its own region
    layout = Layout(3, 2)
    stats = region_sums(initial, blocks.size, colours, 2)
    six, one = merge_levels(initial, stats, layout, pixel_ridge(*blocks.shape), [6, 1])
    merged = six[initial]
    assert len(np.unique(merged)) == 6
    for b in range(6):  # each block is exactly one merged region
        assert len(np.unique(merged[blocks == b])) == 1
    assert (one == 0).all()


def test_felzenszwalb_matches_scikit_image_and_keeps_to_the_mask():
    image = photo("chelsea", 128)[..., :3].astype(np.float64)
    mask = np.ones(image.shape[:2], bool)
    ours = segment(image, mask, 8.0, 0.5, 3)
    theirs = label(felzenszwalb(image, scale=8.0, sigma=0.5, min_size=3) + 1, connectivity=1)
    assert abs((ours.max() + 1) - theirs.max()) <= 0.02 * theirs.max()
    # 4-connected segments (the tracing's connectivity): labelling them again splits nothing.
    assert label(ours + 1, connectivity=1).max() == ours.max() + 1
    mask[:, :40] = False
    masked = segment(image, mask, 8.0, 0.5, 3)
    assert (masked[~mask] == -1).all() and (masked[mask] >= 0).all()
    assert label(masked + 1, connectivity=1, background=0).max() == masked.max() + 1


def test_region_extremes_match_numpy():
    rng = np.random.default_rng(3)
    labels = rng.integers(-1, 4, (10, 12))
    f = features_of(10, 12)[..., :2]
    origin, direction = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    for radial in (False, True):
        low, high = region_extremes(labels, origin, direction, radial)
        for r in range(4):
            d = f[labels == r] - origin[r]
            values = np.linalg.norm(d, axis=1) if radial else d @ direction[r]
            assert np.isclose(low[r], values.min()) and np.isclose(high[r], values.max())


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 5, 3), (7, 1, 4), (37, 53, 3)])
@pytest.mark.parametrize("sigma", [0.3, 0.5, 1.2])
def test_gaussian_blur_is_scipy_bit_for_bit(shape, sigma):
    """The compiled blur gives scipy.ndimage.gaussian_filter's float32 values exactly (mirrored
    edges, lines shorter than the kernel, a strided view as the segmentation passes it)."""
    from scipy.ndimage import gaussian_filter

    from vectorize.felzenszwalb import gaussian_blur

    rgba = np.random.default_rng(7).random(shape[:2] + (shape[2] + 1,), dtype=np.float32)
    image = rgba[..., :shape[2]]  # a view with a stride, like the RGB of an RGBA picture
    assert np.array_equal(gaussian_blur(image, sigma), gaussian_filter(np.ascontiguousarray(image), (sigma, sigma, 0)))
