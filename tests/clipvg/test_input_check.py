"""``clipvg.input_check`` (the CLI's torch-free look at an input before the reader loads torch) refuses
what the full reader refuses for the XML, the limits and the canvas, with the same error, and never
refuses what the reader reads."""
from __future__ import annotations

import random
import warnings

import pytest

from bad_corpus import SVG_HEAD, cases, fuzz_svg, png_header
from clipvg.errors import ClipvgError, SVGParseError
from clipvg.input_check import check_input, check_job_inputs, check_raster, check_svg
from clipvg.limits import ResourceLimits, using
from clipvg.svg import load_svg
from vectorize import ImageInputError, load_image

# refusals the check must share with the reader: the XML and its limits (of the canvas only those given in
# absolute units: svgelements reads "nan" as 0)
XML_REFUSALS = ("not well-formed XML", "is empty", "root element", "namespace", "nesting depth", "point count")


def _outcome(function, path) -> ClipvgError | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function(path)
    except ClipvgError as error:
        return error
    return None


def _canvas_cases() -> list[str]:
    sizes = ('width="0" height="10"', 'width="-5" height="70000"', 'width="1e309" height="10"', 'width="70000" height="1"',
             'width="2000mm" height="10"', 'viewBox="0 0 70000 10"', 'width="50%" height="9" viewBox="0 0 70000 10"',
             'width="70000px" height="1e4pt"', 'height="70000"', 'width="70000" height="9" style="width:10px"')
    return [f'<svg xmlns="http://www.w3.org/2000/svg" {size}><rect width="5" height="5"/></svg>' for size in sizes]


def _svg_documents() -> list[bytes]:
    rng = random.Random(5)
    corpus = [case.data for case in cases(seed=21, count=96) if case.kind == "svg"]
    return corpus + [fuzz_svg(rng).encode() for _ in range(40)] + [text.encode() for text in _canvas_cases()]


def test_check_svg_refuses_what_the_reader_refuses_and_nothing_else(tmp_path):
    checked = 0
    for index, data in enumerate(_svg_documents()):
        path = tmp_path / f"{index}.svg"
        path.write_bytes(data)
        early, full = _outcome(check_svg, path), _outcome(load_svg, path)
        if early is not None:  # refused early: the reader refuses too, with the same error
            checked += 1
            assert type(full) is type(early) is SVGParseError, (data[:200], early, full)
            # the reader's canvas of 1e309 px reads 0.0 in svgelements; svgelements may fail before its canvas check
            canvas = "canvas" in str(early) and any(m in str(full) for m in ("canvas", "cannot interpret"))
            assert str(early) == str(full) or canvas, (early, full)
        elif full is not None:
            assert not any(kind in str(full) for kind in XML_REFUSALS), (data[:200], full)
    assert checked >= 20


def test_check_svg_uses_the_limits_in_force(tmp_path):
    path = tmp_path / "a.svg"
    path.write_text(SVG_HEAD.format(w=9, h=9) + "<g>" * 5 + "</g>" * 5 + "</svg>")
    check_svg(path)
    with using(ResourceLimits(group_depth=4)), pytest.raises(SVGParseError, match="group_depth limit") as refused:
        check_svg(path)
    assert refused.value.limit == "group_depth"


@pytest.mark.parametrize("data, message", [
    (None, "does not exist"),
    (b"\x89PNG\r\n\x1a\n\0\0", "cannot read image"),
    (png_header(9000, 9000), "megapixels limit"),
])
def test_check_raster_refuses_as_the_vectorizer_does(tmp_path, data, message):
    path = tmp_path / "in.png"
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(ImageInputError, match=message) as early:
        check_raster(path)
    with pytest.raises(ImageInputError) as full:
        load_image(path)
    assert str(early.value) == str(full.value)


def test_check_input_and_job_inputs_pick_the_reader_by_name(tmp_path):
    from clipvg.edit import JobSpec

    svg, png = tmp_path / "a.svg", tmp_path / "a.png"
    svg.write_text(SVG_HEAD.format(w=9, h=9) + "</svg>")
    png.write_bytes(svg.read_bytes())  # SVG markup under a raster's name: Pillow refuses it
    check_input(svg)
    with pytest.raises(ImageInputError):
        check_input(png)
    check_job_inputs(JobSpec(input=str(svg), prompt="a cat"))
    with pytest.raises(ImageInputError, match="a.png"):
        check_job_inputs(JobSpec.from_dict({"input": str(svg), "prompt": "a cat", "subset": {"mask": str(png)}}))


@pytest.mark.parametrize("width, refused", [("99.6", False), ("100.4", False), ("100.6", True)])
def test_canvas_size_refusals_agree_with_the_render_and_the_edit(tmp_path, capsys, width, refused):
    """The declared canvas is checked against the render size limits before torch loads, as the
    renderer (rounded output size) and the editor (the canvas itself) check it after reading."""
    from clipvg.cli import main
    from clipvg.edit import JobSpec
    from clipvg.edit.job import check_resources
    from clipvg.limits import ResourceLimitError

    path = tmp_path / "a.svg"
    path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="100">'
                    '<rect width="5" height="5"/></svg>')
    code = main(["render", str(path), "-o", str(tmp_path / "a.png"), "--max-render-pixels", "10000"])
    assert code == (2 if refused else 0) and ("rendered at its canvas size" in capsys.readouterr().err) == refused
    limits = ResourceLimits(render_pixels=10_050)  # the editor renders the canvas unrounded: 100.4 x 100 passes
    spec = JobSpec.from_dict({"input": str(path), "prompt": "a cat", "limits": {"render_pixels": limits.render_pixels}})
    early = _outcome(check_job_inputs, spec)
    full = _outcome(lambda s: check_resources(load_svg(s.input), s, "job"), spec)
    assert type(early) is type(full) and (early is None) == (not refused), (early, full)
    assert early is None or isinstance(early, ResourceLimitError) and early.limit == "render_pixels"


@pytest.mark.parametrize("command", [["edit"], ["inpaint", "--box", "4,4,20,20"], ["outpaint", "--left", "8"]])
def test_an_editing_command_reads_its_svg_input_once(tmp_path, capsys, monkeypatch, command):
    """The SVG ``check_job_inputs`` read before torch loaded is the one the job edits: the reader runs once."""
    import clipvg.svg.reader as reader
    from clipvg.cli import main
    from edit_scenes import quick_settings

    path = tmp_path / "in.svg"
    path.write_text(SVG_HEAD.format(w=48, h=48) + '<rect width="48" height="48" fill="white"/>'
                    '<circle cx="20" cy="24" r="10" fill="red"/></svg>')
    reads = []
    read = reader._read_svg
    monkeypatch.setattr(reader, "_read_svg", lambda *args: reads.append(args[0]) or read(*args))
    settings = quick_settings()
    code = main([command[0], str(path), *command[1:], "-o", str(tmp_path / "out.svg"), "--prompt", "a green circle",
                 "--clip-model", settings["clip_model"], "--clip-weights", settings["clip_weights"], "--patches", "1",
                 "--iterations", "1", "--device", "cpu", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert reads == [str(path)] and (tmp_path / "out.svg").is_file()


def _png(path, size: int, draw, background: str = "white") -> str:
    """A ``size`` px RGB PNG at ``path`` of ``background`` with ``draw(ImageDraw)`` on it; its name."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), background)
    draw(ImageDraw.Draw(image))
    image.save(path)
    return str(path)


@pytest.mark.parametrize("command", [["edit"], ["edit", "--mask", "{mask}"], ["inpaint", "--mask", "{mask}"],
                                     ["outpaint", "--left", "8"]])
def test_an_editing_command_decodes_its_raster_input_once(tmp_path, capsys, monkeypatch, command):
    """The photo ``clipvg.input_check`` decoded before torch loaded is the one the job vectorizes, and its mask
    (edit's region, inpaint's area) the one the job's region is made of: each file is decoded once."""
    import vectorize.image_io as image_io
    from clipvg.cli import main
    from edit_scenes import quick_settings

    photo = _png(tmp_path / "in.png", 48, lambda d: d.ellipse((10, 14, 30, 34), fill="red"))
    mask = _png(tmp_path / "mask.png", 48, lambda d: d.rectangle((4, 4, 24, 24), fill="white"), "black")
    decoded = []
    decode = image_io._open
    monkeypatch.setattr(image_io, "_open", lambda path: decoded.append(str(path)) or decode(path))
    settings = quick_settings()
    code = main([command[0], photo, *(part.format(mask=mask) for part in command[1:]), "-o",
                 str(tmp_path / "out.svg"), "--prompt", "a green circle", "--clip-model", settings["clip_model"],
                 "--clip-weights", settings["clip_weights"], "--patches", "1", "--iterations", "1", "--device", "cpu",
                 "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert sorted(decoded) == sorted([photo] + [mask] * ("--mask" in command)) and (tmp_path / "out.svg").is_file()


def test_a_read_raster_hands_its_pixels_on_once(tmp_path):
    path = _png(tmp_path / "in.png", 8, lambda d: d.point((3, 2), fill="blue"))
    read = check_raster(path)
    pixels = read.take()
    assert read.pixels is None and pixels.shape == (8, 8, 4) and pixels[2, 3].tolist() == [0, 0, 1, 1]
    assert (read.take() == pixels).all()  # taken again: decoded again from the file
