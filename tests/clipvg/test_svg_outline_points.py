"""A stroke outlined when the Scene is built (under a skew, a non-uniform scale, or painted with a pattern) counts
against the points limits by its bound while reading (``clipvg.svg.pending.check_outline_points``): a file over
them is refused before torch loads, naming the element, the limit and its flag; one within them renders."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest

from bad_corpus import _outline_points_cases
from clipvg.cli import main
from clipvg.errors import SVGParseError
from clipvg.limits import ResourceLimits, using
from clipvg.svg.reader import read_svg


def zigzag(vertices: int, transform: str = "skewX(20)", stroke: str = "red") -> str:
    """A round-joined polyline of ``vertices`` points whose stroke is outlined (``transform`` non-uniform)."""
    points = " ".join(f"{(i * 3) % 97} {(i * 7) % 89}" for i in range(vertices))
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><defs><pattern id="p" width="4" '
            'height="4" patternUnits="userSpaceOnUse"><rect width="2" height="4"/></pattern></defs>'
            f'<path id="zig" d="M{points}" fill="none" stroke="{stroke}" stroke-width="6" stroke-linejoin="round" '
            f'stroke-linecap="round" transform="{transform}"/></svg>')


RENDER = """
import sys
from clipvg.cli import main
print(main(["render", sys.argv[1], "-o", "out.png"]), "torch" in sys.modules)
"""


@pytest.mark.parametrize("transform, stroke", [("skewX(20)", "red"), ("scale(1 0.5)", "red"), ("", "url(#p)")])
def test_a_file_whose_outline_is_over_points_per_path_is_refused_before_torch(tmp_path, transform, stroke):
    """30 000 vertices: a path data count under the limit (200 000), an outline bounded over it."""
    (tmp_path / "zig.svg").write_text(zigzag(30_000, transform, stroke))
    done = subprocess.run([sys.executable, "-c", RENDER, "zig.svg"], capture_output=True, text=True, check=True,
                          cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"], (done.stdout, done.stderr)
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1 and not (tmp_path / "out.png").exists()
    assert ("the bound on the point count of the stroke outline of <path id='zig'>" in message
            and "over the points_per_path limit" in message and "--max-points-per-path N" in message), message


def test_a_file_just_within_the_limits_renders_and_one_point_over_is_refused(tmp_path, capsys):
    (tmp_path / "zig.svg").write_text(zigzag(400))
    read = read_svg(tmp_path / "zig.svg")
    bound = read.outlines[0].point_bound()
    total = bound + sum(len(s.points) for p in read.paths if p is not read.outlines[0].path for s in p.subpaths)
    argv = ["render", str(tmp_path / "zig.svg"), "-o", str(tmp_path / "out.png")]
    assert main(argv + ["--max-points-per-path", str(bound), "--max-points", str(total)]) == 0
    assert (tmp_path / "out.png").exists()
    capsys.readouterr()
    assert main(argv + ["--max-points-per-path", str(bound - 1)]) == 2
    assert "over the points_per_path limit" in capsys.readouterr().err
    assert main(argv + ["--max-points", str(total - 1)]) == 2
    assert "the point count of all paths, stroke outlines by their bound, is" in capsys.readouterr().err


def test_the_bound_is_over_the_outlines_points():
    """What the tally counts is at least what the Scene gets."""
    read = read_svg(zigzag(400))
    bound = read.outlines[0].point_bound()
    scene = read.to_scene()
    outline = scene.path(len(read.paths) - 1)
    assert sum(len(s.points) for s in outline.subpaths) <= bound


def test_every_outline_counts_in_the_documents_total():
    """Two outlines: the document's points are the other paths' points and both bounds."""
    twice = zigzag(400).replace("</svg>", '<path d="M0 0L5 5" stroke="blue" transform="skewY(9)"/></svg>')
    read = read_svg(twice)
    assert len(read.outlines) == 2
    standing = [outline.path for outline in read.outlines]
    total = sum(o.point_bound() for o in read.outlines) + sum(
        len(s.points) for p in read.paths if not any(p is q for q in standing) for s in p.subpaths)
    with using(ResourceLimits(points=total)):
        read_svg(twice)
    with using(ResourceLimits(points=total - 1)), pytest.raises(SVGParseError, match="over the points limit") as no:
        read_svg(twice)
    assert no.value.limit == "points"


@pytest.mark.parametrize("seed", [0, 3])
def test_the_campaigns_outline_cases_are_refused_with_the_limit(seed, tmp_path, capsys):
    case = next(_outline_points_cases(random.Random(seed)))
    assert main(case.argv(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clipvg render: error: ") and "over the points_per_path limit" in err, err
