"""Bayesian search figures: objective per trial and its running best, the explored space
(state size against steps, coloured by objective, the best marked), and the error and
accuracy curves of every trial, labelled by state size and steps. ``--names`` plots
another search's dimensions (the feedforward network's ``width depth``).

    python workflow_scripts/plot_bayes.py --trials results/bayes/trials.csv \
        --histories results/bayes/trial_000/history.csv ... --epochs 25 --top-fraction 0.1 \
        --objective results/figures/bayes_objective.png results/figures/bayes_objective.pdf \
        --space results/figures/bayes_space.png results/figures/bayes_space.pdf \
        --train-error ... --valid-error ... --train-accuracy ... --valid-accuracy ...

``--histories`` lists one history.csv per row of trials.csv, in its order. Each figure
option takes the files to write (png, pdf, ...); only ``--objective`` is required, the
others are drawn when given.
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


SEARCHES = {  # names -> (title, axis label of each dimension)
    ("state_size", "steps"): ("Bayesian optimisation of state size and RNN steps",
                              ("State size", "RNN steps per part")),
    ("width", "depth"): ("Bayesian optimisation of the feedforward network's width and depth",
                         ("Hidden width", "Hidden layers")),
}


def plot_space(trials: pd.DataFrame, about: str, names: tuple[str, str] = ("state_size", "steps"),
               labels: tuple[str, str] = ("State size", "RNN steps per part")):
    """The first dimension against the second (the categorical one), every trial a point
    coloured by its objective; the best trial ringed. The second on a log axis labelled
    with the values tried."""
    first, second = names
    fig, ax = new_figure(f"Explored search space\n{about}", labels[1], labels[0])
    order = trials.sort_values("objective")  # best drawn last, on top
    points = ax.scatter(order[second], order[first], c=order["objective"],
                        cmap="viridis", s=60, edgecolors="black", linewidths=0.4, zorder=3)
    best = trials.loc[trials["objective"].idxmax()]
    ax.scatter([best[second]], [best[first]], s=260, facecolors="none",
               edgecolors="red", linewidths=1.8, zorder=4,
               label=f"best: trial {int(best['trial'])} ({first} {int(best[first])}, "
                     f"{second} {int(best[second])})")
    for row in trials.itertuples():
        ax.annotate(str(row.trial), (getattr(row, second), getattr(row, first)), fontsize=6,
                    textcoords="offset points", xytext=(5, 4))
    ax.set_xscale("log")
    values = sorted(int(k) for k in trials[second].unique())
    ax.set_xticks(values, [str(k) for k in values])
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
    parser.add_argument("--names", nargs=2, default=["state_size", "steps"],
                        choices=sorted({name for names in SEARCHES for name in names}),
                        help="the search's dimensions: state_size steps, or width depth")
    parser.add_argument("--objective", nargs="+", required=True)
    for name in ("space", *CURVES.values()):
        parser.add_argument(f"--{name.replace('_', '-')}", nargs="+")
    args = parser.parse_args(argv)

    names = tuple(args.names)
    if names not in SEARCHES:
        raise DataError(f"--names {' '.join(names)}: expected one of "
                        f"{[' '.join(n) for n in SEARCHES]}")
    title, labels = SEARCHES[names]
    columns = ("trial", *names, "objective", "running_best")
    trials = pd.read_csv(args.trials)
    missing = [c for c in columns if c not in trials.columns]
    if missing or trials.empty:
        raise DataError(f"{args.trials}: expected trial rows with columns "
                        f"{', '.join(columns)}; missing {missing or 'rows'}")
    if len(args.histories) != len(trials):
        raise DataError(f"{args.trials} has {len(trials)} trials but {len(args.histories)} "
                        "histories were given (one per trial, in order)")
    about = (f"{title} – objective: mean of the "
             f"top {args.top_fraction:.0%} valid accuracies of {args.epochs} epochs")
    first, second = names

    fig, ax = new_figure(f"Objective per trial\n{about}", "Trial", "Objective")
    ax.plot(trials["trial"], trials["objective"], marker="o", label="objective")
    ax.plot(trials["trial"], trials["running_best"], drawstyle="steps-post",
            label="best so far")
    for row in trials.itertuples():
        ax.annotate(f"{getattr(row, first)}/{getattr(row, second)}",
                    (row.trial, row.objective),
                    fontsize=6, textcoords="offset points", xytext=(0, 4), ha="center")
    ax.legend(title=f"labels: {labels[0].lower()} / {labels[1].lower()}", title_fontsize=7)
    save_as(fig, args.objective, args.dpi)
    if args.space:
        save_as(plot_space(trials, about, names, labels), args.space, args.dpi)

    histories = {
        f"{row.trial:03d}: {first} {getattr(row, first)}, {second} {getattr(row, second)}":
            read_history(path)
        for row, path in zip(trials.itertuples(), args.histories, strict=True)
    }
    for column, name in CURVES.items():
        if not getattr(args, name):
            continue
        fig, ax = new_figure(f"{METRICS[column]} of every trial\n{about}", "Epoch",
                             METRICS[column], width=9.0)
        plot_runs(ax, histories, column)
        save_as(fig, getattr(args, name), args.dpi)
    log.info("best objective %.4f", float(np.max(trials["objective"])))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
