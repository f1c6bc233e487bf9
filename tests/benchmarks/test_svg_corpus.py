"""benchmarks/svg_corpus.py: one file measured against resvg at 1x, 4x and 16x, and the rule that tells
a file drawn as accurately as resvg from one drawn differently."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import resvg_py

ROOT = Path(__file__).parents[2]
sys.path.append(str(ROOT / "benchmarks"))  # last: its losses.py and vectorize.py must not hide the packages

import svg_corpus as bench  # noqa: E402

# many thin edges on fractional pixels: a 4x reference quantises them, a 16x one much less
STARBURST = """<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
  <path d="M50 90 L78.8 22.2 L10.03 48.5 L76.7 79.8 L52.9 10.1 L19.3 75.6 L89.8 54.4 L25.6 18.3 Z"
        fill="#e0c040" stroke="#203080" stroke-width="0.7"/>
</svg>"""
# the same shape twice: the top one hides the bottom one except where per-shape coverage blends the seam
SEAM = """<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
  <circle cx="50.3" cy="50.3" r="30.4" fill="#000000"/><circle cx="50.3" cy="50.3" r="30.4" fill="#ffffff"/>
</svg>"""


def measured(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "picture.svg"
    path.write_text(text)
    result = bench.measure(str(path))
    assert result["error"] is None
    return result


def test_box_down_is_the_block_mean():
    image = np.arange(4 * 6 * 3, dtype=float).reshape(4, 6, 3)
    down = bench._box_down(image, 2, 3, 2)
    assert down.shape == (2, 3, 3)
    np.testing.assert_allclose(down[1, 2], image[2:4, 4:6].mean((0, 1)))


def test_fine_reference_is_closer_to_exact_coverage(tmp_path):
    result = measured(tmp_path, STARBURST)
    # clipvg's exact coverage is nearer the 16x picture than the 4x one, and nearer than resvg's own 1x
    assert result["psnr_fine"] > result["psnr_ss"]
    assert result["psnr_fine"] > result["resvg_psnr_fine"]
    assert result["psnr_fine"] >= 40
    assert bench.as_accurate_as_resvg(result)


def test_a_seam_between_coincident_shapes_is_shared_with_resvg(tmp_path, monkeypatch):
    monkeypatch.setattr("clipvg.samples.EXPORT_SAMPLES", 1)  # the headline at one sample, as the renderer draws
    result = measured(tmp_path, SEAM)
    # supersampled resvg draws no seam (each sample is inside both circles or neither); clipvg and resvg at
    # 1x both blend the black circle into the white one's edge pixels, as browsers do
    assert result["psnr_fine"] < 40 and result["resvg_psnr_fine"] < 40
    assert abs(result["psnr_fine"] - result["resvg_psnr_fine"]) < 0.5
    assert bench.as_accurate_as_resvg(result) == (result["psnr_fine"] >= result["resvg_psnr_fine"])
    # clipvg supersampled itself loses the seam: the file is classed as one
    assert result["psnr_fine_clipvg_ss"] >= 40 and result["class"] == "seam"
    assert result["psnr_fine_clipvg_seam"] == result["psnr_fine_clipvg_ss"]  # no 8 x 8 render needed
    assert result["by_samples"]["2"]["psnr_fine"] >= 40  # clipvg render's default export draws no seam


def test_overlap_within_one_path_is_exact(tmp_path):
    # one path drawing the same thin line twice: per-sample winding (resvg) covers it once, and so does
    # clipvg's exact nonzero coverage (render/self_overlap.py; the signed per-pixel area counted it twice)
    result = measured(tmp_path, """<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
      <path d="M10 10 L90 83 M10 10 L90 83" fill="none" stroke="#000" stroke-width="0.3"/></svg>""")
    assert result["resvg_psnr_fine"] >= 40 and result["psnr_fine"] >= 40
    assert result["class"] == "exact"


def test_an_edge_residual_resvg_lacks_at_1x_is_a_coverage_difference():
    # gone when clipvg supersamples itself, and resvg's 1x picture is closer to the fine reference
    result = {"psnr": 35.0, "psnr_fine": 36.0, "psnr_fine_clipvg_seam": 45.0, "resvg_psnr_fine": 42.0}
    assert bench.classify(result, b"<svg><path/></svg>") == "coverage"
    assert bench.classify(dict(result, resvg_psnr_fine=35.0), b"<svg><path/></svg>") == "seam"


def test_seams_that_need_more_than_4_x_4_samples_are_seams():
    # shapes sharing most of their edges (openclipart's camicia_in_seta_architet_01: 37.8 dB from the fine
    # reference at 4 x 4 samples, 47.1 at 8 x 8) are told from real differences at 8 x 8 samples
    result = {"psnr": 26.4, "psnr_fine": 30.5, "psnr_fine_clipvg_ss": 37.8, "psnr_fine_clipvg_seam": 47.1,
              "resvg_psnr_fine": 23.3}
    assert bench.classify(result, b"<svg><path/></svg>") == "seam"


def test_a_real_difference_is_not_called_a_seam(tmp_path):
    # a residual that supersampling clipvg does not remove is a real difference (or text), not a seam
    result = measured(tmp_path, STARBURST)
    wrong = dict(result, psnr=25.0, psnr_fine=25.0, psnr_fine_clipvg_seam=25.5)
    assert bench.classify(wrong, b"<svg><path/></svg>") == "other"
    assert bench.classify(wrong, b"<svg><svg:text>A</svg:text></svg>") == "text"
    assert bench.classify(result, STARBURST.encode()) == "exact"


def test_a_missing_font_falls_back_to_the_same_face_in_both(tmp_path):
    # resvg-py's own fallback ("Times New Roman") is not installed here and would draw no text at all
    result = measured(tmp_path, """<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">
      <text x="4" y="30" font-family="No Such Font" font-size="24">Fallback</text></svg>""")
    assert result["psnr_ss"] >= 30 and bench.as_accurate_as_resvg(result)


def test_the_accuracy_rule():
    assert bench.as_accurate_as_resvg({"psnr_fine": 40.0, "resvg_psnr_fine": 45.0})
    assert bench.as_accurate_as_resvg({"psnr_fine": 31.0, "resvg_psnr_fine": 30.0})
    assert not bench.as_accurate_as_resvg({"psnr_fine": 39.0, "resvg_psnr_fine": 45.0})
    assert not bench.as_accurate_as_resvg({"psnr_fine": 29.0, "resvg_psnr_fine": 30.0})


def test_summary_counts_and_orders_the_worst(tmp_path):
    good = measured(tmp_path, STARBURST)
    bad = dict(good, file="bad.svg", psnr_fine=30.0, resvg_psnr_fine=45.0)
    summary = bench.summarize("two", [good, bad])
    assert summary["files"] == 2 and summary["errors"] == 0
    assert summary["share_as_accurate_as_resvg"] == 0.5 and summary["share_40_fine"] == 0.5
    assert summary["worst"][0] == ("bad.svg", 30.0, 45.0)


def test_reference_reads_a_bare_space_attribute_as_browsers_do(tmp_path):
    # resvg takes space="preserve" (no xml: prefix, as old Inkscape wrote it) for xml:space and draws the
    # indentation before the word; the reference source renames it, so the word starts at x as in Chromium
    text = """<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text space="preserve" x="4" y="30"
      font-size="24" font-family="DejaVu Sans">
        <tspan>Ab</tspan></text></svg>"""
    result = measured(tmp_path, text)
    assert b"data-space=" in bench.reference_source(str(tmp_path / "picture.svg"))
    assert result["psnr_ss"] >= 30 and result["psnr"] >= 30


def test_files_under_40_db_are_counted_by_what_would_pass_them():
    # numpy PSNRs, as measure() gives them: the counts must still be plain ints for the JSON
    rows = [{"psnr_ss": 45.0}, {"psnr_ss": 35.0, "psnr": 41.0, "resvg_psnr_ss": 34.0},
            {"psnr_ss": 30.0, "psnr": 31.0, "resvg_psnr_ss": 42.0}]
    rows = [{key: np.float64(value) for key, value in row.items()} for row in rows]
    counts = bench.below_40_ss(rows)
    assert counts == {"files": 2, "pass_vs_resvg_1x": 1, "resvg_1x_also_below_40": 1, "clipvg_at_least_resvg_1x": 1}
    assert json.loads(json.dumps(counts)) == counts


# a canvas of fractional size filled to its edges: resvg-py draws it at zoom k on round(100) x k px
EDGE_TO_EDGE = """<svg xmlns="http://www.w3.org/2000/svg" width="100.4" height="50.3" viewBox="0 0 100.4 50.3">
  <rect width="100.4" height="50.3" fill="#204080"/></svg>"""


def test_references_cover_a_fractional_canvas_to_its_edges(tmp_path):
    # drawn at zoom 16 x 1.275, resvg's canvas is 2040 px wide where 2048 are needed: the last column of the
    # fine reference came back half white (32.9 dB)
    result = measured(tmp_path, EDGE_TO_EDGE)
    assert result["psnr_fine"] >= 60 and result["psnr_ss"] >= 60 and result["psnr"] >= 60


def test_the_reference_canvas_keeps_the_drawing_in_place():
    # a whole-px canvas: resvg-py's own zoom draws it exactly, and the rewritten root draws it the same, 2 px wider
    star = STARBURST.encode()
    plain = bench._on_white(bytes(resvg_py.svg_to_bytes(svg_string=STARBURST, zoom=1.28 * 4)))
    source, base = bench.reference_canvas(star, 1.28, 128, 128)
    assert base == 1.0 and b'width="130" height="130" viewBox="0.0 0.0 101.5625 101.5625"' in source
    grown = bench._on_white(bytes(resvg_py.svg_to_bytes(svg_string=source.decode(), zoom=4)))
    assert grown.shape == (520, 520, 3) and np.abs(grown[:512, :512] - plain).max() < 1e-9
    for kept in (b'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="50"/>',
                 b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="5" viewBox="0 0 10 10"/>'):
        assert bench.reference_canvas(kept, 2.0, 20, 10) == (kept, 2.0)  # a relative size; an aligned viewBox
