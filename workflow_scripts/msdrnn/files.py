"""Writing files so that a kill never leaves a torn one, and an ordered worker pool.

Every output of the study is written under a temporary name beside its final path and
renamed when complete: a failed or killed run leaves no partial file, and earlier results
stay untouched. No TensorFlow here.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(out: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; rename it to ``out`` if the block succeeds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and rename."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextmanager
def ordered_map(workers: int, chunksize: int = 16) -> Iterator[Callable]:
    """An ordered ``map``: a pool of ``workers`` processes, or plain ``map`` for one.

    Results come back in task order, so what is built from them does not depend on the
    number of workers.
    """
    if workers == 1:
        yield map
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield lambda function, tasks: pool.imap(function, tasks, chunksize=chunksize)
