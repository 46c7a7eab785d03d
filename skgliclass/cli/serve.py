"""``skgliclass serve``: classify texts over HTTP (``POST /predict``), with concurrent requests batched together."""

from __future__ import annotations

import argparse
from typing import Any

from skgliclass.cli._common import UsageError, split_labels

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve a model over HTTP (POST /predict, GET /labels, GET /health; docs at /docs)",
        description="Serve a model as an HTTP JSON API; concurrent requests are predicted in batches.",
    )
    parser.add_argument("--model", required=True, help="`fit --out` folder, ONNX export, GLiClass checkpoint or hub id")
    parser.add_argument("--labels", help="comma-separated labels (default: those the model folder was made with)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--batch-size", type=int, default=32, help="most texts predicted together")
    parser.add_argument("--max-batch-wait-ms", type=float, default=5.0, help="how long a batch waits for more requests")
    parser.add_argument("--max-texts", type=int, default=256, help="most texts one request may hold (more: 413)")
    parser.add_argument("--max-chars", type=int, default=20_000, help="longest text in characters (longer: 413)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, mps or auto")
    parser.set_defaults(run=run)


def _check(args: argparse.Namespace) -> None:
    for flag in ("batch_size", "max_texts", "max_chars"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be a positive int, got {getattr(args, flag)}.")
    if not args.max_batch_wait_ms >= 0:
        raise UsageError(f"--max-batch-wait-ms must be >= 0, got {args.max_batch_wait_ms}.")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}.")


def run(args: argparse.Namespace) -> int:
    """Load the model, then serve it with uvicorn until interrupted."""
    _check(args)  # before loading the model: a bad flag fails fast
    import uvicorn

    from skgliclass.serve import create_app, load_predictor  # FastAPI loads only for this command

    labels = split_labels(args.labels) if args.labels else None
    predictor = load_predictor(args.model, labels, batch_size=args.batch_size, device=args.device)
    app = create_app(
        predictor,
        batch_size=args.batch_size,
        max_batch_wait_ms=args.max_batch_wait_ms,
        max_texts=args.max_texts,
        max_chars=args.max_chars,
    )
    uvicorn.run(app, host=args.host, port=args.port)
    return 0
