"""The command line: the demo classifies real BBC articles with the embedded model."""

from __future__ import annotations

import pytest

from skgliclass.cli import main


def test_demo_prints_a_table_and_accuracy(capsys):
    assert main(["demo", "--per-class", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.endswith(("  ", " x"))]
    assert len(rows) == 5
    accuracy = int(out.split("zero-shot accuracy on these 5 articles: ")[1].split("%")[0])
    assert 0 <= accuracy <= 100


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as error:
        main(["nope"])
    assert error.value.code == 2
