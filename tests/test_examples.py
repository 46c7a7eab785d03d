"""The examples gallery: the docs build runs every example; here, without running them, each checks its result."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_asserts_its_result(path):
    # An example's asserts are what `make docs` enforces (sphinx-gallery fails the build on them).
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert any(isinstance(node, ast.Assert) for node in ast.walk(tree)), f"{path.name} checks nothing"
