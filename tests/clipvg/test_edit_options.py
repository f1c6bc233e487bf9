"""Parameter subsets and edit settings."""
from __future__ import annotations

import pytest

from clipvg.edit import EditOptions, Params
from clipvg.errors import InvalidInputError


@pytest.mark.parametrize("value, expected", [
    ("all", Params(points=True, colors=True, stroke_widths=False)),
    ("colors_only", Params(points=False, colors=True, stroke_widths=False)),
    ("colors-only", Params(points=False, colors=True, stroke_widths=False)),
    ("shapes_only", Params(points=True, colors=False, stroke_widths=True)),
    ("points,stroke_widths", Params(points=True, colors=False, stroke_widths=True)),
    (["colors_only", "region_only"], Params(points=False, colors=True, region_only=True)),
    ("region_only", Params(points=True, colors=True, region_only=True)),
])
def test_params_parse(value, expected):
    assert Params.parse(value) == expected


@pytest.mark.parametrize("value, message", [
    ("sparkles", "unknown parameter subset"),
    ("colors_only,shapes_only", "conflicting"),
    ("all,points", "conflicting"),
])
def test_params_errors(value, message):
    with pytest.raises(InvalidInputError, match=message):
        Params.parse(value)


def test_rois_from_pairs_dicts_and_objects():
    import losses

    options = EditOptions("a cat", rois=[((1.4, 2, 10, 20), "a hat"),
                                         {"prompt": "a dog", "box": (0, 0, 5, 5), "w_patch": 10.0},
                                         losses.ROI("a bird", box=(3, 3, 4, 4), num_patches=2)],
                          num_patches=16)
    canvas, pair, mapping, roi = options.build_rois()
    assert canvas.box is None and canvas.prompt == "a cat" and canvas.num_patches == 16
    assert pair.box == (1, 2, 10, 20) and pair.num_patches == 16
    assert mapping.w_patch == 10.0 and mapping.num_patches == 16
    assert roi.num_patches == 2
    with pytest.raises(InvalidInputError, match="cannot read ROI"):
        EditOptions("a cat", rois=["a hat"]).build_rois()


def test_validation_and_fingerprint():
    with pytest.raises(InvalidInputError, match="prompt is empty"):
        EditOptions(" ")
    with pytest.raises(InvalidInputError, match="iterations"):
        EditOptions("a cat", iterations=-1)
    base = EditOptions("a cat", iterations=10, device="cpu").fingerprint()
    assert base == EditOptions("a cat", iterations=99).fingerprint()  # iterations and device do not count
    assert base != EditOptions("a cat", seed=1).fingerprint()
    assert base != EditOptions("a cat", params="colors_only").fingerprint()


def test_a_decoded_mask_has_the_digest_of_its_file(tmp_path):
    """A region mask handed on decoded (``clipvg.input_check.check_raster``) fingerprints as its path always did,
    the first 16 hex digits of the SHA-256 of the file's bytes, so a checkpoint written from the path resumes; the
    pixels do not count (nor are they taken)."""
    import hashlib

    from PIL import Image

    from clipvg.input_check import check_raster

    path = tmp_path / "mask.png"
    Image.new("L", (6, 4), 255).save(path)
    read = check_raster(path)
    fingerprint = EditOptions("a cat", region_mask=read).fingerprint()
    assert fingerprint == EditOptions("a cat", region_mask=str(path)).fingerprint()
    assert fingerprint["region_mask"] == hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    assert read.pixels is not None
