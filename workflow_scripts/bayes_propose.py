"""Propose the point (state size, steps) of one Bayesian-search trial.

    python workflow_scripts/bayes_propose.py --trial 3 --seed 0 --state-min 15 \
        --state-max 500 --steps 2,3,4,6 --n-initial 1 --kappa 1.9 \
        --proposals results/bayes/trial_00{0,1,2}/proposal.json \
        --histories results/bayes/trial_00{0,1,2}/history.csv --out proposal.json

The i-th history is the result of the i-th earlier proposal; a random start has none.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.files import atomic_write
from msdrnn.results import read_history, read_json, require
from msdrnn.search import SearchSpace, objective, propose

log = logging.getLogger("bayes_propose")


def earlier_results(proposals: list[Path], histories: list[Path],
                    top_fraction: float) -> list[tuple[tuple[int, int], float]]:
    """((state size, steps), objective) of each earlier trial, in trial order."""
    if len(proposals) != len(histories):
        raise DataError(f"{len(proposals)} earlier proposals but {len(histories)} histories; "
                        "expected one history per proposal, in the same order")
    pairs = []
    for proposal_path, history_path in zip(proposals, histories, strict=True):
        proposal = read_json(proposal_path)
        require(proposal, ("trial", "state_size", "steps"), proposal_path)
        pairs.append((proposal, read_history(history_path)))
    earlier = []
    for proposal, history in sorted(pairs, key=lambda pair: pair[0]["trial"]):
        value = objective(history["valid_acc"], top_fraction)
        earlier.append(((proposal["state_size"], proposal["steps"]), value))
        log.info("trial %03d: state %d, steps %d -> objective %.4f", proposal["trial"],
                 proposal["state_size"], proposal["steps"], value)
    return earlier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trial", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--state-min", type=int, required=True)
    parser.add_argument("--state-max", type=int, required=True)
    parser.add_argument("--steps", required=True, help="comma-separated categorical values")
    parser.add_argument("--n-initial", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--kappa", type=float, default=1.9)
    parser.add_argument("--acq-func", default="LCB")
    parser.add_argument("--top-fraction", type=float, default=0.1)
    parser.add_argument("--proposals", nargs="*", default=[], type=Path,
                        help="proposal.json of every earlier trial")
    parser.add_argument("--histories", nargs="*", default=[], type=Path,
                        help="history.csv of every earlier trial, in the order of --proposals")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    space = SearchSpace(args.state_min, args.state_max,
                        tuple(int(k) for k in args.steps.split(",")))
    earlier = earlier_results(args.proposals, args.histories, args.top_fraction)
    state_size, steps = propose(
        args.trial, space, earlier, seed=args.seed, n_initial=args.n_initial,
        batch_size=args.batch_size, kappa=args.kappa, acq_func=args.acq_func,
    )
    kind = "random start" if args.trial < args.n_initial else "guided"
    proposal = {"trial": args.trial, "kind": kind, "state_size": state_size, "steps": steps,
                "readout": True}
    atomic_write(args.out, (json.dumps(proposal, indent=2) + "\n").encode())
    log.info("trial %03d (%s): state %d, steps %d", args.trial, kind, state_size, steps)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
