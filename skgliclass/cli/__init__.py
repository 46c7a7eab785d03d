"""The ``skgliclass`` command line: ``classify``, ``fit``, ``review``, ``export``, ``serve`` and ``demo``.

Exit codes: 0 success, 2 usage errors (bad flags, missing files, bad CSV columns, empty
labels), 1 failures while loading a model, training or predicting.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from skgliclass.cli import classify, demo, export, fit, review, serve
from skgliclass.cli._common import UsageError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``skgliclass`` and ``python -m skgliclass``."""
    parser = argparse.ArgumentParser(prog="skgliclass", description="GLiClass text classification.")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (classify, fit, review, export, serve, demo):
        module.add_parser(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except UsageError as error:
        print(f"skgliclass {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, RuntimeError, ImportError) as error:
        print(f"skgliclass {args.command}: failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"skgliclass {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
