"""Summarise the steps grid: one row per steps value and seed.

    python workflow_scripts/summarize_grid.py --out results/grid/summary.csv \
        results/grid/steps_*/seed_*/history.csv

Each history's steps value and seed come from its folder, .../steps_K/seed_S/.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from msdrnn.cli import run
from msdrnn.files import atomic_write
from msdrnn.results import grid_point, peak, read_history

log = logging.getLogger("summarize_grid")


def summarize(histories: list[Path]) -> pd.DataFrame:
    """One row per grid run: its peak, final and minimum-loss values."""
    rows = []
    for path in histories:
        steps, seed = grid_point(path)
        history = read_history(path)
        best_acc, best_epoch = peak(history)
        last = history.iloc[-1]
        rows.append({
            "steps": steps,
            "seed": seed,
            "max_valid_acc": best_acc,
            "epoch_of_max": best_epoch,
            "final_valid_acc": float(last["valid_acc"]),
            "final_train_acc": float(last["train_acc"]),
            "min_valid_loss": float(history["valid_loss"].min()),
            "epochs": len(history),
            "history": path.as_posix(),
        })
    return pd.DataFrame(rows).sort_values(["steps", "seed"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("histories", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    table = summarize(args.histories)
    atomic_write(args.out, table.to_csv(index=False, float_format="%.6f").encode())
    log.info("grid summary:\n%s", table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
