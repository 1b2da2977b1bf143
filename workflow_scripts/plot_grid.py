"""Steps grid figures: max valid accuracy per steps value (seed plot 25, error bars over
seeds) and error/accuracy curves of the best steps values (seed plots 26-29).

    python workflow_scripts/plot_grid.py --summary results/grid/summary.csv \
        --top-steps 7 --state-size 10 --epochs 35 --out-dir results/figures
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from msdrnn.plots import METRICS, new_figure, plot_runs, save
from msdrnn.results import read_history


def mean_history(paths: list[str]) -> pd.DataFrame:
    """Per-epoch mean over the seeds of one steps value."""
    frames = [read_history(p) for p in paths]
    return pd.concat(frames).groupby("epoch", as_index=False).mean(numeric_only=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--top-steps", type=int, default=7)
    parser.add_argument("--state-size", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    summary = pd.read_csv(args.summary)
    per_steps = (summary.groupby("steps")["max_valid_acc"]
                 .agg(["mean", "std", "count"]).reset_index())
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
    save(fig, args.out_dir / "grid_max_valid_accuracy", args.dpi)

    best = per_steps.sort_values("mean", ascending=False).head(args.top_steps)["steps"]
    histories = {
        f"steps {k}": mean_history(summary.loc[summary["steps"] == k, "history"].tolist())
        for k in best
    }
    order = ", ".join(str(k) for k in best)
    if seeds > 1:
        about += f" – mean over {seeds} seeds"
    for column, label in METRICS.items():
        name = column.replace("loss", "error").replace("acc", "accuracy")
        fig, ax = new_figure(f"{label} of the {len(best)} best RNN steps ({order})\n{about}",
                             "Epoch", label)
        plot_runs(ax, histories, column)
        save(fig, args.out_dir / f"grid_{name}", args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
