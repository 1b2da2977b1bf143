"""Print the coverage and width of the test intervals on simulated studies (Markdown).

    python workflow_scripts/coverage_table.py                  # the table of docs/statistics.md
    python workflow_scripts/coverage_table.py --songs 300 --studies 200   # a quick look

For every regime of msdrnn.coverage, seeds per side, test songs and seed sd: the share of
simulated studies whose 95% interval holds the true difference, and the mean width in
points, for the percentile two-level bootstrap the study used before (old), the t interval
with each side's whole seed variance (review) and the study's t interval (new). The last
line gives the Monte Carlo error of a coverage near 95% at --studies. Deterministic for a
given --seed. NumPy only.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import numpy as np

from msdrnn.cli import run
from msdrnn.coverage import METHODS, REGIMES, SEED_COUNTS, SEED_SDS, SONG_COUNTS, measure
from msdrnn.errors import ConfigError

log = logging.getLogger("coverage_table")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, nargs="+", default=list(SONG_COUNTS))
    parser.add_argument("--studies", type=int, nargs="+", default=[2000, 500],
                        help="simulated studies per cell, one per --songs value (default "
                        "2000 at 300 songs, 500 at 10,000: the larger studies cost 33x more)")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEED_COUNTS))
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulation")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    header = ["Regime", "Test songs", "Seeds per side", "Seed sd (points)"]
    header += [f"{method}: coverage" for method in METHODS]
    header += [f"{method}: width (points)" for method in METHODS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    if len(args.studies) != len(args.songs):
        raise ConfigError(f"--studies has {len(args.studies)} values for {len(args.songs)} "
                          "--songs values: give one per song count")
    studies = dict(zip(args.songs, args.studies, strict=True))
    for regime in REGIMES:
        for songs in args.songs:
            for seeds in args.seeds:
                for seed_sd in SEED_SDS:
                    cells = measure(regime, seeds, songs, seed_sd, studies[songs], args.seed)
                    row = [regime.name, f"{songs:,}", str(seeds), f"{100 * seed_sd:g}"]
                    row[1] += f" ({studies[songs]} studies)"
                    row += [f"{cells[m].coverage:.3f}" for m in METHODS]
                    row += [f"{100 * cells[m].width:.2f}" for m in METHODS]
                    lines.append("| " + " | ".join(row) + " |")
                    log.info("%s", lines[-1])
    errors = "; ".join(f"{count} studies at {songs:,} songs: {np.sqrt(0.95 * 0.05 / count):.3f}"
                       for songs, count in studies.items())
    lines += ["", "One binomial standard error of a coverage near 95% (Monte Carlo error): "
              f"{errors}. Simulation seed {args.seed}."]
    sys.stdout.write("\n".join(lines) + "\n")
    log.info("%.0f s", time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
