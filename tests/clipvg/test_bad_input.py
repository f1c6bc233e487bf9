"""Bad input through the CLI: a generated corpus of broken and oversized files and arguments ends in
exit 0 or 2 with a one-line ``clipvg <command>: error:`` reason, never a traceback; and junk job
specs end in InvalidInputError (hypothesis)."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from bad_corpus import cases
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
