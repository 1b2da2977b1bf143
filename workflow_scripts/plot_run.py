"""Error and accuracy curves of one training run (seed plots 23-24 and 36-37).

    python workflow_scripts/plot_run.py --history results/baseline/history.csv \
        --run results/baseline/run.json --title Baseline --out-prefix results/figures/baseline
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from msdrnn.plots import new_figure, plot_pair, save
from msdrnn.results import describe_run, read_history, read_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--out-prefix", required=True)
    args = parser.parse_args(argv)

    history = read_history(args.history)
    run = read_json(args.run)
    about = f"{args.title} – {describe_run(run)} – {len(history)} epochs"
    for metric, name, ylabel in [("loss", "error", "Error (cross-entropy)"),
                                 ("acc", "accuracy", "Accuracy")]:
        fig, ax = new_figure(f"Training & validation {name}\n{about}", "Epoch", ylabel)
        plot_pair(ax, history, metric)
        save(fig, f"{args.out_prefix}_{name}", args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())
