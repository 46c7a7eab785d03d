"""An HTTP JSON server for a fitted classifier: FastAPI routes over a micro-batching worker.

Concurrent ``POST /predict`` requests wait in one queue; a worker task takes their texts together, up to
``batch_size`` texts or until ``max_batch_wait_ms`` has passed, calls ``predict_proba`` once in a single
thread (models are not assumed thread-safe) and hands each request its own rows. See ``docs/serve.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from skgliclass.files import ONNX_MANIFEST as ONNX_MARKER  # an ONNX export, served by ONNXClassifier
from skgliclass.version import __version__

__all__ = ["ONNX_MARKER", "create_app", "load_predictor"]


logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------------
# Request and response bodies (their descriptions and examples make the OpenAPI page at /docs).


class PredictRequest(BaseModel):
    """Texts to classify, and optionally how labels are chosen."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"texts": ["The striker scored twice.", "The senate passed the bill."]}]}
    )

    texts: list[StrictStr] = Field(
        min_length=1,
        description="The texts to classify, one prediction each, in order (at least one).",
        examples=[["The striker scored twice.", "The senate passed the bill."]],
    )
    threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Multi-label models only: choose every label whose probability is at least this. "
        "Default: the model's own rule (its threshold, or the thresholds it learnt).",
        examples=[0.5],
    )
    top_k: StrictInt | None = Field(
        default=None,
        ge=1,
        description="Return only the k most probable labels (at most the number of labels). Single-label: "
        "`labels` then lists these k; multi-label: the chosen labels among them.",
        examples=[2],
    )


class Prediction(BaseModel):
    """One text's chosen labels and label probabilities, most probable first."""

    labels: list[str] = Field(description="The chosen labels, most probable first.", examples=[["sport"]])
    probabilities: dict[str, float] = Field(
        description="Each label's probability, most probable first; only the top k with `top_k`.",
        examples=[{"sport": 0.93, "politics": 0.05, "tech": 0.02}],
    )


class PredictResponse(BaseModel):
    """One prediction per text, in the order of the request's texts."""

    predictions: list[Prediction]


class LabelsResponse(BaseModel):
    """What the served model classifies into."""

    labels: list[str] = Field(description="The labels, in the model's class order.", examples=[["sport", "tech"]])
    multi_label: bool = Field(description="Whether each label is decided on its own (multi-label).")


class HealthResponse(BaseModel):
    """The server is up, and what its batching worker has done so far."""

    status: str = Field(description="`ok` while the batching worker runs.", examples=["ok"])
    version: str = Field(description="The skgliclass version serving.")
    queued: int = Field(description="Requests waiting for the batching worker now.")
    batches: int = Field(description="Batches predicted so far (successful predict_proba calls).")
    texts: int = Field(description="Texts classified so far.")


class ErrorResponse(BaseModel):
    """An error: what went wrong, in words."""

    detail: str = Field(examples=["20 texts, more than the 16 a request may hold."])


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A value the schema accepts but this model cannot honour."},
    413: {"model": ErrorResponse, "description": "Too many texts, or a text too long."},
    500: {"model": ErrorResponse, "description": "The model failed on these texts; the server keeps serving."},
    503: {"model": ErrorResponse, "description": "The batching worker is not running (starting or stopping)."},
}


# ----------------------------------------------------------------------------------------------------------------
# Micro-batching.


class _Closed(RuntimeError):
    """The batching worker is not running, so a request cannot be served (503)."""


@dataclass
class _Job:
    """One request's texts and the future its handler awaits: ``(proba rows, decision rows)``."""

    texts: list[str]
    future: asyncio.Future[tuple[np.ndarray, np.ndarray]] = field(repr=False)


class _Batcher:
    """The queue of waiting requests and the worker that predicts them in batches."""

    def __init__(self, predictor: Any, batch_size: int, max_wait_s: float) -> None:
        self.predictor = predictor
        self.batch_size = batch_size
        self.max_wait_s = max_wait_s
        self.batches = 0
        self.texts = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._carry: _Job | None = None  # taken from the queue but past the batch's size: it opens the next batch
        self._worker: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._unsettled: set[asyncio.Future[Any]] = set()  # every request not answered yet, queued or in a batch

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.done()

    @property
    def queued(self) -> int:
        return (self._queue.qsize() if self._queue is not None else 0) + (self._carry is not None)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """The app's lifespan: the worker runs while the app serves."""
        # Made here, not in __init__: each lifespan may run on its own event loop.
        self._queue = asyncio.Queue()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="skgliclass-serve")
        self._worker = asyncio.create_task(self._run(), name="skgliclass-serve-batcher")
        try:
            yield
        finally:
            await self._stop()

    async def _stop(self) -> None:
        assert self._worker is not None and self._thread is not None
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        for future in list(self._unsettled):
            if not future.done():
                future.set_exception(_Closed("the server is shutting down."))
        self._queue, self._carry = None, None
        self._thread.shutdown(wait=False)  # a batch still in the thread finishes there; nobody waits for it

    async def submit(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Queue ``texts``; their probabilities and the predictor's decisions once their batch has run."""
        if not self.running or self._queue is None:
            raise _Closed("the batching worker is not running (the app's lifespan has not started it).")
        job = _Job(texts, asyncio.get_running_loop().create_future())
        self._unsettled.add(job.future)
        job.future.add_done_callback(self._unsettled.discard)
        self._queue.put_nowait(job)
        return await job.future

    async def _run(self) -> None:
        while True:
            jobs = await self._collect()
            if jobs:
                await self._predict(jobs)

    async def _collect(self) -> list[_Job]:
        """Waiting jobs up to ``batch_size`` texts (a larger job alone), waiting at most ``max_wait_s`` for more."""
        assert self._queue is not None
        first = self._carry if self._carry is not None else await self._queue.get()
        self._carry = None
        jobs, size = [first], len(first.texts)
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while size < self.batch_size:
            job = await self._next(deadline - asyncio.get_running_loop().time())
            if job is None:
                break
            if size + len(job.texts) > self.batch_size:
                self._carry = job
                break
            jobs.append(job)
            size += len(job.texts)
        return [job for job in jobs if not job.future.done()]  # a request whose client left needs no work

    async def _next(self, timeout: float) -> _Job | None:
        """The next queued job, waiting up to ``timeout`` seconds; None if none came."""
        assert self._queue is not None
        if not self._queue.empty():
            return self._queue.get_nowait()
        if timeout <= 0:
            return None
        # asyncio.wait, not wait_for: a get cancelled at the deadline has not taken a job, so none is lost.
        getter = asyncio.ensure_future(self._queue.get())
        try:
            done, _ = await asyncio.wait({getter}, timeout=timeout)
        finally:
            if not getter.done():  # the deadline passed, or the worker is stopping
                getter.cancel()
        return getter.result() if getter in done else None

    async def _predict(self, jobs: list[_Job]) -> None:
        """Predict the jobs' texts in one call and settle each job with its rows."""
        texts = [text for job in jobs for text in job.texts]
        loop = asyncio.get_running_loop()
        try:
            proba, decided = await loop.run_in_executor(self._thread, _predict_rows, self.predictor, texts)
        except Exception as error:
            if len(jobs) > 1:  # one request's bad text must not fail the requests batched with it
                for job in jobs:
                    await self._predict([job])
                return
            logger.error("predict_proba failed on %d texts", len(texts), exc_info=error)
            _settle(jobs[0], error=error)
            return
        self.batches += 1
        self.texts += len(texts)
        start = 0
        for job in jobs:
            stop = start + len(job.texts)
            _settle(job, result=(proba[start:stop], decided[start:stop]))
            start = stop


def _predict_rows(predictor: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities and the predictor's own decisions for ``texts`` (run in the worker's thread)."""
    proba = np.asarray(predictor.predict_proba(texts), dtype=np.float64)
    expected = (len(texts), len(predictor.classes_))
    if proba.shape != expected:
        raise ValueError(f"predict_proba returned an array of shape {proba.shape} for {expected}.")
    return proba, np.asarray(predictor._decide(proba))


def _settle(job: _Job, *, result: Any = None, error: BaseException | None = None) -> None:
    if job.future.done():  # the request was cancelled meanwhile
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        job.future.set_result(result)


# ----------------------------------------------------------------------------------------------------------------
# Routes.


@dataclass(frozen=True)
class _Model:
    """What the routes know of the served predictor: its label names and kind, and the request limits."""

    names: list[str]
    multi_label: bool
    max_texts: int
    max_chars: int


def _check_request(request: PredictRequest, model: _Model) -> None:
    """413 for a request over the limits, 400 for values this model cannot honour."""
    if len(request.texts) > model.max_texts:
        raise HTTPException(413, f"{len(request.texts)} texts, more than the {model.max_texts} a request may hold.")
    longest = max(range(len(request.texts)), key=lambda i: len(request.texts[i]))
    if len(request.texts[longest]) > model.max_chars:
        raise HTTPException(
            413, f"text {longest} has {len(request.texts[longest])} characters, more than {model.max_chars}."
        )
    if request.threshold is not None and not model.multi_label:
        raise HTTPException(400, "threshold applies to multi-label models; this one picks one label (use top_k).")
    if request.top_k is not None and request.top_k > len(model.names):
        raise HTTPException(400, f"top_k={request.top_k}, but the model has {len(model.names)} labels.")


def _prediction(row: np.ndarray, decision: np.ndarray, request: PredictRequest, model: _Model) -> Prediction:
    """One text's labels and probabilities, most probable first (ties in class order)."""
    order = np.argsort(-row, kind="stable")[: request.top_k]
    if model.multi_label:
        chosen = row >= request.threshold if request.threshold is not None else decision.astype(bool)
        labels = [model.names[j] for j in order if chosen[j]]
    else:
        labels = [model.names[j] for j in order] if request.top_k is not None else [str(decision)]
    return Prediction(labels=labels, probabilities={model.names[j]: float(row[j]) for j in order})


def _router(batcher: _Batcher, model: _Model) -> APIRouter:
    router = APIRouter()

    @router.post("/predict", responses=ERRORS, summary="Classify texts")
    async def predict(request: PredictRequest) -> PredictResponse:
        """Classify the texts. Requests arriving together are predicted in one batch."""
        _check_request(request, model)
        try:
            proba, decided = await batcher.submit(list(request.texts))
        except _Closed as error:
            raise HTTPException(503, str(error)) from error
        except Exception as error:
            raise HTTPException(500, f"prediction failed: {type(error).__name__}: {error}") from error
        rows = zip(proba, decided, strict=True)
        return PredictResponse(predictions=[_prediction(row, d, request, model) for row, d in rows])

    @router.get("/labels", summary="The model's labels")
    async def labels() -> LabelsResponse:
        """The labels the model classifies into, in its class order, and whether it is multi-label."""
        return LabelsResponse(labels=model.names, multi_label=model.multi_label)

    @router.get("/health", responses={503: ERRORS[503]}, summary="Liveness")
    async def health() -> HealthResponse:
        """`ok` while the batching worker runs, with counts of what it has done."""
        if not batcher.running:
            raise HTTPException(503, "the batching worker is not running.")
        return HealthResponse(
            status="ok", version=__version__, queued=batcher.queued, batches=batcher.batches, texts=batcher.texts
        )

    return router


# ----------------------------------------------------------------------------------------------------------------
# Public functions.


def _check_settings(predictor: Any, **settings: float) -> None:
    """Refuse an unfitted predictor and settings that would make the server refuse everything."""
    missing = [name for name in ("classes_", "multilabel_", "predict_proba", "_decide") if not hasattr(predictor, name)]
    if missing:
        raise TypeError(f"create_app needs a fitted predictor; {type(predictor).__name__} has no {', '.join(missing)}.")
    for name, value in settings.items():
        least = 0 if name == "max_batch_wait_ms" else 1
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= least:
            raise ValueError(f"{name} must be a number >= {least}, got {value!r}.")


def create_app(
    predictor: Any,
    *,
    batch_size: int = 32,
    max_batch_wait_ms: float = 5.0,
    max_texts: int = 256,
    max_chars: int = 20_000,
    title: str | None = None,
) -> FastAPI:
    """An ASGI app serving ``predictor`` over HTTP: ``POST /predict``, ``GET /labels``, ``GET /health``.

    Concurrent requests are predicted together: a worker collects the texts of the requests
    waiting, up to ``batch_size`` texts or for at most ``max_batch_wait_ms``, calls
    ``predict_proba`` once in a single thread and returns each request its own rows. A request
    of more than ``batch_size`` texts is predicted whole, alone. The worker runs in the app's
    lifespan, which every ASGI server (uvicorn, hypercorn, Ray Serve) starts.

    Parameters
    ----------
    predictor : GLiClassZeroShot, GLiClassifier or ONNXClassifier
        A fitted classifier: anything with ``classes_``, ``multilabel_``, ``predict_proba(texts)``
        and ``_decide(proba)`` (its ``predict`` rule applied to probabilities).
    batch_size : int, default=32
        The most texts one ``predict_proba`` call gathers from waiting requests.
    max_batch_wait_ms : float, default=5.0
        How long a batch waits for more requests once its first has arrived (0: take only
        those already waiting).
    max_texts : int, default=256
        The most texts one request may hold (more: 413).
    max_chars : int, default=20000
        The longest text a request may hold, in characters (longer: 413).
    title : str or None, default=None
        The API's title on the OpenAPI page (default ``"skgliclass"``).

    Returns
    -------
    fastapi.FastAPI
        The app; run it with ``uvicorn.run(app)`` or any ASGI server.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> from skgliclass import GLiClassZeroShot
    >>> from skgliclass.serve import create_app
    >>> clf = GLiClassZeroShot(labels=["sport", "politics"]).fit()
    >>> with TestClient(create_app(clf)) as client:  # the context runs the app's lifespan: its worker
    ...     client.post("/predict", json={"texts": ["The striker scored twice."]}).json()["predictions"][0]["labels"]
    ['sport']
    >>> import uvicorn  # doctest: +SKIP
    >>> uvicorn.run(create_app(clf), host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    _check_settings(
        predictor, batch_size=batch_size, max_batch_wait_ms=max_batch_wait_ms, max_texts=max_texts, max_chars=max_chars
    )
    batcher = _Batcher(predictor, int(batch_size), max_batch_wait_ms / 1000)
    model = _Model([str(c) for c in predictor.classes_], bool(predictor.multilabel_), int(max_texts), int(max_chars))
    app = FastAPI(
        title=title or "skgliclass",
        version=__version__,
        description=f"Text classification into {len(model.names)} labels"
        f"{' (multi-label)' if model.multi_label else ''}: {', '.join(model.names[:20])}"
        f"{', ...' if len(model.names) > 20 else ''}.",
        lifespan=batcher.lifespan,
    )
    app.include_router(_router(batcher, model))
    return app


def load_predictor(folder: str, labels: Sequence[str] | None = None, batch_size: int = 32, device: str = "auto") -> Any:
    """The classifier a model folder holds, ready to serve.

    A folder holding ``skgliclass-onnx.json`` is an ONNX export, served torch-free by
    ``skgliclass.onnx.ONNXClassifier`` with the labels it was exported with. Any other folder
    loads as ``skgliclass classify --model`` loads it: a ``skgliclass fit`` folder as fitted
    (its labels by default), else a GLiClass checkpoint or encoder, zero-shot on ``labels``.

    Parameters
    ----------
    folder : str
        The model folder (or, without ``skgliclass-onnx.json``, any ``--model`` the CLI takes).
    labels : sequence of str or None, default=None
        The labels; None: those a ``fit`` folder (or ONNX export) was made with. Names may not
        hold commas.
    batch_size : int, default=32
        Texts per forward pass (torch models).
    device : str, default="auto"
        ``cpu``, ``cuda``, ``mps`` or ``auto`` (torch models).

    Returns
    -------
    GLiClassZeroShot, GLiClassifier or ONNXClassifier
        A fitted classifier for :func:`create_app`.

    Examples
    --------
    >>> from skgliclass.serve import create_app, load_predictor
    >>> app = create_app(load_predictor("my-model"))  # doctest: +SKIP
    >>> app = create_app(load_predictor("gliclass-small", labels=["sport", "politics"]))  # doctest: +SKIP
    """
    if (Path(folder) / ONNX_MARKER).is_file():
        return _load_onnx(folder, labels)
    from skgliclass.cli._common import load_folder  # the CLI's rules for a model folder, shared

    if labels is not None and (not labels or any("," in label for label in labels)):
        raise ValueError(f"labels must name at least one label, none holding a comma; got {list(labels)}.")
    joined = ",".join(labels) if labels is not None else None
    return load_folder(folder, joined, batch_size=batch_size, device=device)


def _load_onnx(folder: str, labels: Sequence[str] | None) -> Any:
    from skgliclass.onnx import ONNXClassifier  # torch-free, and imported only when a folder asks for it

    predictor = ONNXClassifier(folder)
    exported = [str(c) for c in predictor.classes_]
    if labels is not None and list(labels) != exported:
        raise ValueError(f"an ONNX export classifies into the labels it was exported with, {exported}; got {labels}.")
    return predictor
