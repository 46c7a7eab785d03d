"""The outer training loop both methods share: epochs of shuffled batches, and what can go wrong in them.

A method is a :class:`Trainer`: an object that trains on a batch of row indices and returns its
statistics, closes each epoch, and gives and takes its own state. The loop owns the rest: the
progress bar; non-finite losses (stop with the step named, or skip the batch); CUDA out-of-memory
(halve the batch and go on); ``KeyboardInterrupt`` (put back the weights of the last finished epoch
and return); and checkpoints every few steps (tensors and plain data only), from which a later fit
resumes exactly where this one stopped.
"""

from __future__ import annotations

import hashlib
import math
import pickle
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from skgliclass.files import write_atomic
from skgliclass.progress import progress_bar
from skgliclass.training.guard import clear_gain
from skgliclass.training.settings import TrainSettings

__all__ = [
    "BadBatch",
    "BestEpoch",
    "LoopSettings",
    "Trainer",
    "check_finite",
    "fingerprint",
    "guarded_update",
    "run_epochs",
]

KEEP_CHECKPOINTS = 3


class BadBatch(Exception):
    """A batch produced a non-finite loss or gradient; raised before any weight changes."""


def check_finite(value: torch.Tensor, what: str) -> None:
    """Raise :class:`BadBatch` when ``value`` holds NaN or infinity."""
    if not bool(torch.isfinite(value.detach()).all()):
        raise BadBatch(f"{what} is {value.detach().float().mean().item()}")


def guarded_update(
    loss: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    schedule: Any,
    parameters: Iterable[torch.nn.Parameter],
    max_grad_norm: float,
    where: str = "",
) -> None:
    """One optimiser step on ``loss``, clipped; :class:`BadBatch` before any weight moves when the loss or
    its gradient norm is not finite (``where`` ends the messages, e.g. ``" of update 2"``)."""
    check_finite(loss, f"the loss{where}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    check_finite(torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm), f"the gradient norm{where}")
    optimizer.step()
    schedule.step()


@dataclass
class LoopSettings:
    """Fault handling of a fit (see :class:`~skgliclass.GLiClassifier`)."""

    on_bad_batch: str = "raise"
    checkpoint_dir: str | None = None
    checkpoint_every: int = 100
    resume: bool = False
    fingerprint: str = ""


@dataclass
class _Position:
    """Where the loop is: epoch, the epoch's remaining batches, and the step count so far."""

    epoch: int = 0
    step: int = 0
    queue: list[np.ndarray] = field(default_factory=list)
    stats: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def fingerprint(*parts: Any) -> str:
    """A short hash of the training data and settings; a checkpoint resumes only the fit it came from."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(_stable(part)).encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def _stable(value: Any) -> Any:
    """``value`` with the same repr in every process: functions by name, containers item by item."""
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        return sorted((repr(k), _stable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    return getattr(value, "__qualname__", type(value).__name__)


class Trainer(Protocol):
    """What :func:`run_epochs` drives: one object per training method, holding its model, optimiser and history.

    A trainer subclasses this class and gets :meth:`fit`.
    """

    model: torch.nn.Module
    history: dict[str, list[float]]
    texts: Sequence[str]  # the rows the batches index
    settings: TrainSettings  # epochs and batch_size
    rng: np.random.Generator  # shuffles the rows each epoch
    desc: str  # names the progress bar

    def train_batch(self, batch: np.ndarray) -> dict[str, float]:
        """Train on the rows ``batch``; the step's statistics (may raise :class:`BadBatch`)."""

    def end_epoch(self, stats: list[dict[str, float]], seconds: float) -> bool:
        """Record the epoch from its steps' statistics; True ends training (early stopping)."""

    def state(self) -> dict[str, Any]:
        """The trainer's own state for a checkpoint (optimiser, schedule, ...): tensors and plain data."""

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state`'s output."""

    def zero_grad(self) -> None:
        """Clear the gradients a failed batch left behind."""

    def finish(self) -> None:
        """After the last epoch (or an interrupt): e.g. put back the best epoch's weights."""

    def fit(self, loop: LoopSettings | None = None, progress: bool = False) -> dict[str, list[float]]:
        """Train the model in place (:func:`run_epochs`); returns the history."""
        return run_epochs(self, loop or LoopSettings(), progress=progress, desc=self.desc)


def run_epochs(
    trainer: Trainer, loop: LoopSettings, *, progress: bool = False, desc: str = "fit"
) -> dict[str, list[float]]:
    """Train ``trainer.model`` for ``settings.epochs`` passes over its texts in shuffled batches of
    ``settings.batch_size``; returns ``trainer.history`` (the model ends in eval mode).

    Each step's statistics are appended to the history; :meth:`Trainer.end_epoch` adds the
    per-epoch entries. Bad batches, CUDA out-of-memory, interrupts and checkpoints are handled
    here, the same for every method (see the module's docstring).
    """
    n, epochs, batch_size, rng = len(trainer.texts), trainer.settings.epochs, trainer.settings.batch_size, trainer.rng
    trainer.history.setdefault("skipped_batches", [])
    trainer.history.setdefault("batch_size", [])
    run = _Run(trainer, loop, rng, progress_bar(epochs * -(-n // batch_size), progress, desc))
    if loop.resume:
        run.position = _resume(loop, rng, trainer) or run.position
    run.bar.update(min(run.position.step, run.bar.total))
    trainer.model.train()
    safe = _copy_weights(trainer.model)  # the weights to put back on an interrupt: the last finished epoch's
    try:
        while run.position.epoch < epochs:
            if not run.position.queue and not run.position.stats:
                run.position.queue = list(np.array_split(rng.permutation(n), -(-n // batch_size)))
            run.epoch()
            stop = trainer.end_epoch(run.position.stats, run.position.seconds)
            run.position = _Position(epoch=run.position.epoch + 1, step=run.position.step)
            safe = _copy_weights(trainer.model)
            if stop:
                run.bar.total = run.position.step  # the bar ends full at the early stop
                break
    except KeyboardInterrupt:
        _interrupted(trainer, safe, run.position.epoch, loop)
    finally:
        run.bar.close()
    trainer.finish()
    trainer.model.eval()
    return trainer.history


@dataclass
class _Run:
    """One call of :func:`run_epochs`: the trainer, where it is, its progress bar."""

    trainer: Trainer
    loop: LoopSettings
    rng: np.random.Generator
    bar: Any
    position: _Position = field(default_factory=lambda: _Position())
    warned_memory: bool = False

    def epoch(self) -> None:
        """Train on the rest of this epoch's queue of batches."""
        position, history = self.position, self.trainer.history
        begun = time.perf_counter()
        while position.queue:
            batch = position.queue.pop(0)
            try:
                stats = self.trainer.train_batch(batch)
            except BadBatch as error:
                self.trainer.zero_grad()
                stats = self.skip(error)
            except torch.cuda.OutOfMemoryError:
                self.trainer.zero_grad()
                if len(batch) == 1:
                    raise
                self.halve(batch)
                continue
            position.step += 1
            if stats is not None:
                position.stats.append(stats)
                for key, value in stats.items():
                    history.setdefault(key, []).append(value)
                shown = {k: f"{v:.4f}" for k, v in stats.items() if k not in ("learning_rate", "right")}
                self.bar.set_postfix({**shown, **_last_epoch(history)})
            self.bar.update(1)
            position.seconds += time.perf_counter() - begun
            begun = time.perf_counter()
            if self.loop.checkpoint_dir and position.step % self.loop.checkpoint_every == 0:
                _save(self.loop, position, self.rng, self.trainer)

    def skip(self, error: BadBatch) -> None:
        """A bad batch: stop with the step named, or (``on_bad_batch="skip"``) count it and go on."""
        where = f"step {self.position.step + 1} (epoch {self.position.epoch + 1})"
        if self.loop.on_bad_batch == "raise":
            raise FloatingPointError(
                f"training stopped at {where}: {error}. The weights are those before this batch. "
                "Lower learning_rate, check the targets, or pass on_bad_batch='skip' to skip such batches."
            ) from None
        self.trainer.history["skipped_batches"].append(self.position.step + 1)

    def halve(self, batch: np.ndarray) -> None:
        """CUDA ran out of memory on ``batch``: queue its two halves in its place."""
        torch.cuda.empty_cache()
        half = len(batch) // 2
        self.position.queue[:0] = [batch[:half], batch[half:]]
        self.trainer.history["batch_size"].append(max(1, half))
        self.bar.total += 1
        if not self.warned_memory:
            warnings.warn(f"CUDA ran out of memory; training goes on with batches of {half}.", stacklevel=4)
            self.warned_memory = True


def _interrupted(trainer: Trainer, safe: dict[str, torch.Tensor], epoch: int, loop: LoopSettings) -> None:
    """``KeyboardInterrupt``: the last finished epoch's weights back, a warning, the epoch in the history."""
    trainer.model.load_state_dict(safe)
    warnings.warn(
        f"fit interrupted in epoch {epoch + 1}: the model keeps the weights of "
        + (f"epoch {epoch}" if epoch else "the start (no epoch had finished)")
        + (f"; resume from the checkpoints in {loop.checkpoint_dir}." if loop.checkpoint_dir else "."),
        UserWarning,
        stacklevel=4,
    )
    trainer.history["interrupted_at_epoch"] = [float(epoch + 1)]


def _last_epoch(history: dict[str, list[float]]) -> dict[str, str]:
    """The previous epoch's scores, shown beside the step loss on the progress bar."""
    names = {"train_score": "train", "validation_loss": "val_loss", "validation_score": "val"}
    return {short: f"{history[name][-1]:.4f}" for name, short in names.items() if history.get(name)}


def _copy_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _checkpoints(folder: Path) -> list[Path]:
    return sorted(folder.glob("step-*.pt"))


def _save(loop: LoopSettings, position: _Position, rng: np.random.Generator, trainer: Trainer) -> None:
    """Write ``step-XXXXXXXX.pt`` (atomically) and keep only the newest few."""
    folder = Path(loop.checkpoint_dir)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "fingerprint": loop.fingerprint,
        "model": _copy_weights(trainer.model),
        "trainer": trainer.state(),
        "rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),  # dropout draws from it
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "history": {k: list(v) for k, v in trainer.history.items()},
        "position": {
            "epoch": position.epoch,
            "step": position.step,
            "queue": [b.tolist() for b in position.queue],
            "stats": position.stats,
            "seconds": position.seconds,
        },
    }
    write_atomic(folder / f"step-{position.step:08d}.pt", lambda path: torch.save(payload, path))
    for old in _checkpoints(folder)[:-KEEP_CHECKPOINTS]:
        old.unlink(missing_ok=True)


def _resume(loop: LoopSettings, rng: np.random.Generator, trainer: Trainer) -> _Position | None:
    """Load the newest checkpoint of this fit; None (a fresh start) when there is none."""
    folder = Path(loop.checkpoint_dir) if loop.checkpoint_dir else None
    found = _checkpoints(folder) if folder is not None and folder.is_dir() else []
    if not found:
        return None
    try:  # plain data only: a checkpoint folder from elsewhere must not run code here
        payload = torch.load(found[-1], map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{found[-1]} holds more than tensors and plain data, which resume=True never loads (it could run "
            f"code): {str(error).splitlines()[0]} Use a checkpoint_dir written by skgliclass, or resume=False."
        ) from None
    if payload.get("fingerprint") != loop.fingerprint:
        raise ValueError(
            f"{found[-1]} comes from a fit with other data or settings; resume=True continues only the same fit. "
            "Use another checkpoint_dir, or resume=False to start over."
        )
    trainer.model.load_state_dict(payload["model"])
    trainer.load_state(payload["trainer"])
    rng.bit_generator.state = payload["rng"]
    torch.set_rng_state(payload["torch_rng"])
    if payload.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["cuda_rng"])
    trainer.history.clear()
    trainer.history.update(payload["history"])
    saved = payload["position"]
    return _Position(
        epoch=saved["epoch"],
        step=saved["step"],
        queue=[np.asarray(b, dtype=np.int64) for b in saved["queue"]],
        stats=saved["stats"],
        seconds=saved["seconds"],
    )


@dataclass
class BestEpoch:
    """The epoch whose weights a fit ends with (0: before training), its validation loss and weights, and the
    epochs since the validation loss last fell (which early stopping counts).

    With per-row losses (``rows``), an epoch replaces the start only when it beats the start's rows by
    more than ``z`` standard errors (:func:`~skgliclass.training.guard.clear_gain`) and, with ``keep`` and
    ``kept`` (what it keeps right, summed: :func:`~skgliclass.training.guard.kept_right`), keeps at least
    ``keep`` times as much right as the start;
    training goes on while the loss falls, clear or not.
    """

    loss: float = math.inf
    epoch: int = 0
    weights: dict[str, torch.Tensor] | None = None
    stale: int = 0
    ties_forward: bool = False  # a later epoch that equals the best replaces it (coarse scores tie often)
    z: float = 1.0
    lowest: float = math.inf
    start_rows: np.ndarray | None = None
    keep: float | None = None
    start_kept: float | None = None

    def update(
        self,
        loss: float,
        epoch: int,
        model: torch.nn.Module,
        settings: TrainSettings,
        rows: np.ndarray | None = None,
        kept: np.ndarray | float | None = None,
    ) -> bool:
        """Record epoch ``epoch``'s ``loss`` (and per-row losses, and what it keeps right, summed);
        True when training should stop."""
        if epoch == 0:
            self.start_rows = rows
            self.start_kept = None if kept is None else float(np.sum(kept))
        fell = loss <= self.lowest if self.ties_forward else loss < self.lowest - settings.tol
        self.lowest, self.stale = (loss, 0) if fell else (self.lowest, self.stale + 1)
        better = loss <= self.loss if self.ties_forward else loss < self.loss - settings.tol
        if better and epoch > 0 and self.start_rows is not None and rows is not None:
            better = clear_gain(self.start_rows, rows, self.z)
        if better and epoch > 0 and self.keep is not None and kept is not None and self.start_kept is not None:
            better = float(np.sum(kept)) >= self.keep * self.start_kept
        if better or self.weights is None:
            self.loss, self.epoch = loss, epoch
            self.weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        return settings.n_iter_no_change is not None and self.stale >= settings.n_iter_no_change

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps, so that a resumed fit still knows its best epoch (tensors and plain data)."""
        rows = None if self.start_rows is None else torch.as_tensor(self.start_rows)
        kept = {"loss": self.loss, "epoch": self.epoch, "stale": self.stale, "lowest": self.lowest}
        return {**kept, "weights": self.weights, "start_rows": rows, "start_kept": self.start_kept}

    def load_state(self, state: dict[str, Any] | None) -> None:
        """Continue from :meth:`state`'s output (None: a checkpoint written before it travelled with them)."""
        if state is None:
            return
        self.loss, self.epoch, self.stale, self.lowest = state["loss"], state["epoch"], state["stale"], state["lowest"]
        self.weights = state["weights"]
        self.start_rows = None if state["start_rows"] is None else state["start_rows"].numpy()
        self.start_kept = state.get("start_kept")
