"""Collect a Bayesian search's trials into trials.csv and pick the best into best.json.

    python workflow_scripts/bayes_collect.py --top-fraction 0.1 --names state_size steps \
        --proposals results/rnn_search/trial_*/proposal.json \
        --histories results/rnn_search/trial_*/history.csv \
        --trials-out results/rnn_search/trials.csv --best-out results/rnn_search/best.json

``--names`` are the search space's dimensions, as the rules give them (the RNN's
``state_size steps``, the feedforward network's ``width depth``). The i-th history is the
result of the i-th proposal. trials.csv: ``trial, kind, <names>, substituted, batch_size,
replay_differences, objective, max_valid_acc, epoch_of_max, running_best``, one row per
trial; ``batch_size`` and ``replay_differences`` (a JSON list of trial numbers) are the
proposal's, and say whether the trial is ``gp_minimize``'s point (``msdrnn.search
.search_note`` reads them for the summary). best.json: the best trial's proposal (named
values and constants such as ``readout``, without the search's bookkeeping) with
``trial``, ``objective`` and ``trials``; the first trial wins a tie.
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
from msdrnn.search import PROPOSAL_FIELDS, objective

log = logging.getLogger("bayes_collect")


def collect(proposals: list[Path], histories: list[Path], top_fraction: float,
            names: tuple[str, ...]) -> pd.DataFrame:
    """One row per trial: its kind, point (`names`), whether skopt substituted it, its
    round's size and replay differences, objective, max valid accuracy and its epoch,
    running best objective."""
    if len(proposals) != len(histories):
        raise DataError(f"{len(proposals)} proposals but {len(histories)} histories; "
                        "expected one history per proposal, in the same order")
    if not proposals:
        raise DataError("no trials to collect; expected at least one proposal and history")
    rows = []
    for proposal_path, history_path in zip(proposals, histories, strict=True):
        proposal = read_json(proposal_path)
        require(proposal, (*PROPOSAL_FIELDS, *names), proposal_path)
        history = read_history(history_path)
        best_acc, best_epoch = peak(history)
        rows.append({
            "trial": proposal["trial"],
            "kind": proposal["kind"],
            **{name: proposal[name] for name in names},
            "substituted": bool(proposal["substituted"]),
            "batch_size": proposal["batch_size"],
            "replay_differences": json.dumps(proposal["replay_differences"]),
            "objective": objective(history["valid_acc"], top_fraction),
            "max_valid_acc": best_acc,
            "epoch_of_max": best_epoch,
        })
    table = pd.DataFrame(rows).sort_values("trial").reset_index(drop=True)
    table["running_best"] = table["objective"].cummax()
    return table


def best_parameters(table: pd.DataFrame, proposals: list[Path]) -> dict:
    """best.json: the best trial's proposal without its search bookkeeping, with its trial
    number, objective and the number of trials."""
    best = table.loc[table["objective"].idxmax()]  # first trial wins a tie
    for path in proposals:
        proposal = read_json(path)
        if proposal["trial"] == best["trial"]:
            break
    result = {key: value for key, value in proposal.items() if key not in PROPOSAL_FIELDS}
    result.update({"trial": int(best["trial"]), "objective": float(best["objective"]),
                   "trials": len(table)})
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", nargs="+", type=Path, required=True,
                        help="proposal.json of every trial")
    parser.add_argument("--histories", nargs="+", type=Path, required=True,
                        help="history.csv of every trial, in the order of --proposals")
    parser.add_argument("--top-fraction", type=float, default=0.1)
    parser.add_argument("--names", nargs="+", required=True,
                        help="the search space's dimensions, columns of trials.csv")
    parser.add_argument("--trials-out", type=Path, required=True)
    parser.add_argument("--best-out", type=Path, required=True)
    args = parser.parse_args(argv)

    names = tuple(args.names)
    table = collect(args.proposals, args.histories, args.top_fraction, names)
    result = best_parameters(table, args.proposals)
    atomic_write(args.trials_out, table.to_csv(index=False, float_format="%.6f").encode())
    atomic_write(args.best_out, (json.dumps(result, indent=2) + "\n").encode())
    log.info("trials:\n%s", table.to_string(index=False))
    log.info("best: %s (trial %03d, objective %.4f)",
             {name: result[name] for name in names}, result["trial"], result["objective"])
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
