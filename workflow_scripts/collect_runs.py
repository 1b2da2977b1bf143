"""Write results/runs.csv: one row per training run and epoch, every run of the study.

    python workflow_scripts/collect_runs.py --out results/runs.csv \
        --names baseline grid/steps_4/seed_0 ... --kinds baseline grid ... \
        --histories results/baseline/history.csv ... --runs results/baseline/run.json ...

``--names``, ``--kinds``, ``--histories`` and ``--runs`` (run.json) are parallel lists,
one entry per run. Columns: run, kind, state_size, steps, readout, seed (from run.json;
empty for the feedforward network, which has no state or steps), then the history's
epoch, train_loss, train_acc, valid_loss, valid_acc, seconds. pandas users can analyse
the whole study from this one table.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from msdrnn.cli import run
from msdrnn.errors import DataError
from msdrnn.files import atomic_write
from msdrnn.results import HISTORY_COLUMNS, read_history, read_json

log = logging.getLogger("collect_runs")
RUN_COLUMNS = ("run", "kind", "state_size", "steps", "readout", "seed")
COLUMNS = RUN_COLUMNS + HISTORY_COLUMNS


def run_rows(name: str, kind: str, history_path: Path, run_path: Path) -> pd.DataFrame:
    """The history of one run with the run's identity in front."""
    try:
        history = read_history(history_path)
        run = read_json(run_path)
    except (OSError, ValueError) as err:
        raise DataError(str(err)) from None
    hyper = run.get("hyperparameters", {})
    if "seed" not in run and "seed" not in hyper:
        raise DataError(f"{run_path}: no 'seed' (expected the run.json of a training job)")
    rnn = run.get("model", hyper.get("model", "rnn")) != "mlp"
    identity = {
        "run": name,
        "kind": kind,
        "state_size": hyper.get("state_size") if rnn else None,
        "steps": hyper.get("steps") if rnn else None,
        "readout": hyper.get("readout") if rnn else None,
        "seed": run.get("seed", hyper.get("seed")),
    }
    rows = history[list(HISTORY_COLUMNS)].copy()
    for position, column in enumerate(RUN_COLUMNS):
        rows.insert(position, column, identity[column])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", required=True)
    parser.add_argument("--kinds", nargs="+", required=True)
    parser.add_argument("--histories", nargs="+", type=Path, required=True)
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    lengths = {len(args.names), len(args.kinds), len(args.histories), len(args.runs)}
    if len(lengths) != 1:
        raise DataError(f"--names, --kinds, --histories and --runs must have one entry per "
                        f"run; got {len(args.names)}, {len(args.kinds)}, "
                        f"{len(args.histories)} and {len(args.runs)}")
    table = pd.concat([run_rows(*entry) for entry in zip(args.names, args.kinds,
                                                          args.histories, args.runs,
                                                          strict=True)],
                      ignore_index=True)
    for column in ("state_size", "steps", "seed"):
        table[column] = table[column].astype("Int64")
    atomic_write(args.out, table.to_csv(index=False, columns=list(COLUMNS)).encode())
    log.info("%d runs, %d rows -> %s", len(args.names), len(table), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
