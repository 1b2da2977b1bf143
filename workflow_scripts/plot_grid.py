"""Steps grid figures: max valid accuracy per steps value (error bars over seeds) and
error/accuracy curves of the best steps values.

    python workflow_scripts/plot_grid.py --summary results/grid/summary.csv \
        --histories results/grid/steps_*/seed_*/history.csv \
        --top-steps 7 --state-size 10 --epochs 35 \
        --max-valid-accuracy grid_max_valid_accuracy.png grid_max_valid_accuracy.pdf \
        --train-error grid_train_error.png ... --valid-accuracy grid_valid_accuracy.pdf

Each figure option takes the files to write it to, one per format (from the suffix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.plots import METRICS, new_figure, plot_runs, save_as
from msdrnn.results import grid_point, read_history

SUMMARY_COLUMNS = ("steps", "seed", "max_valid_acc")
# history.csv column -> the option naming that curve figure's files
CURVE_OPTIONS = {column: column.replace("loss", "error").replace("acc", "accuracy")
                 for column in METRICS}


def read_summary(path: Path) -> pd.DataFrame:
    """The grid's summary.csv, checked for the columns the bar chart uses."""
    try:
        summary = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read the grid summary ({err})") from None
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing or summary.empty:
        raise DataError(f"{path}: expected rows with columns {list(SUMMARY_COLUMNS)}; "
                        f"missing {missing or 'rows'}")
    return summary


def mean_histories(paths: list[Path]) -> dict[int, pd.DataFrame]:
    """Steps value -> per-epoch mean over its seeds' histories."""
    by_steps: dict[int, list[pd.DataFrame]] = {}
    for path in paths:
        steps, _seed = grid_point(path)
        by_steps.setdefault(steps, []).append(read_history(path))
    return {steps: pd.concat(frames).groupby("epoch", as_index=False).mean(numeric_only=True)
            for steps, frames in by_steps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--histories", nargs="+", type=Path, required=True,
                        help="history.csv of every grid run, .../steps_K/seed_S/history.csv")
    parser.add_argument("--top-steps", type=int, default=7)
    parser.add_argument("--state-size", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--max-valid-accuracy", nargs="+", type=Path, required=True,
                        help="files of the bar chart")
    for option in CURVE_OPTIONS.values():
        parser.add_argument(f"--{option.replace('_', '-')}", nargs="+", type=Path,
                            required=True, help=f"files of the {option} curves")
    args = parser.parse_args(argv)

    summary = read_summary(args.summary)
    histories = mean_histories(args.histories)
    per_steps = (summary.groupby("steps")["max_valid_acc"]
                 .agg(["mean", "std", "count"]).reset_index())
    absent = sorted(set(per_steps["steps"]) - set(histories))
    if absent:
        raise DataError(f"{args.summary}: steps {absent} have no history among --histories")
    seeds = int(per_steps["count"].max())
    about = (f"Basic RNN without readout layer – State size: {args.state_size} – "
             f"{args.epochs} epochs")
    over_seeds = f" – mean ± sd over {seeds} seeds" if seeds > 1 else ""

    fig, ax = new_figure(
        f"Maximum validation accuracy per number of RNN steps\n{about}{over_seeds}",
        "RNN steps", "Max validation accuracy")
    positions = np.arange(len(per_steps))
    errors = per_steps["std"].fillna(0).to_numpy() if seeds > 1 else None
    ax.bar(positions, per_steps["mean"], yerr=errors, capsize=3, color="tab:blue")
    ax.set_xticks(positions, per_steps["steps"].astype(str))
    ax.set_ylim(0, min(1.0, per_steps["mean"].max() * 1.25 + 0.02))
    save_as(fig, args.max_valid_accuracy, args.dpi)

    best = per_steps.sort_values("mean", ascending=False).head(args.top_steps)["steps"]
    curves = {f"steps {k}": histories[k] for k in best}
    order = ", ".join(str(k) for k in best)
    if seeds > 1:
        about += f" – mean over {seeds} seeds"
    for column, label in METRICS.items():
        fig, ax = new_figure(f"{label} of the {len(best)} best RNN steps ({order})\n{about}",
                             "Epoch", label)
        plot_runs(ax, curves, column)
        save_as(fig, getattr(args, CURVE_OPTIONS[column]), args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
