"""Write results/runs.csv: one row per training run and epoch, every run of the study.

    python workflow_scripts/collect_runs.py --out results/runs.csv \
        --names baseline/seed_0 grid/steps_4/seed_0 rnn_search/trial_000 rnn/seed_1 ... \
        --kinds baseline grid search rnn shuffled ... \
        --histories results/baseline/seed_0/history.csv ... \
        --runs results/baseline/seed_0/run.json ...

``--names``, ``--kinds``, ``--histories`` and ``--runs`` (run.json) are parallel lists,
one entry per run. A kind is baseline, grid, search (a search's trial), a model's name
(its runs) or shuffled (a model's runs on shuffled-segment songs). Columns: run, kind,
model (the family, from run.json), state_size, steps, readout (the RNN's; empty for other
families), seed, hparams (every hyperparameter of the run's family, as JSON), then the
history's epoch, train_loss, train_acc, valid_loss, valid_acc, seconds. pandas users can
analyse the whole study from this one table.
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
from msdrnn.results import HISTORY_COLUMNS, read_history, read_json, run_hparams

log = logging.getLogger("collect_runs")
RUN_COLUMNS = ("run", "kind", "model", "state_size", "steps", "readout", "seed", "hparams")
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
    model = run.get("model", hyper.get("model", "rnn"))
    rnn = model == "rnn"
    identity = {
        "run": name,
        "kind": kind,
        "model": model,
        "state_size": hyper.get("state_size") if rnn else None,
        "steps": hyper.get("steps") if rnn else None,
        "readout": hyper.get("readout") if rnn else None,
        "seed": run.get("seed", hyper.get("seed")),
        "hparams": json.dumps(run_hparams(run), sort_keys=False),
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
