"""Shared command-line plumbing: timestamped logging and the DataError exit code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from msdrnn.errors import DataError


def run(main: Callable[[], None]) -> None:
    """Run ``main`` with timestamped logs on stderr; a DataError exits 2 with one line."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        main()
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


def names(text: str) -> list[str]:
    """A comma-separated list of names, such as ``Rap,Rock,RnB``."""
    return [name.strip() for name in text.split(",") if name.strip()]
