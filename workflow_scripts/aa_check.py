"""The A/A check: how often the verdict rule finds a difference between runs of one model.

    python workflow_scripts/aa_check.py --group 2 --max-splits 2000 --seed 0 \
        --out results/calibration/aa_check.json --out-markdown results/calibration/aa_check.md \
        results/calibration/seed_11/test_metrics.json ...

The test metrics are runs of the same training procedure (the primary model's best
parameters, summary.primary) under different seeds. Each split puts ``--group`` runs in one
group and ``--group`` other runs in a second (the size the study compares,
len(models.<primary>.seeds)), and applies the
summary's verdict rule (msdrnn.stats.test_interval at 95%, the songs paired by track ID).
Both groups come from one procedure, so every verdict other than "no clear difference" is
a false positive: their share should be at most 5%. The splits are all unordered pairs of
disjoint groups when there are at most ``--max-splits``, else ``--max-splits`` of them
drawn at random (``--seed``). They share runs, so they are not independent: the share is
the rule's false-positive rate on these runs, not a binomial count. Also written: the sd
over the runs of their test accuracy (best-epoch weights), the seed sd of the study.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import sys
from pathlib import Path

import numpy as np

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.files import atomic_write
from msdrnn.paired import correctness, read_runs
from msdrnn.stats import NO_CLEAR, test_interval

log = logging.getLogger("aa_check")
ALLOWED = 0.05  # the verdict rule's nominal false-positive rate


def split_count(runs: int, group: int) -> int:
    """Unordered pairs of disjoint groups of ``group`` runs out of ``runs``."""
    return math.comb(runs, group) * math.comb(runs - group, group) // 2


def splits(runs: int, group: int, max_splits: int, seed: int
           ) -> tuple[list[tuple[tuple[int, ...], tuple[int, ...]]], bool]:
    """The splits evaluated (pairs of disjoint index groups, each unordered pair once) and
    whether they are all of them."""
    total = split_count(runs, group)
    if total <= max_splits:
        every = []
        for first in itertools.combinations(range(runs), group):
            rest = [i for i in range(runs) if i not in first]
            every += [(first, second) for second in itertools.combinations(rest, group)
                      if first < second]
        return every, True
    rng = np.random.default_rng(seed)
    drawn: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    while len(drawn) < max_splits:
        order = rng.permutation(runs)
        first, second = (tuple(sorted(order[:group].tolist())),
                         tuple(sorted(order[group:2 * group].tolist())))
        drawn.add((min(first, second), max(first, second)))
    return sorted(drawn), False


def check(right: np.ndarray, group: int, max_splits: int, seed: int) -> dict:
    """The A/A check of (runs, songs) right/wrong."""
    chosen, everything = splits(right.shape[0], group, max_splits, seed)
    verdicts = [test_interval(right[list(a)], right[list(b)]).direction() for a, b in chosen]
    accuracies = right.mean(axis=1)
    share = sum(v != NO_CLEAR for v in verdicts) / len(verdicts)
    return {"runs": int(right.shape[0]), "songs": int(right.shape[1]), "group": group,
            "splits": len(chosen), "all_splits": everything,
            "possible_splits": split_count(right.shape[0], group),
            "verdicts": len(verdicts) - verdicts.count(NO_CLEAR), "verdict_share": share,
            "allowed": ALLOWED, "within": share <= ALLOWED,
            "accuracies": accuracies.tolist(), "mean_accuracy": float(accuracies.mean()),
            "seed_sd": float(accuracies.std(ddof=1))}


def markdown(record: dict) -> str:
    how = "all of them" if record["all_splits"] else (
        f"drawn at random out of {record['possible_splits']:,}")
    return "\n".join([
        "# A/A check: the verdict rule on runs of one model",
        "",
        f"{record['runs']} runs of the primary model's best parameters (calibration.seeds) on "
        f"{record['songs']} test songs; {record['splits']:,} splits ({how}) into two "
        f"groups of {record['group']} runs (the study's models.<primary>.seeds).",
        "",
        "| Splits | With a verdict | Share | Allowed | Seed sd of test accuracy | "
        "Mean test accuracy |",
        "|---|---|---|---|---|---|",
        f"| {record['splits']:,} | {record['verdicts']:,} | "
        f"{100 * record['verdict_share']:.1f}% | {100 * record['allowed']:.0f}% | "
        f"{100 * record['seed_sd']:.2f} points | {100 * record['mean_accuracy']:.2f}% |",
        "",
        "Every verdict here is a false positive: both groups are runs of one procedure. "
        "The splits share runs, so the share is not a binomial count over independent "
        "trials.",
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", type=Path, nargs="+", help="test_metrics.json, one per run")
    parser.add_argument("--group", type=int, required=True,
                        help="runs per group: the study's seeds per model")
    parser.add_argument("--max-splits", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="seed of drawn splits")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--out-markdown", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.group < 1 or args.max_splits < 1:
        raise DataError(f"--group ({args.group}) and --max-splits ({args.max_splits}) must "
                        "be at least 1")
    if len(args.tests) < 2 * args.group:
        raise DataError(f"{len(args.tests)} runs given; two groups of {args.group} need at "
                        f"least {2 * args.group}")
    right = correctness(read_runs(args.tests), [p.as_posix() for p in args.tests])
    record = {"path": args.out_markdown.as_posix(),
              **check(right, args.group, args.max_splits, args.seed)}
    atomic_write(args.out, (json.dumps(record, indent=1) + "\n").encode())
    atomic_write(args.out_markdown, markdown(record).encode())
    log.info("%d of %d splits gave a verdict (%.1f%%); seed sd %.2f points",
             record["verdicts"], record["splits"], 100 * record["verdict_share"],
             100 * record["seed_sd"])
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
