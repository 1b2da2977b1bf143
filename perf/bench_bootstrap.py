"""Time the summary's two-level bootstrap (msdrnn.stats.bootstrap_interval) at a scale.

    python perf/bench_bootstrap.py                    # paper scale: 10,000 songs, 3 seeds
    python perf/bench_bootstrap.py --songs 300 --seeds 2 --resamples 2000   # default study

Draws two models' right/wrong answers on ``--songs`` test songs under ``--seeds`` seeds each
(accuracies near 60% and 55%), then times ``--rounds`` intervals of ``--resamples``
resamples each and prints every round's seconds, their median, and the load average
before and after. The summary computes one such interval per comparison (four with the
default models). A benchmark, not a test: nothing is asserted. No TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow_scripts"))

from msdrnn.stats import bootstrap_interval  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    first = (rng.random((args.seeds, args.songs)) < 0.60).astype(float)
    second = (rng.random((args.seeds, args.songs)) < 0.55).astype(float)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    seconds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        interval = bootstrap_interval(first, second, args.resamples, seed=0)
        seconds.append(time.perf_counter() - start)
        print(f"{seconds[-1]:.2f} s  {interval.difference:+.4f} "
              f"[{interval.low:+.4f}, {interval.high:+.4f}]")
    print(f"median {statistics.median(seconds):.2f} s per interval ({args.songs} songs, "
          f"{args.seeds} seeds per model, {args.resamples} resamples)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
