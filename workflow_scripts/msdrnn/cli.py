"""The one command-line contract of every workflow script.

Each script defines ``main(argv: list[str] | None = None) -> int`` and ends with
``sys.exit(cli.run(main))``. ``run`` sets up timestamped logging on stderr and turns the
study's errors into one ``error: ...`` line: bad data or settings exit with code 2 before
any expensive work, a diverged training run with code 1. Anything else is a bug and keeps
its traceback. A script that finishes logs its peak memory last (``peak_rss_mb=``), which
``msdrnn.resources`` reads: Snakemake's benchmark files sample memory every 30 s after the
first 15 s and miss short peaks.
"""

from __future__ import annotations

import logging
import resource
import sys
from collections.abc import Callable

from msdrnn.errors import ConfigError, DataError, TrainingDiverged

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run ``main(argv)`` with logging set up; return its exit code."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        code = main(argv)
    except (DataError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_DIVERGED
    logging.getLogger("msdrnn").info("peak_rss_mb=%.0f", peak_rss_mb())
    return code


def peak_rss_mb() -> float:
    """Peak resident memory (MB) of this process plus that of its largest child process."""
    kb = sum(resource.getrusage(who).ru_maxrss
             for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return kb / 1024


def names(text: str) -> list[str]:
    """A comma-separated list of names, such as ``Rap,Rock,RnB``."""
    return [name.strip() for name in text.split(",") if name.strip()]
