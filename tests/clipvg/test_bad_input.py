"""Bad input through the CLI: a generated corpus of broken and oversized files and arguments ends in
exit 0 or 2 with a one-line ``clipvg <command>: error:`` reason, never a traceback; and junk job
specs end in InvalidInputError (hypothesis)."""
from __future__ import annotations

import json
import random
import warnings

import pytest
from hypothesis import given, settings, strategies as st

from bad_corpus import COMMANDS, NESTED_SIZES, OUTLINED_FAULTS, Case, cases, nested_svg, outlined_svg
from clipvg.cli import main
from clipvg.edit import JobSpec
from clipvg.errors import InvalidInputError

CORPUS = list(cases(seed=21, count=48))


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_bad_input_gets_exit_2_and_one_line(case, tmp_path, capsys):
    code = main(case.argv(tmp_path))
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    assert code in (0, 2), err
    if code == 2:
        assert err.splitlines()[-1].startswith(f"clipvg {case.args[0]}: error: "), err


REFUSED = {"canvas 60000": "render_pixels limit", "blur over 8192 px": "render_memory_bytes limit",
           "stroke-width 1e12": "has a coordinate too large"}


@pytest.mark.parametrize("fault", sorted(OUTLINED_FAULTS))
def test_a_file_with_outlined_strokes_and_an_svg_image_is_refused_or_drawn(fault, tmp_path, capsys):
    """The campaign's files whose strokes and SVG image are made when the Scene is built: over a limit they are
    refused (exit 2, the project's one line); a broken inner SVG is skipped with a warning and the rest drawn."""
    case = Case(fault, "svg", outlined_svg(random.Random(3), fault).encode(), COMMANDS["svg"])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        code = main(case.argv(tmp_path))
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    if fault in REFUSED:
        assert code == 2 and err.splitlines()[-1].startswith("clipvg render: error: ") and REFUSED[fault] in err, err
    elif fault.startswith("inner SVG"):
        assert code == 0 and any("image (SVG image" in str(w.message) for w in seen), [str(w.message) for w in seen]
    else:
        assert code in (0, 2), err


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=20)
FIELDS = st.sampled_from(["input", "svg", "prompt", "regions", "subset", "steps", "seed", "size", "clip", "outputs",
                          "checkpoint", "limits", "max_seconds", "device", "refiner", "backend", "version", "id"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(FIELDS, JSON, max_size=6) | JSON)
def test_job_spec_from_junk_json_is_an_invalid_input_error(data):
    try:
        spec = JobSpec.from_json(json.dumps(data))
        spec.validate()
    except InvalidInputError:
        return
    assert spec.prompt or spec.regions  # what validated is a usable spec


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64))
def test_job_spec_from_junk_bytes_is_an_invalid_input_error(text):
    with pytest.raises(InvalidInputError):
        JobSpec.from_json(text).validate()


def test_the_campaign_draws_the_same_cases_in_every_process():
    """``benchmarks/bad_input.py --seed S`` reruns a campaign's cases: the generators draw the same bytes and
    arguments in processes with different hash seeds (a seed taken from a hash of an object's address did not)."""
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = ("import hashlib, sys; sys.path.append('tests/clipvg'); from bad_corpus import campaign_cases; "
              "digest = hashlib.sha256(); [digest.update(c.name.encode() + c.data + repr(c.args).encode()) "
              "for c in campaign_cases(7, 60)]; print(digest.hexdigest())")
    root = Path(__file__).resolve().parents[2]
    digests = {subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert len(digests) == 1 and len(digests.pop()) == len(hashlib.sha256().hexdigest())


NESTED = [(kind, size) for kind, sizes in sorted(NESTED_SIZES.items()) for size in sizes]


@pytest.mark.parametrize("kind, size", NESTED, ids=[f"{kind} {size}" for kind, size in NESTED])
def test_an_svg_nesting_or_repeating_one_thing_is_drawn_or_refused_in_one_line(kind, size, tmp_path, capsys):
    """The campaign's nested SVGs (each was a traceback, a minute or gigabytes): ``clipvg render`` draws them
    (leaving out, with a warning, CSS nested too deeply) or refuses them with the project's one line."""
    case = Case(f"svg {kind} {size}", "svg", nested_svg(kind, size).encode(), COMMANDS["svg"])
    code = main(case.argv(tmp_path))
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and code in (0, 2), err
    if code == 2:
        assert err.splitlines()[-1].startswith("clipvg render: error: ") and "limit" in err, err
    refused = {("use chain", 300), ("use chain", 3_000), ("text", 30_000), ("text", 200_000)}
    assert (code == 2) == ((kind, size) in refused), err
