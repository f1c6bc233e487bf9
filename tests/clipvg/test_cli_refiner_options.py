"""The refiner table (``clipvg.refiners.registry``) is the one source of the refiner options: every
keyword it maps exists on its refiner's constructor, and ``clipvg edit``, ``clipvg batch`` and batch
job lines all read their refiner options from it."""
from __future__ import annotations

import importlib
import inspect

import pytest

from clipvg.cli import build_parser
from clipvg.edit.flat import spec_from_options
from clipvg.errors import InvalidInputError
from clipvg.refiners.registry import REFINERS, SETTINGS


@pytest.mark.parametrize("name", sorted(REFINERS))
def test_every_mapped_keyword_is_a_constructor_parameter(name):
    entry = REFINERS[name]
    cls = getattr(importlib.import_module(f"clipvg.refiners.{entry.module}"), entry.cls)
    parameters = inspect.signature(cls.__init__).parameters
    assert set(entry.keywords) | {"precision"} <= set(parameters)
    assert set(entry.keywords.values()) <= set(SETTINGS)


def test_edit_and_batch_take_the_same_refiner_options(tmp_path):
    parser = build_parser()
    values = ["--refiner", "unitune", "--refiner-model", "m", "--tune-steps", "7", "--refiner-precision", "fp16",
              "--refit-iterations", "3"]
    edit = parser.parse_args(["edit", "in.svg", "-o", "o.svg", *values])
    batch = parser.parse_args(["batch", "jobs.jsonl", "-o", "out", *values])
    for name in ("refiner", "refiner_model", "tune_steps", "refiner_precision", "refit_iterations"):
        assert getattr(edit, name) == getattr(batch, name), name


def test_a_job_line_refiner_is_checked_against_the_table(tmp_path):
    source = tmp_path / "in.svg"
    source.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="4" height="4"/></svg>')
    spec = spec_from_options({"input": str(source), "output": [str(tmp_path / "o.svg")], "prompt": "a cat",
                              "refiner": "imagic", "tune_steps": 5})
    assert spec.refiner.name == "imagic" and spec.refiner.settings["tune_steps"] == 5
    assert spec.refiner.settings["refiner_steps"] == SETTINGS["refiner_steps"].default
    with pytest.raises(InvalidInputError, match="unknown refiner 'dalle'"):
        spec_from_options({"input": str(source), "output": ["o.svg"], "prompt": "a cat", "refiner": "dalle"})
    with pytest.raises(InvalidInputError, match="refiner-native-size must be 0"):
        spec_from_options({"input": str(source), "output": ["o.svg"], "prompt": "a cat", "refiner": "imagic",
                           "refiner_native_size": 10})
