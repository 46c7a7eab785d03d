"""The outer training loop both methods share: epochs of shuffled batches, and what can go wrong in them.

A method gives one function that trains on a batch of row indices and returns its statistics. The
loop owns the rest: the progress bar; non-finite losses (stop with the step named, or skip the
batch); CUDA out-of-memory (halve the batch and go on); ``KeyboardInterrupt`` (put back the
weights of the last finished epoch and return); and checkpoints every few steps, from which a later
fit resumes exactly where this one stopped.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from skgliclass.inference import progress_bar
from skgliclass.persistence import write_atomic

__all__ = ["BAD_BATCH", "BadBatch", "LoopSettings", "check_finite", "fingerprint", "guarded_update", "run_epochs"]

BAD_BATCH = ("raise", "skip")
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


def run_epochs(
    train_batch: Callable[[np.ndarray], dict[str, float]],
    *,
    n: int,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    model: torch.nn.Module,
    history: dict[str, list[float]],
    end_epoch: Callable[[list[dict[str, float]], float], bool | None],
    state: Callable[[], dict[str, Any]],
    load_state: Callable[[dict[str, Any]], None],
    zero_grad: Callable[[], None],
    loop: LoopSettings,
    progress: bool = False,
    desc: str = "fit",
) -> dict[str, list[float]]:
    """Run ``epochs`` passes over ``n`` rows in shuffled batches; returns ``history``.

    ``train_batch`` trains on a batch (it may raise :class:`BadBatch`); its statistics are appended
    to ``history`` per step, and ``end_epoch(stats, seconds)`` adds the per-epoch entries (a True
    return ends training there: early stopping).
    ``state``/``load_state`` give and take the trainer's own state (optimiser, schedule, ...) for
    checkpoints; ``zero_grad`` clears gradients after a failed batch.
    """
    history.setdefault("skipped_batches", [])
    history.setdefault("batch_size", [])
    position = _Position()
    if loop.resume:
        position = _resume(loop, rng, history, load_state, model) or position
    total = epochs * -(-n // batch_size)
    bar = progress_bar(total, progress, desc)
    bar.update(min(position.step, total))
    safe = _copy_weights(model)  # the weights to put back on an interrupt: the last finished epoch's
    warned_memory = False
    try:
        while position.epoch < epochs:
            if not position.queue and not position.stats:
                position.queue = list(np.array_split(rng.permutation(n), -(-n // batch_size)))
            begun = time.perf_counter()
            while position.queue:
                batch = position.queue.pop(0)
                try:
                    stats = train_batch(batch)
                except BadBatch as error:
                    zero_grad()
                    where = f"step {position.step + 1} (epoch {position.epoch + 1})"
                    if loop.on_bad_batch == "raise":
                        raise FloatingPointError(
                            f"training stopped at {where}: {error}. The weights are those before this batch. "
                            "Lower learning_rate, check the targets, or pass on_bad_batch='skip' to skip such batches."
                        ) from None
                    history["skipped_batches"].append(position.step + 1)
                    stats = None
                except torch.cuda.OutOfMemoryError:
                    zero_grad()
                    torch.cuda.empty_cache()
                    if len(batch) == 1:
                        raise
                    half = len(batch) // 2
                    position.queue[:0] = [batch[:half], batch[half:]]
                    batch_size = max(1, half)
                    history["batch_size"].append(batch_size)
                    bar.total += 1
                    if not warned_memory:
                        warnings.warn(
                            f"CUDA ran out of memory; training goes on with batches of {batch_size}.", stacklevel=2
                        )
                        warned_memory = True
                    continue
                position.step += 1
                if stats is not None:
                    position.stats.append(stats)
                    for key, value in stats.items():
                        history.setdefault(key, []).append(value)
                    shown = {k: f"{v:.4f}" for k, v in stats.items() if k not in ("learning_rate", "right")}
                    bar.set_postfix({**shown, **_last_epoch(history)})
                bar.update(1)
                position.seconds += time.perf_counter() - begun
                begun = time.perf_counter()
                if loop.checkpoint_dir and position.step % loop.checkpoint_every == 0:
                    _save(loop, position, rng, history, state(), model)
            stop = end_epoch(position.stats, position.seconds)
            position = _Position(epoch=position.epoch + 1, step=position.step)
            safe = _copy_weights(model)
            if stop:
                bar.total = position.step  # the bar ends full at the early stop
                break
    except KeyboardInterrupt:
        model.load_state_dict(safe)
        done = position.epoch
        warnings.warn(
            f"fit interrupted in epoch {done + 1}: the model keeps the weights of "
            + (f"epoch {done}" if done else "the start (no epoch had finished)")
            + (f"; resume from the checkpoints in {loop.checkpoint_dir}." if loop.checkpoint_dir else "."),
            UserWarning,
            stacklevel=2,
        )
        history["interrupted_at_epoch"] = [float(done + 1)]
    finally:
        bar.close()
    return history


def _last_epoch(history: dict[str, list[float]]) -> dict[str, str]:
    """The previous epoch's scores, shown beside the step loss on the progress bar."""
    names = {"train_score": "train", "validation_loss": "val_loss", "validation_score": "val"}
    return {short: f"{history[name][-1]:.4f}" for name, short in names.items() if history.get(name)}


def _copy_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _checkpoints(folder: Path) -> list[Path]:
    return sorted(folder.glob("step-*.pt"))


def _save(
    loop: LoopSettings,
    position: _Position,
    rng: np.random.Generator,
    history: dict[str, list[float]],
    trainer: dict[str, Any],
    model: torch.nn.Module,
) -> None:
    """Write ``step-XXXXXXXX.pt`` (atomically) and keep only the newest few."""
    folder = Path(loop.checkpoint_dir)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "fingerprint": loop.fingerprint,
        "model": _copy_weights(model),
        "trainer": trainer,
        "rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),  # dropout draws from it
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "history": {k: list(v) for k, v in history.items()},
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


def _resume(
    loop: LoopSettings,
    rng: np.random.Generator,
    history: dict[str, list[float]],
    load_state: Callable[[dict[str, Any]], None],
    model: torch.nn.Module,
) -> _Position | None:
    """Load the newest checkpoint of this fit; None (a fresh start) when there is none."""
    folder = Path(loop.checkpoint_dir) if loop.checkpoint_dir else None
    found = _checkpoints(folder) if folder is not None and folder.is_dir() else []
    if not found:
        return None
    payload = torch.load(found[-1], map_location="cpu", weights_only=False)
    if payload.get("fingerprint") != loop.fingerprint:
        raise ValueError(
            f"{found[-1]} comes from a fit with other data or settings; resume=True continues only the same fit. "
            "Use another checkpoint_dir, or resume=False to start over."
        )
    model.load_state_dict(payload["model"])
    load_state(payload["trainer"])
    rng.bit_generator.state = payload["rng"]
    torch.set_rng_state(payload["torch_rng"])
    if payload.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["cuda_rng"])
    history.clear()
    history.update(payload["history"])
    saved = payload["position"]
    return _Position(
        epoch=saved["epoch"],
        step=saved["step"],
        queue=[np.asarray(b, dtype=np.int64) for b in saved["queue"]],
        stats=saved["stats"],
        seconds=saved["seconds"],
    )
