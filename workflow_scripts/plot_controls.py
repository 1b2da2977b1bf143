"""One figure of the answer: every model's accuracy next to the controls, and the primary
model's differences from each with their intervals, from results/summary.json (test: at
the level of each comparison's family, as the summary shows it; validation: 95%).

    python workflow_scripts/plot_controls.py --summary results/summary.json \
        --out results/figures/controls_accuracy.png results/figures/controls_accuracy.pdf
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.plots import save_as
from msdrnn.results import read_json

SERIES = (("valid", "peak validation (selected on it)", "tab:blue"),
          ("test_best_epoch", "test (best-epoch weights)", "tab:orange"))


def draw_accuracies(ax, summary: dict) -> None:
    """Per model: one dot per seed and a bar at the mean, validation and test side by side."""
    models = summary["models"]
    width = 0.38
    for offset, (key, label, colour) in zip((-width / 2, width / 2), SERIES, strict=True):
        for i, model in enumerate(models):
            values = model[key]
            if not values:
                continue
            ax.bar(i + offset, np.mean(values), width, color=colour, alpha=0.45,
                   label=label if i == 0 else None)
            ax.scatter(np.full(len(values), i + offset), values, color=colour, s=14, zorder=3)
    ax.axhline(summary["chance"], color="grey", linestyle="--", linewidth=1,
               label="chance")
    ax.set_xticks(range(len(models)),
                  [textwrap.fill(m["label"], 16) for m in models], fontsize=7)
    ax.set_ylabel("Accuracy")
    ax.set_title("Accuracy per model (bars: mean, dots: seeds)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")


def draw_differences(ax, summary: dict) -> None:
    """The primary model minus each other model: the difference and its interval,
    validation (95%) and test (its family's level: 95% for the primary comparison, the
    Holm step's for the others); the zero line is what a verdict is read against."""
    comparisons = summary["comparisons"]
    for offset, (key, label, colour) in zip((-0.15, 0.15), (("valid", *SERIES[0][1:]),
                                                           ("test", *SERIES[1][1:])),
                                            strict=True):
        for i, comparison in enumerate(comparisons):
            interval = comparison[key]
            if interval is None:
                continue
            y = i + offset
            ax.scatter([100 * interval["difference"]], [y], color=colour, zorder=3,
                       label=label if i == 0 else None)
            if interval["low"] is not None:
                ax.plot([100 * interval["low"], 100 * interval["high"]], [y, y],
                        color=colour, linewidth=2)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(range(len(comparisons)),
                  [textwrap.fill(c["name"].replace(" vs ", " minus "), 28)
                   for c in comparisons], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Difference in accuracy (points); test: interval at its family's level "
                  "(summary.md), validation: 95%", fontsize=7)
    ax.set_title("RNN, best parameters, minus each other model", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--out", nargs="+", required=True, help="files to write (png, pdf)")
    args = parser.parse_args(argv)

    summary = read_json(args.summary)
    for key in ("models", "comparisons", "chance"):
        if key not in summary:
            raise DataError(f"{args.summary}: no '{key}' (expected write_summary.py's JSON)")
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8),
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    draw_accuracies(left, summary)
    draw_differences(right, summary)
    fig.suptitle("Does the RNN use the order of the segments? The RNN with the best "
                 "parameters against its controls and the non-recurrent models", fontsize=10)
    save_as(fig, args.out, args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
