"""Bayesian search figures: objective per trial and its running best, the explored space
(state size against steps, coloured by objective, the best marked), and the error and
accuracy curves of every trial, labelled by state size and steps.

    python workflow_scripts/plot_bayes.py --trials results/bayes/trials.csv \
        --histories results/bayes/trial_000/history.csv ... --epochs 25 --top-fraction 0.1 \
        --objective results/figures/bayes_objective.png results/figures/bayes_objective.pdf \
        --space results/figures/bayes_space.png results/figures/bayes_space.pdf \
        --train-error ... --valid-error ... --train-accuracy ... --valid-accuracy ...

``--histories`` lists one history.csv per row of trials.csv, in its order. Each figure
option takes the files to write (png, pdf, ...).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.plots import METRICS, new_figure, plot_runs, save_as
from msdrnn.results import read_history

log = logging.getLogger("plot_bayes")
CURVES = {"train_loss": "train_error", "valid_loss": "valid_error",
          "train_acc": "train_accuracy", "valid_acc": "valid_accuracy"}


def plot_space(trials: pd.DataFrame, about: str):
    """State size against steps, every trial a point coloured by its objective; the best
    trial ringed. Steps on a log axis labelled with the values tried."""
    fig, ax = new_figure(f"Explored search space\n{about}", "RNN steps per part",
                         "State size")
    order = trials.sort_values("objective")  # best drawn last, on top
    points = ax.scatter(order["steps"], order["state_size"], c=order["objective"],
                        cmap="viridis", s=60, edgecolors="black", linewidths=0.4, zorder=3)
    best = trials.loc[trials["objective"].idxmax()]
    ax.scatter([best["steps"]], [best["state_size"]], s=260, facecolors="none",
               edgecolors="red", linewidths=1.8, zorder=4,
               label=f"best: trial {int(best['trial'])} (state {int(best['state_size'])}, "
                     f"steps {int(best['steps'])})")
    for row in trials.itertuples():
        ax.annotate(str(row.trial), (row.steps, row.state_size), fontsize=6,
                    textcoords="offset points", xytext=(5, 4))
    ax.set_xscale("log")
    steps = sorted(int(k) for k in trials["steps"].unique())
    ax.set_xticks(steps, [str(k) for k in steps])
    ax.minorticks_off()
    fig.colorbar(points, ax=ax, label="objective")
    ax.legend(fontsize=7, title="labels: trial number", title_fontsize=7)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=Path, required=True)
    parser.add_argument("--histories", type=Path, nargs="+", required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--top-fraction", type=float, required=True)
    parser.add_argument("--dpi", type=int, default=120)
    for name in ("objective", "space", *CURVES.values()):
        parser.add_argument(f"--{name.replace('_', '-')}", nargs="+", required=True)
    args = parser.parse_args(argv)

    trials = pd.read_csv(args.trials)
    missing = [c for c in ("trial", "state_size", "steps", "objective", "running_best")
               if c not in trials.columns]
    if missing or trials.empty:
        raise DataError(f"{args.trials}: expected trial rows with columns trial, state_size, "
                        f"steps, objective, running_best; missing {missing or 'rows'}")
    if len(args.histories) != len(trials):
        raise DataError(f"{args.trials} has {len(trials)} trials but {len(args.histories)} "
                        "histories were given (one per trial, in order)")
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
    save_as(fig, args.objective, args.dpi)
    save_as(plot_space(trials, about), args.space, args.dpi)

    histories = {
        f"{row.trial:03d}: state {row.state_size}, steps {row.steps}": read_history(path)
        for row, path in zip(trials.itertuples(), args.histories, strict=True)
    }
    for column, name in CURVES.items():
        fig, ax = new_figure(f"{METRICS[column]} of every trial\n{about}", "Epoch",
                             METRICS[column], width=9.0)
        plot_runs(ax, histories, column)
        save_as(fig, getattr(args, name), args.dpi)
    log.info("best objective %.4f", float(np.max(trials["objective"])))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
