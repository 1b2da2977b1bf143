"""Propose the point of one Bayesian-search trial of a searched model (models.NAME.space).

    python workflow_scripts/bayes_propose.py --trial 3 --seed 0 \
        --dimension state_size=int:15..500 --dimension steps=cat:2,3,4,6 \
        --n-initial 1 --kappa 1.9 --acq-func LCB --top-fraction 0.1 \
        --proposals results/rnn_search/trial_00{0,1,2}/proposal.json \
        --histories results/rnn_search/trial_00{0,1,2}/history.csv --out proposal.json

``--dimension`` names the space in skopt's order: ``NAME=int:LOW..HIGH[:log-uniform]``,
``NAME=real:LOW..HIGH[:log-uniform]`` or ``NAME=cat:V1,V2,...`` (``Dimension.spec`` of
``msdrnn.search``). ``--constant readout=true`` adds a fixed value to the proposal (the RNN
trials' readout). The i-th history is the result of the i-th earlier proposal; a random
start has none. The proposal holds the trial number, its ``kind`` (``random`` or
``guided``), the point's named values (ints, floats for a real dimension), the constants,
``substituted`` with ``substitution`` (why, or null) when skopt replaced an
already-evaluated point, ``batch_size`` (the size of the trial's round: 1 for a random
start) and ``replay_differences`` (earlier trials whose recorded point is not what the
replay asked for; their recorded points were used). The point is ``gp_minimize``'s only
with ``batch_size`` 1 and no replay difference.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from msdrnn.cli import run
from msdrnn.errors import ConfigError, DataError
from msdrnn.files import atomic_write
from msdrnn.results import read_history, read_json, require
from msdrnn.search import (
    KAPPA,
    PROPOSAL_FIELDS,
    Acquisition,
    SearchSpace,
    objective,
    parse_constant,
    parse_dimension,
    propose,
)

log = logging.getLogger("bayes_propose")


def earlier_results(space: SearchSpace, proposals: list[Path], histories: list[Path],
                    top_fraction: float) -> list[tuple[tuple[int | float, ...], float]]:
    """(point, objective) of each earlier trial, in trial order."""
    if len(proposals) != len(histories):
        raise DataError(f"{len(proposals)} earlier proposals but {len(histories)} histories; "
                        "expected one history per proposal, in the same order")
    pairs = []
    for proposal_path, history_path in zip(proposals, histories, strict=True):
        proposal = read_json(proposal_path)
        require(proposal, ("trial", *space.names), proposal_path)
        pairs.append((proposal["trial"], space.point(proposal, str(proposal_path)),
                      read_history(history_path)))
    trials = [trial for trial, _, _ in pairs]
    if sorted(trials) != list(range(len(trials))):
        raise DataError(f"earlier proposals are of trials {sorted(trials)}; expected trials "
                        f"0..{len(trials) - 1}, each once")
    earlier = []
    for trial, point, history in sorted(pairs, key=lambda pair: pair[0]):
        value = objective(history["valid_acc"], top_fraction)
        earlier.append((point, value))
        log.info("trial %03d: %s -> objective %.4f", trial, space.named(point), value)
    return earlier


def build_parser() -> argparse.ArgumentParser:
    """The command line; its defaults are the library's (``--kappa``: ``KAPPA``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trial", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--dimension", action="append", required=True,
                        help="NAME=int:LOW..HIGH[:log-uniform], NAME=real:LOW..HIGH"
                             "[:log-uniform] or NAME=cat:V1,V2,...; once per dimension, "
                             "in order")
    parser.add_argument("--constant", action="append", default=[],
                        help="NAME=JSON-VALUE written into the proposal as it is")
    parser.add_argument("--n-initial", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--kappa", type=float, default=KAPPA)
    parser.add_argument("--acq-func", default="LCB")
    parser.add_argument("--top-fraction", type=float, default=0.1)
    parser.add_argument("--proposals", nargs="*", default=[], type=Path,
                        help="proposal.json of every earlier trial")
    parser.add_argument("--histories", nargs="*", default=[], type=Path,
                        help="history.csv of every earlier trial, in the order of --proposals")
    parser.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    space = SearchSpace(tuple(parse_dimension(text) for text in args.dimension))
    constants = dict(parse_constant(text) for text in args.constant)
    clash = set(constants) & (set(space.names) | set(PROPOSAL_FIELDS))
    if clash:
        raise ConfigError(f"--constant names {sorted(clash)}, which the proposal "
                          "already holds")
    earlier = earlier_results(space, args.proposals, args.histories, args.top_fraction)
    proposal = propose(
        args.trial, space, earlier, seed=args.seed, n_initial=args.n_initial,
        acquisition=Acquisition(kappa=args.kappa, acq_func=args.acq_func,
                                batch_size=args.batch_size),
    )
    if proposal.replay_differences:
        log.warning("the replay asked for other points than were recorded for trials %s; "
                    "their recorded points were used", list(proposal.replay_differences))
    record = {"trial": args.trial, "kind": proposal.kind, **space.named(proposal.point),
              **constants, "substituted": proposal.substituted,
              "substitution": proposal.substitution, "batch_size": proposal.batch_size,
              "replay_differences": list(proposal.replay_differences)}
    atomic_write(args.out, (json.dumps(record, indent=2) + "\n").encode())
    log.info("trial %03d (%s): %s%s", args.trial, proposal.kind, space.named(proposal.point),
             f" – {proposal.substitution}" if proposal.substituted else "")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
