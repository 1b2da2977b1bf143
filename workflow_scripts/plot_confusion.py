"""Confusion matrix of a model on the test split, from its test_metrics.json.

    python workflow_scripts/plot_confusion.py --metrics results/best/test_metrics.json \
        --run results/best/run.json --out-prefix results/figures/best_test
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from msdrnn.plots import new_figure, save
from msdrnn.results import describe_run, read_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--out-prefix", required=True)
    args = parser.parse_args(argv)

    metrics = read_json(args.metrics)
    counts = np.asarray(metrics["confusion_matrix"], dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    genres = metrics["genres"]
    title = (f"Test confusion matrix (rows: true genre, row-normalised) – accuracy "
             f"{metrics['accuracy']:.1%}\nBest parameters – {describe_run(read_json(args.run))}")
    fig, ax = new_figure(title, "Predicted genre", "True genre", width=7.5)
    ax.grid(False)
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(genres)), genres, rotation=45, ha="right")
    ax.set_yticks(range(len(genres)), genres)
    for (i, j), value in np.ndenumerate(rates):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value > 0.5 else "black")
    fig.colorbar(image, ax=ax, label="fraction of the true genre")
    save(fig, f"{args.out_prefix}_confusion", args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
