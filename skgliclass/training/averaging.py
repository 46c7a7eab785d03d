"""Several fine-tuning runs from one start, averaged weight by weight into one model (a "model soup").

Runs that start from the same weights and differ only in the order of their batches and their dropout
end in the same basin, so the mean of their weights is a model of its own: it predicts as fast as one
run, and it varies less with the draw of the training order than any single run does.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["average_runs"]


def average_runs(model: nn.Module, runs: int, train: Callable[[], dict[str, list[float]]]) -> dict[str, list[float]]:
    """Train ``model`` ``runs`` times from its current weights and leave it holding their mean.

    Parameters
    ----------
    model : nn.Module
        Trained in place by ``train``; put back to its starting weights before each later run.
    runs : int
        How many runs to average (1: ``train`` once, nothing else).
    train : callable
        Trains ``model`` in place and returns that run's history (lists of per-step or per-epoch values).

    Returns
    -------
    dict of str to list of float
        The runs' histories one after another, and ``run``: the run each epoch belongs to. A run that was
        interrupted (``interrupted_at_epoch``) ends the averaging: the model is the mean of the runs finished
        before it (the first run's weights as it stopped, when it was the first).
    """
    if runs == 1:
        return train()
    start = {name: value.detach().clone() for name, value in model.state_dict().items()}
    total: dict[str, torch.Tensor] = {}
    history: dict[str, list[float]] = {}
    finished = 0
    for run in range(runs):
        if run:
            model.load_state_dict(start)
        got = train()
        if "interrupted_at_epoch" in got and run:
            history["interrupted_at_epoch"] = got["interrupted_at_epoch"]
            break
        for name, value in model.state_dict().items():
            if value.is_floating_point():  # integer buffers (position ids) are the same in every run
                total[name] = total.get(name, 0) + value.detach().float()
        for key, values in got.items():
            history.setdefault(key, []).extend(values)
        history.setdefault("run", []).extend([float(run)] * len(got.get("epoch_seconds", [])))
        finished += 1
        if "interrupted_at_epoch" in got:
            break
    state = model.state_dict()
    model.load_state_dict(
        {name: (total[name] / finished).to(state[name].dtype) if name in total else state[name] for name in state}
    )
    return history
