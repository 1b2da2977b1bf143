"""Shared plotting helpers: one look for every figure of the study. No TensorFlow."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

FORMATS = ("png", "pdf")

# history.csv column -> axis label
METRICS = {
    "train_loss": "Training error (cross-entropy)",
    "valid_loss": "Validation error (cross-entropy)",
    "train_acc": "Training accuracy",
    "valid_acc": "Validation accuracy",
}


def new_figure(title: str, xlabel: str, ylabel: str, width: float = 7.0):
    """A figure with a title wrapped to its width, labelled axes and a light grid."""
    fig, ax = plt.subplots(figsize=(width, 4.6))
    chars = int(width * 12)
    ax.set_title("\n".join(textwrap.fill(line, chars) for line in title.splitlines()),
                 fontsize=9)
    ax.set_xlabel(xlabel)
    if xlabel in ("Epoch", "Trial"):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def save_as(fig, paths: Sequence[str | Path], dpi: int) -> None:
    """Write the figure to each of ``paths`` (the format from each suffix) and close it:
    the rule names every file a plot job writes."""
    fig.tight_layout()
    for path in map(Path, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_pair(ax, history: pd.DataFrame, metric: str) -> None:
    """Training and validation curves of one run for 'loss' or 'acc'."""
    ax.plot(history["epoch"], history[f"train_{metric}"], marker=".", label="training")
    ax.plot(history["epoch"], history[f"valid_{metric}"], marker=".", label="validation")
    ax.legend()


def plot_runs(ax, histories: Mapping[str, pd.DataFrame], column: str) -> None:
    """One curve per run (label -> history), e.g. every grid steps value or search trial."""
    for label, history in histories.items():
        ax.plot(history["epoch"], history[column], marker=".", markersize=3, label=label)
    ax.legend(fontsize=7, ncol=2 if len(histories) > 8 else 1)
