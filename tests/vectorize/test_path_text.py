"""The vectorizer's compiled path data writes the SVG writer's bytes (``path_writer.path_data``,
itself checked against per-number printf in tests/clipvg/test_svg_write.py)."""
from __future__ import annotations

import numpy as np
import pytest

from clipvg.scene import Subpath
from clipvg.svg import path_writer
from clipvg.svg.path_writer import decimal, paths_to_svg_string
from vectorize import vectorize_paths
from vectorize.path_text import chunk_data


@pytest.mark.parametrize("precision", [0, 1, 2, 4, 8, 9])
def test_compiled_path_data_matches_the_writer(precision, monkeypatch, writer_test_paths):
    monkeypatch.setattr(path_writer, "CHUNK", 64)  # many chunks, one of them past the batch
    paths = writer_test_paths(np.random.default_rng(precision), precision, 40, 23, 5)
    assert (list(path_writer.path_data(paths, precision, chunk_data))
            == list(path_writer.path_data(paths, precision)))
    # and a number as the per-number formatter writes it, in a closed cubic
    square = Subpath(np.array([[0.5, -1e-10], [1.25, 2.0], [3.0, 4.0]], np.float32), np.array([3]))
    assert chunk_data([[square]], precision)[0] == (
        f"M{decimal(0.5, precision)} 0 C{decimal(1.25, precision)} 2 3 4 {decimal(0.5, precision)} 0 Z")


def test_vectorized_svg_is_the_writers_document():
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(0.5, 0.2, (40, 48, 3)), 0, 1).astype(np.float32)
    result = vectorize_paths(image, paths=30, max_size=None)
    assert result.svg_string() == paths_to_svg_string(result.paths, result.width, result.height,
                                                      result.layer_names)


def test_saved_svg_is_the_string_streamed(tmp_path):
    """``save_svg`` streams the document through a temporary file: the same bytes as the string,
    gradients (collected while the layers are written) in the head, empty layers kept."""
    image = np.zeros((30, 40, 4), np.float32)
    image[..., 0] = np.linspace(0, 1, 40)[None, :]  # a ramp: gradient fills
    image[..., 1] = np.linspace(0, 1, 30)[:, None]
    image[..., 3] = 1.0
    image[5:12, 5:15, 3] = 0.0  # a transparent hole
    result = vectorize_paths(image, paths=12, max_size=None)
    result.layer_names.append("empty & <late>")
    result.save_svg(tmp_path / "out.svg")
    written = (tmp_path / "out.svg").read_bytes()
    assert written == (path_writer.XML_DECLARATION + result.svg_string()).encode()
    assert b"Gradient" in written and b'inkscape:label="empty &amp; &lt;late&gt;"' in written
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"]
