"""Confusion matrix on the test split of a model run under one or more seeds, from their
test_metrics.json (best-epoch weights), summed over the seeds.

    python workflow_scripts/plot_confusion.py \
        --metrics results/best/seed_1/test_metrics.json results/best/seed_2/test_metrics.json \
        --run results/best/seed_1/run.json \
        --out results/figures/best_test_confusion.png results/figures/best_test_confusion.pdf
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.plots import new_figure, save_as
from msdrnn.results import describe_run, read_json

SECTION = "best_epoch"


def summed_confusion(metrics: list[dict], paths: list[Path]) -> tuple[np.ndarray, list[str]]:
    """The best-epoch confusion matrices of every seed, added up; genres must agree."""
    genres = metrics[0].get("genres")
    total = None
    for item, path in zip(metrics, paths, strict=True):
        if SECTION not in item or "confusion_matrix" not in item[SECTION]:
            raise DataError(f"{path}: no '{SECTION}.confusion_matrix' (expected the output "
                            "of evaluate.py)")
        if item.get("genres") != genres:
            raise DataError(f"{path}: genres {item.get('genres')} differ from {genres}")
        counts = np.asarray(item[SECTION]["confusion_matrix"], dtype=float)
        total = counts if total is None else total + counts
    return total, genres


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=Path, nargs="+", required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--title", default="", help="the model's name, first in its line")
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--out", nargs="+", required=True, help="files to write (png, pdf)")
    args = parser.parse_args(argv)

    metrics = [read_json(path) for path in args.metrics]
    counts, genres = summed_confusion(metrics, args.metrics)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    seeds = f"summed over {len(metrics)} seeds" if len(metrics) > 1 else "one seed"
    title = (f"Test confusion matrix (rows: true genre, row-normalised), best-epoch weights, "
             f"{seeds} – accuracy {accuracy:.1%}\n"
             f"{args.title + ' – ' if args.title else ''}"
             f"{describe_run(read_json(args.run), args.run)}")
    fig, ax = new_figure(title, "Predicted genre", "True genre", width=7.5)
    ax.grid(False)
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(genres)), genres, rotation=45, ha="right")
    ax.set_yticks(range(len(genres)), genres)
    for (i, j), value in np.ndenumerate(rates):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value > 0.5 else "black")
    fig.colorbar(image, ax=ax, label="fraction of the true genre")
    save_as(fig, args.out, args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
