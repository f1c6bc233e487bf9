"""The CLI loads only the subcommand it runs: ``clipvg vectorize`` starts without torch or the edit code."""
from __future__ import annotations

import subprocess
import sys

import pytest

from clipvg.cli import COMMANDS, build_parser
from system_tools import system_font

PROBE = """
import sys
from clipvg.cli import build_parser
args = build_parser("vectorize").parse_args(["vectorize", "in.png", "-o", "out.svg", "--paths", "40"])
assert (args.input, args.output, args.paths) == ("in.png", "out.svg", 40), args
print(sorted(m for m in ("torch", "clipvg.edit", "clipvg.cli.edit_command", "clipvg.cli.render_command")
             if m in sys.modules))
"""


def test_vectorize_parser_imports_neither_torch_nor_other_commands():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_full_parser_lists_every_command_with_its_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert tuple(sub.choices) == COMMANDS
    assert all(choice.help for choice in sub._choices_actions)
    assert build_parser().parse_args(["render", "a.svg", "-o", "a.png"]).command == "render"


REFUSE = """
import sys
from clipvg.cli import main
code = main(["render", sys.argv[1], "-o", "out.png", "--width", sys.argv[2]])
print(code, "torch" in sys.modules)
"""


def test_render_refuses_bad_sizes_before_loading_torch(tmp_path):
    svg = tmp_path / "in.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    for width, message in (("-5", "--width must be at least 1"), ("99999", "render_side limit")):
        done = subprocess.run([sys.executable, "-c", REFUSE, str(svg), width], capture_output=True, text=True,
                              check=True, cwd=tmp_path)
        assert done.stdout.split() == ["2", "False"] and message in done.stderr, (done.stdout, done.stderr)


EDIT_REFUSE = """
import sys
from clipvg.cli import main
code = main(["edit", sys.argv[1], "-o", "out.svg", "--prompt", " "])
print(code, "torch" in sys.modules)
"""


def test_edit_refuses_an_empty_prompt_before_loading_torch(tmp_path):
    """The job spec is checked before the editor, the CPU preset's GPU probe and the refiner table's
    modules load torch (they did: 4.5 s for a one-line refusal)."""
    svg = tmp_path / "in.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    done = subprocess.run([sys.executable, "-c", EDIT_REFUSE, str(svg)], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"] and "the prompt is empty" in done.stderr, (done.stdout, done.stderr)


INPUT_REFUSE = """
import sys
from clipvg.cli import main
command, source = sys.argv[1:]
extra = {"render": ["-o", "out.png"], "inpaint": ["--box", "0,0,4,4"], "outpaint": ["--right", "4"]}.get(command, [])
edit = [] if command == "render" else ["-o", "out.svg", "--prompt", "a cat"]
code = main([command, source, *edit, *extra])
print(code, "torch" in sys.modules)
"""
TRUNCATED_PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10"


@pytest.mark.parametrize("command", ["edit", "render", "inpaint", "outpaint"])
@pytest.mark.parametrize("name, data, message", [
    ("cut.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect', "is not well-formed XML"),
    ("deep.svg", b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * 300 + b"</g>" * 300 + b"</svg>",
     "over the group_depth limit"),
    ("wide.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="70000" height="9"/>', "more than 65536 px"),
    ("big.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="60000" height="60000"/>', "render_pixels limit"),
    ("cut.png", TRUNCATED_PNG, "cannot read image"),
    ("far.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><g transform="scale(1e20)">'
     b'<path d="M0 0 L5 5 Z"/></g></svg>', "the shape number 1 has a coordinate too large"),
])
def test_bad_input_file_is_refused_before_loading_torch(tmp_path, command, name, data, message):
    """A broken or oversized SVG or PNG is refused by ``clipvg.input_check`` before the reader, the
    vectorizer and the editor load torch (it took 2.4-3 s), by every command that reads one."""
    (tmp_path / name).write_bytes(data)
    if command == "render" and name.endswith(".png"):
        message = "is not well-formed XML"  # render reads any file as SVG
    done = subprocess.run([sys.executable, "-c", INPUT_REFUSE, command, name], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"] and message in done.stderr, (done.stdout, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out.svg").exists()


def test_render_refuses_a_filter_over_its_memory_limit_before_loading_torch(tmp_path):
    """A blur reaching 677 px around each tile of an 8192 x 8192 render takes tiles of 2031 x 2031 px (9.8 GB
    estimated): the render plan of the read SVG refuses it, as the renderer's check of the Scene would."""
    (tmp_path / "blur.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8192" height="8192">'
                                       '<filter id="f"><feGaussianBlur stdDeviation="100"/></filter>'
                                       '<rect width="10" height="10" filter="url(#f)"/></svg>')
    done = subprocess.run([sys.executable, "-c", INPUT_REFUSE, "render", "blur.svg"], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"], (done.stdout, done.stderr)
    assert "over the render_memory_bytes limit" in done.stderr and "--max-render-memory-bytes" in done.stderr


def test_inpaint_refuses_a_broken_mask_before_loading_torch(tmp_path):
    (tmp_path / "in.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    (tmp_path / "mask.png").write_bytes(TRUNCATED_PNG)
    probe = INPUT_REFUSE.replace('"0,0,4,4"', '"0,0,4,4", "--mask", "mask.png"')
    done = subprocess.run([sys.executable, "-c", probe, "inpaint", "in.svg"], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"] and "cannot read image 'mask.png'" in done.stderr, done.stderr


def test_font_refuses_a_broken_guide_path_before_loading_torch(tmp_path):
    system_font("DejaVu Sans")
    (tmp_path / "guide.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><path d="M0')
    probe = ("import sys\nfrom clipvg.cli import main\n"
             "code = main(['font', 'AB', '--font', 'DejaVu Sans', '--on-path', 'guide.svg', '-o', 'o.svg', '--prompt', 'x'])\n"
             "print(code, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"] and "guide.svg is not well-formed XML" in done.stderr, done.stderr


@pytest.mark.parametrize("prompt, message", [
    ("x", "cannot read font trunc.ttf"),  # a damaged font: read through before torch loads
    ("", "the prompt is empty"),  # an empty prompt: refused before the (damaged) font is read
])
def test_font_refuses_a_truncated_font_or_empty_prompt_before_loading_torch(tmp_path, prompt, message):
    (tmp_path / "trunc.ttf").write_bytes(system_font("DejaVu Sans").read_bytes()[:30000])
    probe = ("import sys\nfrom clipvg.cli import main\n"
             f"code = main(['font', 'AB', '--font', 'trunc.ttf', '-o', 'o.svg', '--prompt', {prompt!r}])\n"
             "print(code, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"] and message in done.stderr, done.stderr


def test_outpaint_refuses_a_huge_margin_before_loading_torch(tmp_path):
    (tmp_path / "in.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    probe = INPUT_REFUSE.replace('"--right", "4"', '"--bottom", "100000"')
    done = subprocess.run([sys.executable, "-c", probe, "outpaint", "in.svg"], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.split() == ["2", "False"] and "--bottom in pixels is 100,000" in done.stderr, done.stderr


def test_batch_of_unusable_jobs_ends_without_loading_torch(tmp_path):
    """Jobs that fail their checks are recorded as failed by the coordinator; with none left to run no
    executor starts, so neither torch (the GPU probe) nor a worker loads (it took 5 s)."""
    (tmp_path / "a.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    (tmp_path / "jobs.jsonl").write_text('{"input": "a.svg", "prompt": "x", "patches": 1.5}\n'
                                         '{"input": "a.svg", "prompt": ""}\n{"input": "gone.svg", "prompt": "x"}\n')
    probe = ("import sys\nfrom clipvg.cli import main\n"
             "code = main(['batch', 'jobs.jsonl', '-o', 'out', '--quiet'])\n"
             "print(code, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.split() == ["1", "False"], (done.stdout, done.stderr)
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    for reason in ("patches must be a whole number", "prompt is empty", "input file not found"):
        assert reason in manifest, manifest
