"""Compare two sets of runs on their test songs, as the summary compares two models.

    python workflow_scripts/compare_runs.py results/best results/mlp
    python workflow_scripts/compare_runs.py my_runs/ results/best --json

FIRST and SECOND are folders each holding ``seed_*/test_metrics.json`` (one run per seed)
or one ``test_metrics.json`` (evaluate.py's output). Prints the difference of mean test
accuracies (best-epoch weights, first minus second) in points, its 95% interval, the
method and the verdict; ``--json`` prints one JSON object instead, with ``difference``,
``low`` and ``high`` (fractions), ``verdict`` (``first higher``, ``second higher`` or ``no
clear difference``), ``p``, ``df``, ``method``, the seed counts and the songs. The
interval is the summary's (msdrnn.stats.test_interval), the songs paired by track ID
(msdrnn.paired): runs on different test songs, a missing file or a folder without runs is
one ``error:`` line naming the file, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from msdrnn.cli import run
from msdrnn.paired import check_same_songs, correctness, metrics_files, read_runs
from msdrnn.stats import test_interval


def compare(first: Path, second: Path) -> dict:
    """The comparison of two folders of runs as a JSON-ready dict."""
    paths = {name: metrics_files(folder) for name, folder in (("first", first),
                                                              ("second", second))}
    runs = {name: read_runs(files) for name, files in paths.items()}
    names = {name: [p.as_posix() for p in files] for name, files in paths.items()}
    check_same_songs(runs["first"][0], names["first"][0], runs["second"][0],
                     names["second"][0])
    interval = test_interval(correctness(runs["first"], names["first"]),
                             correctness(runs["second"], names["second"]))
    return {"first": first.as_posix(), "second": second.as_posix(),
            "difference": interval.difference, "low": interval.low, "high": interval.high,
            "level": interval.level, "verdict": interval.direction(), "p": interval.p,
            "df": interval.df, "method": interval.method,
            "seeds": {"first": len(runs["first"]), "second": len(runs["second"])},
            "songs": len(runs["first"][0]["targets"])}


def text(result: dict) -> str:
    return (f"{result['first']} minus {result['second']}: "
            f"{100 * result['difference']:+.2f} points, 95% interval "
            f"[{100 * result['low']:+.2f}, {100 * result['high']:+.2f}] "
            f"(p {result['p']:.3g})\n"
            f"method: {result['method']}\n"
            f"verdict: {result['verdict']}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="folder of the first set of runs")
    parser.add_argument("second", type=Path, help="folder of the second set of runs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = compare(args.first, args.second)
    sys.stdout.write(json.dumps(result) + "\n" if args.json else text(result))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
