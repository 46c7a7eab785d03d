"""The examples gallery: every script runs end to end (marker ``examples``; CI runs them) and says what it should."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))

# What each example must print: a regular expression and a check of its first group.
EXPECTED = {
    "plot_reference_checkpoint.py": (r"largest difference: (\S+)", lambda v: float(v) < 2e-5),
    "plot_save_load.py": (r"largest difference: (\S+)", lambda v: float(v) < 1e-6),
    "plot_ppo_feedback.py": (r"micro-F1\) on \d+ new articles: (\S+ -> \S+)", lambda v: _gain(v) > 0.05),
    "plot_grid_search.py": (r"best: (\{.*\})", lambda v: "pooler" in v and "scorer" in v),
    "plot_lora.py": (r"LoRA r=8\s+macro-F1 (\S+)", lambda v: float(v) > 0.8),
    "plot_multi_label.py": (r"fine-tuned average precision: (\S+)", lambda v: float(v) > 0.8),
    "plot_few_shot_bbc.py": (r"accuracy\s+(\S+)", lambda v: float(v) > 0.85),
    "plot_zero_shot_quickstart.py": (r"accuracy\s+(\S+)", lambda v: float(v) > 0.7),
    "plot_scaling_out.py": (r"largest difference over all three: (\S+)", lambda v: float(v) < 1e-5),
    "plot_training_controls.py": (r"macro-F1 on \d+ held-out articles: (\S+)", lambda v: float(v) > 0.85),
}

# Further lines some examples must print.
ALSO = {
    "plot_training_controls.py": [(r"early stopping: (\d+) epochs run", lambda v: 1 <= int(v) <= 15)],
    "plot_zero_shot_quickstart.py": [
        (r"int8: .* largest probability change (\S+)", lambda v: float(v) < 0.005),
        (r"bf16: .* largest probability change (\S+)", lambda v: float(v) < 0.05),
    ],
}


def _gain(value: str) -> float:
    before, after = (float(x) for x in value.split(" -> "))
    return after - before


def test_every_example_has_a_check():
    assert sorted(EXPECTED) == [p.name for p in EXAMPLES]


@pytest.mark.examples
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # plots render off screen
    monkeypatch.chdir(path.parent)
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    for pattern, check in [EXPECTED[path.name], *ALSO.get(path.name, [])]:
        found = re.search(pattern, out)
        assert found, f"{path.name} did not print {pattern!r}:\n{out[-2000:]}"
        assert check(found.group(1)), f"{path.name}: {found.group(0)}"
