"""Write results/summary.md (the study's answer) and results/summary.json (its numbers).

    python workflow_scripts/write_summary.py --n-classes 10 \
        --grid results/grid/summary.csv --trials results/bayes/trials.csv \
        --best-params results/bayes/best.json \
        --baseline-history results/baseline/history.csv --baseline-run results/baseline/run.json \
        --best-histories results/best/seed_1/history.csv results/best/seed_2/history.csv \
        --mlp-histories ... --mlp-run results/mlp/seed_1/run.json \
        --shuffled-histories ... --song-stats-fit results/controls/song_stats/fit.json \
        [--baseline-test ... --best-tests ... --mlp-tests ... --shuffled-tests ... \
         --song-stats-test ...] --bootstrap 2000 --bootstrap-seed 0 \
        --out results/summary.md --out-json results/summary.json

Every ``--*-histories`` / ``--*-tests`` list has one file per seed, in the same order. The
test files are given all or none (a study without a test split).
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
from msdrnn.results import describe_run, peak, read_history, read_json
from msdrnn.summary import Model, build_summary

log = logging.getLogger("write_summary")
TESTS = ("baseline_test", "best_tests", "mlp_tests", "shuffled_tests", "song_stats_test")


def peaks(paths: list[Path]) -> list[float]:
    return [peak(read_history(path))[0] for path in paths]


def epochs(paths: list[Path]) -> int:
    return len(read_history(paths[0]))


def tests(paths: list[Path] | None) -> list[dict]:
    return [read_json(path) for path in paths or []]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-classes", type=int, required=True)
    for name in ("grid", "trials", "best-params", "baseline-history", "baseline-run",
                 "mlp-run", "song-stats-fit", "out", "out-json"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    for name in ("best-histories", "mlp-histories", "shuffled-histories"):
        parser.add_argument(f"--{name}", type=Path, nargs="+", required=True)
    for name in ("best-tests", "mlp-tests", "shuffled-tests"):
        parser.add_argument(f"--{name}", type=Path, nargs="+")
    parser.add_argument("--baseline-test", type=Path)
    parser.add_argument("--song-stats-test", type=Path)
    parser.add_argument("--bootstrap", type=int, required=True, help="bootstrap resamples")
    parser.add_argument("--bootstrap-seed", type=int, required=True)
    args = parser.parse_args(argv)

    given = [name for name in TESTS if getattr(args, name)]
    if given and len(given) != len(TESTS):
        missing = sorted(set(TESTS) - set(given))
        raise DataError(f"test metrics given for {given} but not for {missing}: give all or none")
    if args.bootstrap < 1:
        raise DataError(f"--bootstrap must be at least 1; got {args.bootstrap}")
    try:
        best_params = read_json(args.best_params)
        fit = read_json(args.song_stats_fit)
        hparams = f"state {best_params['state_size']}, steps {best_params['steps']}, readout"
        best_epochs = epochs(args.best_histories)
        models = {
            "baseline": Model("baseline", "Baseline RNN",
                              f"{describe_run(read_json(args.baseline_run), args.baseline_run)}, "
                              f"{epochs([args.baseline_history])} epochs",
                              peaks([args.baseline_history]), tests([args.baseline_test]
                                                                    if given else None)),
            "best": Model("best", "RNN, best parameters", f"{hparams}, {best_epochs} epochs",
                          peaks(args.best_histories), tests(args.best_tests)),
            "shuffled_rnn": Model("shuffled_rnn", "RNN on shuffled segments (control)",
                                  f"{hparams}, {epochs(args.shuffled_histories)} epochs, "
                                  "segments of every song in a fixed random order",
                                  peaks(args.shuffled_histories), tests(args.shuffled_tests)),
            "song_stats": Model("song_stats", "Song statistics (control)",
                                f"logistic regression on per-song mean and sd of the "
                                f"{fit['features'] // 2} features, C {fit['C']:g} of "
                                f"{len(fit['tried'])} values", [fit["valid_acc"]],
                                tests([args.song_stats_test] if given else None)),
            "mlp": Model("mlp", "Feedforward network (non-recurrent)",
                         f"{describe_run(read_json(args.mlp_run), args.mlp_run)}, "
                         f"{epochs(args.mlp_histories)} epochs",
                         peaks(args.mlp_histories), tests(args.mlp_tests)),
        }
        text, record = build_summary(
            n_classes=args.n_classes, grid=pd.read_csv(args.grid),
            trials=pd.read_csv(args.trials), best_params=best_params, models=models,
            resamples=args.bootstrap, bootstrap_seed=args.bootstrap_seed)
    except (KeyError, ValueError, OSError) as err:
        if isinstance(err, DataError):
            raise
        raise DataError(f"cannot build the summary from the given results: {err!r}") from None
    atomic_write(args.out, text.encode())
    atomic_write(args.out_json, (json.dumps(record, indent=2) + "\n").encode())
    log.info("wrote %s and %s", args.out, args.out_json)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
