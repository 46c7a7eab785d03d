"""The examples: all compile; the fast offline one runs end to end."""

from __future__ import annotations

import py_compile
import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_compiles(path):
    py_compile.compile(str(path), doraise=True)


def test_reference_checkpoint_example_runs(capsys):
    runpy.run_path(str(Path(__file__).parents[1] / "examples" / "plot_reference_checkpoint.py"), run_name="__main__")
    out = capsys.readouterr().out
    difference = float(out.split("largest difference:")[1].split()[0])
    assert difference < 2e-5
    assert "config.json" in out and "model.safetensors" in out
