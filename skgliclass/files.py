"""Writing files so that a reader never sees half of one, and the names of files others look for; torch-free."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["ONNX_MANIFEST", "write_atomic"]

#: What an ONNX export needs besides its graph; its presence marks a folder as an export.
ONNX_MANIFEST = "skgliclass-onnx.json"


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Run ``write(temporary_path)`` beside ``path``, then rename: readers see the old file or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())  # on disk before the rename makes it visible
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
