"""Bayesian search figures of any model: objective per trial and its running best, the
explored space (the first dimension against the second, coloured by objective, the best
marked), and the error and accuracy curves of every trial, labelled by their values.
``--names`` are the search's dimensions (columns of trials.csv), ``--title`` the model.

    python workflow_scripts/plot_bayes.py --trials results/rnn_search/trials.csv \
        --histories results/rnn_search/trial_000/history.csv ... --epochs 25 \
        --top-fraction 0.1 --names state_size steps --title "RNN, best parameters" \
        --objective results/figures/rnn_search_objective.png ...pdf \
        --space results/figures/rnn_search_space.png ...pdf \
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


def axis_label(name: str) -> str:
    """'state_size' -> 'State size'."""
    return name.replace("_", " ").capitalize()


def value_text(value) -> str:
    """A point's value as a label: integers as they are, rates to two decimals."""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.2f}"


def plot_space(trials: pd.DataFrame, about: str, names: tuple[str, str]):
    """The first dimension against the second, every trial a point coloured by its
    objective; the best trial ringed. A positive second dimension spanning a factor of 4
    or more on a log axis; a second dimension of few values labelled with them."""
    first, second = names
    fig, ax = new_figure(f"Explored search space\n{about}", axis_label(second),
                         axis_label(first))
    order = trials.sort_values("objective")  # best drawn last, on top
    points = ax.scatter(order[second], order[first], c=order["objective"],
                        cmap="viridis", s=60, edgecolors="black", linewidths=0.4, zorder=3)
    best = trials.loc[trials["objective"].idxmax()]
    ax.scatter([best[second]], [best[first]], s=260, facecolors="none",
               edgecolors="red", linewidths=1.8, zorder=4,
               label=f"best: trial {int(best['trial'])} ({first} {value_text(best[first])}, "
                     f"{second} {value_text(best[second])})")
    for row in trials.itertuples():
        ax.annotate(str(row.trial), (getattr(row, second), getattr(row, first)), fontsize=6,
                    textcoords="offset points", xytext=(5, 4))
    values = sorted(trials[second].unique())
    if min(values) > 0 and max(values) >= 4 * min(values):
        ax.set_xscale("log")
    if len(values) <= 20 and all(float(v).is_integer() for v in values):
        ax.set_xticks(values, [value_text(v) for v in values])
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
    parser.add_argument("--names", nargs="+", required=True,
                        help="the search's dimensions, columns of --trials (the space "
                             "figure needs two or more: the first two)")
    parser.add_argument("--title", default="the model", help="the searched model's name")
    parser.add_argument("--objective", nargs="+", required=True)
    for name in ("space", *CURVES.values()):
        parser.add_argument(f"--{name.replace('_', '-')}", nargs="+")
    args = parser.parse_args(argv)

    names = tuple(args.names)
    if args.space and len(names) < 2:
        raise DataError(f"--space needs a search of two or more dimensions; --names gives "
                        f"{list(names)}")
    title = f"Bayesian optimisation of the {args.title}: {', '.join(map(axis_label, names))}"
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
    def point_text(row) -> str:
        return "/".join(value_text(getattr(row, name)) for name in names)

    fig, ax = new_figure(f"Objective per trial\n{about}", "Trial", "Objective")
    ax.plot(trials["trial"], trials["objective"], marker="o", label="objective")
    ax.plot(trials["trial"], trials["running_best"], drawstyle="steps-post",
            label="best so far")
    for row in trials.itertuples():
        ax.annotate(point_text(row), (row.trial, row.objective),
                    fontsize=6, textcoords="offset points", xytext=(0, 4), ha="center")
    ax.legend(title=f"labels: {' / '.join(names)}", title_fontsize=7)
    save_as(fig, args.objective, args.dpi)
    if args.space:
        save_as(plot_space(trials, about, names[:2]), args.space, args.dpi)

    histories = {
        f"{row.trial:03d}: " + ", ".join(f"{name} {value_text(getattr(row, name))}"
                                         for name in names):
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
