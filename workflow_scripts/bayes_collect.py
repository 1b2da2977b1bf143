"""Collect the Bayesian-search trials into trials.csv and pick the best into best.json.

    python workflow_scripts/bayes_collect.py --top-fraction 0.1 \
        --trials-out results/bayes/trials.csv --best-out results/bayes/best.json \
        results/bayes/trial_*/proposal.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from msdrnn.results import peak, read_history, read_json
from msdrnn.search import objective


def collect(proposals: list[Path], top_fraction: float) -> pd.DataFrame:
    """One row per trial: its point, objective, max valid accuracy and its epoch."""
    rows = []
    for path in proposals:
        proposal = read_json(path)
        history = read_history(path.with_name("history.csv"))
        best_acc, best_epoch = peak(history)
        rows.append({
            "trial": proposal["trial"],
            "kind": proposal["kind"],
            "state_size": proposal["state_size"],
            "steps": proposal["steps"],
            "objective": objective(history["valid_acc"], top_fraction),
            "max_valid_acc": best_acc,
            "epoch_of_max": best_epoch,
        })
    table = pd.DataFrame(rows).sort_values("trial").reset_index(drop=True)
    table["running_best"] = table["objective"].cummax()
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("proposals", nargs="+", type=Path)
    parser.add_argument("--top-fraction", type=float, default=0.1)
    parser.add_argument("--trials-out", type=Path, required=True)
    parser.add_argument("--best-out", type=Path, required=True)
    args = parser.parse_args(argv)

    table = collect(args.proposals, args.top_fraction)
    table.to_csv(args.trials_out, index=False, float_format="%.6f")
    best = table.loc[table["objective"].idxmax()]  # first trial wins a tie
    result = {
        "state_size": int(best["state_size"]),
        "steps": int(best["steps"]),
        "readout": True,
        "trial": int(best["trial"]),
        "objective": float(best["objective"]),
        "trials": len(table),
    }
    args.best_out.write_text(json.dumps(result, indent=2) + "\n")
    print(table.to_string(index=False))
    print(f"best: state {result['state_size']}, steps {result['steps']} "
          f"(trial {result['trial']:03d}, objective {result['objective']:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
