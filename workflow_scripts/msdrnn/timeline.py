"""Where a training process spends the time outside its epochs, for perf/bench_overhead.py.

With ``MSDRNN_TIMELINE=FILE`` in the environment, ``mark(name)`` records the wall-clock
time of named moments (the data read, TensorFlow imported, the trainer built, each epoch's
checkpoint written, the outputs written) and ``write()`` saves them to FILE as JSON, with
the moment the process started (from /proc, so interpreter start-up counts too). Without
the variable both do nothing: a normal run is not changed.
"""

from __future__ import annotations

import json
import os
import time

ENV = "MSDRNN_TIMELINE"
_marks: list[tuple[str, float]] = []


def mark(name: str) -> None:
    """Record that the process reached moment ``name`` now (only with MSDRNN_TIMELINE)."""
    if os.environ.get(ENV):
        _marks.append((name, time.time()))


def process_start() -> float | None:
    """Wall-clock time this process started (Linux: /proc and the boot-time clock)."""
    try:
        with open("/proc/self/stat") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return time.time() - (since_boot - ticks / os.sysconf("SC_CLK_TCK"))


def write() -> None:
    """Save the marks to $MSDRNN_TIMELINE (nothing without it)."""
    path = os.environ.get(ENV)
    if path:
        with open(path, "w") as out:
            json.dump({"process_start": process_start(), "marks": _marks}, out)
