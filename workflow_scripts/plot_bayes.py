"""Bayesian search figures: objective per trial and its running best (seed plot 31), and
error/accuracy curves of every trial, labelled by state size and steps (seed plots 32-35).

    python workflow_scripts/plot_bayes.py --trials results/bayes/trials.csv \
        --epochs 25 --top-fraction 0.1 --out-dir results/figures
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from msdrnn.plots import METRICS, new_figure, plot_runs, save
from msdrnn.results import read_history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=Path, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--top-fraction", type=float, required=True)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    trials = pd.read_csv(args.trials)
    about = (f"Bayesian optimisation of state size and RNN steps – objective: mean of the "
             f"top {args.top_fraction:.0%} valid accuracies of {args.epochs} epochs")

    fig, ax = new_figure(f"Objective per trial\n{about}", "Trial", "Objective")
    ax.plot(trials["trial"], trials["objective"], marker="o", label="objective")
    ax.plot(trials["trial"], trials["running_best"], drawstyle="steps-post",
            label="best so far")
    for row in trials.itertuples():
        ax.annotate(f"{row.state_size}/{row.steps}", (row.trial, row.objective),
                    fontsize=6, textcoords="offset points", xytext=(0, 4), ha="center")
    ax.legend(title="labels: state size / steps", title_fontsize=7)
    save(fig, args.out_dir / "bayes_objective", args.dpi)

    trial_dir = args.trials.parent
    histories = {
        f"{row.trial:03d}: state {row.state_size}, steps {row.steps}":
            read_history(trial_dir / f"trial_{row.trial:03d}" / "history.csv")
        for row in trials.itertuples()
    }
    for column, label in METRICS.items():
        name = column.replace("loss", "error").replace("acc", "accuracy")
        fig, ax = new_figure(f"{label} of every trial\n{about}", "Epoch", label, width=9.0)
        plot_runs(ax, histories, column)
        save(fig, args.out_dir / f"bayes_{name}", args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
