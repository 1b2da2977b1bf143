"""Propose the point (state size, steps) of one Bayesian-search trial.

    python workflow_scripts/bayes_propose.py --trial 3 --seed 0 --state-min 15 \
        --state-max 500 --steps 2,3,4,6 --n-initial 1 --kappa 1.9 \
        --earlier results/bayes/trial_000/proposal.json ... --out proposal.json

Each --earlier proposal.json has the trial's history.csv beside it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from msdrnn.results import read_history, read_json
from msdrnn.search import SearchSpace, objective, propose

log = logging.getLogger("bayes_propose")


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
    parser.add_argument("--earlier", action="append", default=[], type=Path,
                        help="proposal.json of an earlier trial (repeat, in trial order)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    space = SearchSpace(args.state_min, args.state_max,
                        tuple(int(k) for k in args.steps.split(",")))
    earlier = []
    for proposal_path in sorted(args.earlier):
        proposal = read_json(proposal_path)
        history = read_history(proposal_path.with_name("history.csv"))
        value = objective(history["valid_acc"], args.top_fraction)
        earlier.append(((proposal["state_size"], proposal["steps"]), value))
        log.info("trial %03d: state %d, steps %d -> objective %.4f", proposal["trial"],
                 proposal["state_size"], proposal["steps"], value)
    state_size, steps = propose(
        args.trial, space, earlier, seed=args.seed, n_initial=args.n_initial,
        batch_size=args.batch_size, kappa=args.kappa, acq_func=args.acq_func,
    )
    kind = "random start" if args.trial < args.n_initial else "guided"
    proposal = {"trial": args.trial, "kind": kind, "state_size": state_size, "steps": steps,
                "readout": True}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(proposal, indent=2) + "\n")
    log.info("trial %03d (%s): state %d, steps %d", args.trial, kind, state_size, steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
