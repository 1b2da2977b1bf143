"""Write results/summary.md (the study's answer) and results/summary.json (its numbers).

    python workflow_scripts/write_summary.py --n-classes 10 \
        --dataset results/data/dataset.h5 \
        --grid results/grid/summary.csv --trials results/bayes/trials.csv \
        --best-params results/bayes/best.json \
        --baseline-histories results/baseline/seed_0/history.csv ... \
        --best-histories results/best/seed_1/history.csv ... \
        --mlp-histories ... --shuffled-histories ... \
        --baseline-run results/baseline/seed_0/run.json --best-run ... --mlp-run ... \
        --shuffled-run ... --song-stats-fit results/controls/song_stats/fit.json \
        --weights baseline=results/baseline/seed_0/weights.npz best=... mlp=... \
            shuffled_rnn=... song_stats=results/controls/song_stats/weights.npz \
        [--mlp-trials results/mlp_search/trials.csv] \
        [--baseline-tests ... --best-tests ... --mlp-tests ... --shuffled-tests ... \
         --song-stats-test ...] [--aa-check results/calibration/aa_check.json] \
        --out results/summary.md --out-json results/summary.json

Every ``--*-histories`` / ``--*-tests`` list has one file per seed, in the same order; a
``--*-run`` is the first seed's run.json (its description and Adam updates per epoch) and
``--weights`` one weights file per model (its trainable parameters, the same for every
seed). The test files are given all or none (a study without a test split). Without
``--mlp-trials`` the feedforward network had no search. ``--dataset`` is read for its
stored source and split sizes only (the attributes prepare_dataset.py writes). With
``--aa-check`` (aa_check.py's JSON) the summary adds the A/A check's lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from msdrnn.cli import run
from msdrnn.dataset_io import open_hdf5
from msdrnn.errors import DataError
from msdrnn.files import atomic_write
from msdrnn.results import describe_run, peak, read_history, read_json, require
from msdrnn.summary import Budget, Model, Provenance, build_summary

log = logging.getLogger("write_summary")
TESTS = ("baseline_tests", "best_tests", "mlp_tests", "shuffled_tests", "song_stats_test")
WEIGHTS = ("baseline", "best", "mlp", "shuffled_rnn", "song_stats")
# Arrays of the song-statistics weights that are fixed by the data, not fitted.
NOT_TRAINED = ("feature_mean", "feature_std")


def peaks(paths: list[Path]) -> list[float]:
    return [peak(read_history(path))[0] for path in paths]


def epochs(paths: list[Path]) -> int:
    return len(read_history(paths[0]))


def tests(paths: list[Path] | None) -> list[dict]:
    return [read_json(path) for path in paths or []]


def provenance(path: Path) -> Provenance:
    """The data source and songs per split that dataset.h5 records in its attributes."""
    with open_hdf5(path, "the study's dataset.h5") as f:
        if "source" not in f.attrs or "counts" not in f.attrs:
            raise DataError(f"{path}: attributes 'source' and 'counts' are missing (expected "
                            "the dataset.h5 prepare_dataset.py writes)")
        source = str(f.attrs["source"])
        counts = json.loads(f.attrs["counts"])
    return Provenance(source, {name: int(sum(per_genre.values()))
                               for name, per_genre in counts.items()}, path.as_posix())


def trainable_parameters(path: Path) -> int:
    """Number of fitted values in a weights file (the song-statistics control's feature
    standardisation is fixed by the data and left out)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return int(sum(npz[name].size for name in npz.files if name not in NOT_TRAINED))
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable weights file ({err})") from None


def updates(run_json: dict, path: Path) -> str:
    """'240 (12 batches x 20 parts)' or '12 (one per batch)' from a run.json."""
    require(run_json, ("updates_per_epoch", "batches_per_epoch"), path)
    total, batches = int(run_json["updates_per_epoch"]), int(run_json["batches_per_epoch"])
    if run_json.get("model") == "mlp":
        return f"{total:,} (one per batch)"
    return f"{total:,} ({batches} batches x {total // max(batches, 1)} parts)"


def search_trials(path: Path) -> int:
    """Number of trials of a search: the rows of its trials.csv."""
    try:
        return len(pd.read_csv(path))
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read the search's trials ({err})") from None


def weights_paths(pairs: list[str]) -> dict[str, Path]:
    """KEY=PATH pairs of --weights, every model exactly once."""
    paths = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in WEIGHTS or key in paths:
            raise DataError(f"--weights {pair!r}: expected one KEY=PATH per model, KEY one "
                            f"of {list(WEIGHTS)}")
        paths[key] = Path(value)
    missing = [key for key in WEIGHTS if key not in paths]
    if missing:
        raise DataError(f"--weights: no weights file for {missing}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-classes", type=int, required=True)
    for name in ("dataset", "grid", "trials", "best-params", "baseline-run", "best-run",
                 "mlp-run", "shuffled-run", "song-stats-fit", "out", "out-json"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    for name in ("baseline-histories", "best-histories", "mlp-histories",
                 "shuffled-histories"):
        parser.add_argument(f"--{name}", type=Path, nargs="+", required=True)
    parser.add_argument("--weights", nargs="+", required=True, metavar="KEY=PATH",
                        help=f"one weights file per model, KEY one of {', '.join(WEIGHTS)}")
    parser.add_argument("--mlp-trials", type=Path,
                        help="trials.csv of the feedforward network's search, if it had one")
    for name in ("baseline-tests", "best-tests", "mlp-tests", "shuffled-tests"):
        parser.add_argument(f"--{name}", type=Path, nargs="+")
    parser.add_argument("--song-stats-test", type=Path)
    parser.add_argument("--aa-check", type=Path, help="aa_check.py's JSON, if it ran")
    args = parser.parse_args(argv)

    given = [name for name in TESTS if getattr(args, name)]
    if given and len(given) != len(TESTS):
        missing = sorted(set(TESTS) - set(given))
        raise DataError(f"test metrics given for {given} but not for {missing}: give all or none")
    weights = weights_paths(args.weights)
    try:
        best_params = read_json(args.best_params)
        fit = read_json(args.song_stats_fit)
        runs = {key: read_json(path) for key, path in (
            ("baseline", args.baseline_run), ("best", args.best_run),
            ("mlp", args.mlp_run), ("shuffled_rnn", args.shuffled_run))}
        run_paths = {"baseline": args.baseline_run, "best": args.best_run,
                     "mlp": args.mlp_run, "shuffled_rnn": args.shuffled_run}
        histories = {"baseline": args.baseline_histories, "best": args.best_histories,
                     "mlp": args.mlp_histories, "shuffled_rnn": args.shuffled_histories}
        test_files = {"baseline": args.baseline_tests, "best": args.best_tests,
                      "mlp": args.mlp_tests, "shuffled_rnn": args.shuffled_tests,
                      "song_stats": [args.song_stats_test] if given else None}
        rnn_trials = search_trials(args.trials)
        search = {
            "baseline": "none (the original study's fixed settings)",
            "best": f"{rnn_trials} (Bayesian search, {args.trials.as_posix()})",
            "mlp": f"{search_trials(args.mlp_trials)} (search, {args.mlp_trials.as_posix()})"
            if args.mlp_trials else "none (fixed hidden layers, no search)",
            "shuffled_rnn": f"none of its own: the RNN's {rnn_trials} trials, on ordered songs",
        }

        def budget(key: str) -> Budget:
            return Budget(trainable_parameters(weights[key]),
                          updates(runs[key], run_paths[key]),
                          str(epochs(histories[key])), search[key])

        hparams = f"state {best_params['state_size']}, steps {best_params['steps']}, readout"
        specs = {
            "baseline": ("Baseline RNN", f"{describe_run(runs['baseline'], args.baseline_run)}"
                                         f", {epochs(args.baseline_histories)} epochs"),
            "best": ("RNN, best parameters", f"{hparams}, {epochs(args.best_histories)} epochs"),
            "shuffled_rnn": ("RNN on shuffled segments (control)",
                             f"{hparams}, {epochs(args.shuffled_histories)} epochs, segments "
                             "of every song in a fixed random order"),
            "mlp": ("Feedforward network (non-recurrent)",
                    f"{describe_run(runs['mlp'], args.mlp_run)}, "
                    f"{epochs(args.mlp_histories)} epochs"),
        }
        models = {key: Model(key, label, parameters, peaks(histories[key]),
                             tests(test_files[key]),
                             [p.as_posix() for p in test_files[key] or []], budget(key))
                  for key, (label, parameters) in specs.items()}
        models["song_stats"] = Model(
            "song_stats", "Song statistics (control)",
            f"logistic regression on per-song mean and sd of the {fit['features'] // 2} "
            f"features, C {fit['C']:g} of {len(fit['tried'])} values (a deterministic fit: "
            "a fixed value)",
            [fit["valid_acc"]], tests(test_files["song_stats"]),
            [p.as_posix() for p in test_files["song_stats"] or []],
            Budget(trainable_parameters(weights["song_stats"]), "– (L-BFGS, one fit per C)", "–",
                   f"{len(fit['tried'])} C values, chosen on validation"))
        order = ("baseline", "best", "shuffled_rnn", "song_stats", "mlp")
        text, record = build_summary(
            n_classes=args.n_classes, grid=pd.read_csv(args.grid),
            trials=pd.read_csv(args.trials), best_params=best_params,
            models={key: models[key] for key in order},
            provenance=provenance(args.dataset),
            aa_check=read_json(args.aa_check) if args.aa_check else None)
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
