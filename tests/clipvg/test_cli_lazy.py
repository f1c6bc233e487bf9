"""The CLI loads only the subcommand it runs: ``clipvg vectorize`` starts without torch or the edit code."""
from __future__ import annotations

import subprocess
import sys

from clipvg.cli import COMMANDS, build_parser

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
