"""``skgliclass review``: a person accepts or rejects the model's proposals one by one, into a resumable log."""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from skgliclass.cli._common import UsageError, load_estimator, read_lines
from skgliclass.cli._log import append_verdict, drop_last_verdict, read_log

__all__ = ["add_parser", "review"]

KEYS = "[y] right  [n] wrong  [s] skip  [u] undo  [q] quit"
SHOWN_CHARS = 1200  # of a long text, enough to judge most proposals on one screen


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "review",
        help="accept or reject the model's proposals one by one, into a feedback log",
        description=(
            "Show one proposed label per text and record right/wrong verdicts in --log (CSV, appended at once; "
            "texts already judged there are skipped, so a review resumes where it stopped). "
            "Learn from the log with `skgliclass fit --feedback LOG`."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="texts to review, one per line (keys come from stdin)")
    parser.add_argument("--log", required=True, help="CSV feedback log to append verdicts to (created if missing)")
    parser.add_argument("--model", help="a `fit --out` folder, checkpoint or encoder (default: embedded MiniLM)")
    parser.add_argument("--labels", help="comma-separated labels (default: those a `fit` model was trained on)")
    parser.add_argument("--strategy", choices=("random", "uncertainty"), default="random", help="which texts first")
    parser.add_argument("--limit", type=int, help="propose at most this many texts in this sitting")
    parser.add_argument("--exploration", type=float, default=0.0, help="chance of showing a random label instead")
    parser.add_argument("--multi-label", action="store_true", default=None, help="independent yes/no per label")
    parser.add_argument("--batch-size", type=int, default=16, help="texts per forward pass")
    parser.add_argument("--max-length", type=int, help="longest input in tokens")
    parser.add_argument("--device", default="auto", help="cpu, cuda, mps or auto")
    parser.add_argument("--random-state", type=int, default=0, help="seed of the draws (default 0)")
    parser.set_defaults(run=run, threshold=None, adapt_on=None)


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be a positive int, got {args.limit}.")
    if not 0.0 <= args.exploration <= 1.0:
        raise UsageError(f"--exploration must be between 0 and 1, got {args.exploration}.")
    log = Path(args.log)
    judged = set(read_log(log)["text"])
    texts = list(dict.fromkeys(t for t in read_lines(args.files) if t.strip() and t not in judged))
    if not texts:
        print(f"nothing to review: every text already has a verdict in {log}.")
        return 0
    clf = load_estimator(args)
    log_rows = clf.propose(
        texts, n=args.limit, strategy=args.strategy, exploration=args.exploration, random_state=args.random_state
    )
    proposals = [dict(zip(log_rows, values, strict=True)) for values in zip(*log_rows.values(), strict=True)]
    counts = review(proposals, log, _key_reader(sys.stdin), sys.stdout)
    flags = (("--feedback", str(log)), ("--model", args.model), ("--labels", args.labels))
    command = "skgliclass fit" + "".join(f" {flag} {shlex.quote(value)}" for flag, value in flags if value)
    print(
        f"{counts['right'] + counts['wrong']} verdicts logged to {log} this sitting ({counts['right']} right, "
        f"{counts['wrong']} wrong). Learn from them: {command} --out FOLDER"
    )
    return 0


def review(proposals: list[dict[str, Any]], log: Path, read_key: Callable[[], str], out: TextIO) -> dict[str, int]:
    """Show each proposal, read a key, append verdicts to ``log``; ``u`` takes back the last verdict or skip.
    Returns how many verdicts were logged, right and wrong."""
    done: list[tuple[int, int | None]] = []  # (proposal, verdict logged, or None for a skip), for undo
    i = 0
    while i < len(proposals):
        row = proposals[i]
        text = row["text"] if len(row["text"]) <= SHOWN_CHARS else row["text"][:SHOWN_CHARS] + " …"
        out.write(f"\n[{i + 1}/{len(proposals)}] {row['label']}  (p = {row['score']:.2f})\n")
        out.write(f"{textwrap.fill(text, 100)}\n{KEYS}: ")
        out.flush()
        key = read_key()
        out.write("\n")
        if key in ("q", ""):  # "" is the end of the input
            break
        if key in ("y", "n", "s"):
            verdict = None if key == "s" else int(key == "y")
            if verdict is not None:
                append_verdict(log, dict(row, verdict=verdict))
            done.append((i, verdict))
            i += 1
        elif key == "u" and done:
            i, verdict = done.pop()
            if verdict is not None:
                drop_last_verdict(log)
        else:
            out.write("nothing to undo.\n" if key == "u" else f"unknown key {key!r}; {KEYS}\n")
    verdicts = [v for _, v in done if v is not None]
    return {"right": sum(verdicts), "wrong": len(verdicts) - sum(verdicts)}


def _key_reader(stream: TextIO) -> Callable[[], str]:
    """One key press from a terminal (no Enter needed), else the first letter of each input line."""
    if stream.isatty():
        try:
            import termios
            import tty
        except ImportError:  # Windows: whole lines
            pass
        else:

            def read_key() -> str:
                fd = stream.fileno()
                saved = termios.tcgetattr(fd)
                try:
                    tty.setcbreak(fd)
                    key = stream.read(1)
                finally:
                    termios.tcsetattr(fd, termios.TCSADRAIN, saved)
                return "q" if key in ("\x03", "\x04") else key.lower()  # Ctrl-C / Ctrl-D quit

            return read_key

    def read_line() -> str:
        line = stream.readline()
        return (line.strip()[:1].lower() or "?") if line else ""  # "": the input ended

    return read_line
