"""The review log: a CSV of verdicts (``text, label, score, propensity, pick, verdict``) that ``review`` appends to
and ``fit --feedback`` learns from."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from skgliclass.cli._common import UsageError
from skgliclass.files import write_atomic

__all__ = ["LOG_COLUMNS", "append_verdict", "drop_last_verdict", "read_log"]

LOG_COLUMNS = ("text", "label", "score", "propensity", "pick", "verdict")
_RIGHT = {"1", "true", "yes", "y", "right"}
_WRONG = {"0", "false", "no", "n", "wrong"}


def read_log(path: str | Path, text_column: str = "text") -> dict[str, list[Any]]:
    """The judged rows of a log as columns ``text``, ``label``, ``verdict`` (1 or 0), and ``pick`` when the log has
    it; rows whose verdict is empty (proposals not reviewed yet) are left out; a file that does not exist is an
    empty log."""
    file = Path(path)
    log: dict[str, list[Any]] = {"text": [], "label": [], "verdict": []}
    if not file.exists():
        return log
    with file.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        missing = [c for c in (text_column, "label", "verdict") if c not in (reader.fieldnames or [])]
        if "pick" in (reader.fieldnames or []):
            log["pick"] = []
        if missing:
            raise UsageError(
                f"{path} has no column {missing[0]!r} (columns: {', '.join(reader.fieldnames or []) or 'none'}); "
                "a feedback log needs text, label and verdict."
            )
        for line, row in enumerate(reader, start=2):
            verdict = (row["verdict"] or "").strip().lower()
            if not verdict:
                continue
            if verdict not in _RIGHT | _WRONG:
                raise UsageError(f"{path}, line {line}: a verdict is 1 (right) or 0 (wrong), got {row['verdict']!r}.")
            if not (row["label"] or "").strip():
                raise UsageError(f"{path}, line {line}: the label is empty.")
            log["text"].append(row[text_column] or "")
            log["label"].append(row["label"].strip())
            log["verdict"].append(int(verdict in _RIGHT))
            if "pick" in log:
                log["pick"].append((row["pick"] or "").strip())
    return log


def append_verdict(path: Path, row: dict[str, Any]) -> None:
    """Add one row (writing the header first into a new file), flushed at once so a quit loses nothing; a log
    begun with other columns (an older one) keeps them."""
    new = not path.exists() or path.stat().st_size == 0
    columns: list[str] = list(LOG_COLUMNS)
    if not new:
        with path.open(encoding="utf-8", newline="") as stream:
            columns = next(csv.reader(stream), columns)
    with path.open("a", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


def drop_last_verdict(path: Path) -> None:
    """Remove the log's last row (an undo), rewriting the file atomically."""
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    kept = rows[:-1] if len(rows) > 1 else rows

    def write(target: Path) -> None:
        with target.open("w", encoding="utf-8", newline="") as stream:
            csv.writer(stream).writerows(kept)

    write_atomic(path, write)
