"""Summarise the steps grid: one row per steps value and seed.

    python workflow_scripts/summarize_grid.py --out results/grid/summary.csv \
        results/grid/steps_*/seed_*/history.csv
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from msdrnn.results import peak, read_history

RUN_DIR = re.compile(r"steps_(\d+)/seed_(\d+)$")


def summarize(histories: list[Path]) -> pd.DataFrame:
    rows = []
    for path in histories:
        match = RUN_DIR.search(path.parent.as_posix())
        if not match:
            raise ValueError(f"{path}: expected a path like .../steps_K/seed_S/history.csv")
        history = read_history(path)
        best_acc, best_epoch = peak(history)
        last = history.iloc[-1]
        rows.append({
            "steps": int(match[1]),
            "seed": int(match[2]),
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
    table.to_csv(args.out, index=False, float_format="%.6f")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
