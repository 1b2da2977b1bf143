"""Error and accuracy curves of one training run.

    python workflow_scripts/plot_run.py --history results/baseline/history.csv \
        --run results/baseline/run.json --title Baseline \
        --error baseline_error.png baseline_error.pdf \
        --accuracy baseline_accuracy.png baseline_accuracy.pdf

--error and --accuracy take the files to write each figure to, one per format (from the
suffix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from msdrnn.cli import run
from msdrnn.plots import new_figure, plot_pair, save_as
from msdrnn.results import describe_run, read_history, read_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--error", nargs="+", type=Path, required=True,
                        help="files of the error figure")
    parser.add_argument("--accuracy", nargs="+", type=Path, required=True,
                        help="files of the accuracy figure")
    args = parser.parse_args(argv)

    history = read_history(args.history)
    described = describe_run(read_json(args.run), args.run)
    about = f"{args.title} – {described} – {len(history)} epochs"
    for metric, name, ylabel, files in [("loss", "error", "Error (cross-entropy)", args.error),
                                        ("acc", "accuracy", "Accuracy", args.accuracy)]:
        fig, ax = new_figure(f"Training & validation {name}\n{about}", "Epoch", ylabel)
        plot_pair(ax, history, metric)
        save_as(fig, files, args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
