"""Collect the Bayesian-search trials into trials.csv and pick the best into best.json.

    python workflow_scripts/bayes_collect.py --top-fraction 0.1 \
        --proposals results/bayes/trial_*/proposal.json \
        --histories results/bayes/trial_*/history.csv \
        --trials-out results/bayes/trials.csv --best-out results/bayes/best.json

The i-th history is the result of the i-th proposal.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.files import atomic_write
from msdrnn.results import peak, read_history, read_json, require
from msdrnn.search import objective

log = logging.getLogger("bayes_collect")
PROPOSAL_KEYS = ("trial", "kind", "state_size", "steps")


def collect(proposals: list[Path], histories: list[Path], top_fraction: float) -> pd.DataFrame:
    """One row per trial: its point, objective, max valid accuracy and its epoch."""
    if len(proposals) != len(histories):
        raise DataError(f"{len(proposals)} proposals but {len(histories)} histories; "
                        "expected one history per proposal, in the same order")
    if not proposals:
        raise DataError("no trials to collect; expected at least one proposal and history")
    rows = []
    for proposal_path, history_path in zip(proposals, histories, strict=True):
        proposal = read_json(proposal_path)
        require(proposal, PROPOSAL_KEYS, proposal_path)
        history = read_history(history_path)
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
    parser.add_argument("--proposals", nargs="+", type=Path, required=True,
                        help="proposal.json of every trial")
    parser.add_argument("--histories", nargs="+", type=Path, required=True,
                        help="history.csv of every trial, in the order of --proposals")
    parser.add_argument("--top-fraction", type=float, default=0.1)
    parser.add_argument("--trials-out", type=Path, required=True)
    parser.add_argument("--best-out", type=Path, required=True)
    args = parser.parse_args(argv)

    table = collect(args.proposals, args.histories, args.top_fraction)
    best = table.loc[table["objective"].idxmax()]  # first trial wins a tie
    result = {
        "state_size": int(best["state_size"]),
        "steps": int(best["steps"]),
        "readout": True,
        "trial": int(best["trial"]),
        "objective": float(best["objective"]),
        "trials": len(table),
    }
    atomic_write(args.trials_out, table.to_csv(index=False, float_format="%.6f").encode())
    atomic_write(args.best_out, (json.dumps(result, indent=2) + "\n").encode())
    log.info("trials:\n%s", table.to_string(index=False))
    log.info("best: state %d, steps %d (trial %03d, objective %.4f)", result["state_size"],
             result["steps"], result["trial"], result["objective"])
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
