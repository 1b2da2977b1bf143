"""Write results/summary.md (the study's answer) and results/summary.json (its numbers).

    python workflow_scripts/write_summary.py --n-classes 10 --primary rnn \\
        --model rnn "RNN, best parameters" --space rnn state_size steps --shuffled rnn \\
        --model mlp "Feedforward network" --space mlp width depth dropout \\
        --dataset results/data/dataset.h5 --grid results/grid/summary.csv \\
        --runs baseline results/baseline/seed_0/run.json \\
        --histories baseline results/baseline/seed_0/history.csv ... \\
        --weights baseline results/baseline/seed_0/weights.npz \\
        [--tests baseline results/baseline/seed_0/test_metrics.json ...] \\
        ... the same four for rnn, shuffled_rnn, mlp ... \\
        --search rnn results/rnn_search/trials.csv results/rnn_search/best.json \\
        --search mlp results/mlp_search/trials.csv results/mlp_search/best.json \\
        --song-stats-fit results/controls/song_stats/fit.json \\
        --weights song_stats results/controls/song_stats/weights.npz \\
        [--tests song_stats results/controls/song_stats/test_metrics.json] \\
        [--aa-check results/calibration/aa_check.json] \\
        --out results/summary.md --out-json results/summary.json

The compared models are the ``--model NAME LABEL`` groups, in the summary's order;
``--space NAME DIM ...`` names a searched model's dimensions (its ``--search NAME
TRIALS.csv BEST.json`` is then required), ``--shuffled NAME`` says that the model also ran
on shuffled-segment songs (group ``shuffled_NAME``). Run groups are ``baseline``, each
model and each ``shuffled_NAME``; each needs ``--runs GROUP`` (its first seed's run.json:
its hyperparameters and Adam updates per epoch), ``--histories GROUP`` (one file per
seed), ``--weights GROUP`` (its trainable parameters, the same for every seed) and, with a
test split, ``--tests GROUP`` (one file per seed, in the order of the histories); the
song-statistics control gives ``--weights song_stats`` and ``--tests song_stats``. Test
files are given for every group or for none (a study without a test split).
``--dataset`` is read for its stored source and split sizes only (the attributes
prepare_dataset.py writes). With ``--aa-check`` (aa_check.py's JSON) the summary adds the
A/A check's lines.
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
from msdrnn.results import (
    SEARCH_RECORD,
    describe_hparams,
    describe_run,
    peak,
    read_history,
    read_json,
    require,
    run_hparams,
)
from msdrnn.summary import Budget, Model, Provenance, Search, build_summary

log = logging.getLogger("write_summary")
SONG_STATS = "song_stats"
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
    """'240 (12 batches x 20 parts)' (a model that updates several times per batch, as
    the RNN does once per part) or '12 (one per batch)', from a run.json."""
    require(run_json, ("updates_per_epoch", "batches_per_epoch"), path)
    total, batches = int(run_json["updates_per_epoch"]), int(run_json["batches_per_epoch"])
    if total == batches:
        return f"{total:,} (one per batch)"
    return f"{total:,} ({batches} batches x {total // max(batches, 1)} parts)"


def read_search(name: str, trials_path: Path, best_path: Path, names: list[str]) -> Search:
    """A model's search: its trials.csv and best.json, and the dimensions it searched."""
    try:
        trials = pd.read_csv(trials_path)
    except (OSError, ValueError) as err:
        raise DataError(f"{trials_path}: cannot read the search's trials ({err})") from None
    require({c: None for c in trials.columns}, ("trial", "objective", "max_valid_acc"),
            trials_path)
    best = read_json(best_path)
    require(best, SEARCH_RECORD, best_path)
    hparams = {key: value for key, value in best.items() if key not in SEARCH_RECORD}
    return Search(name, trials, hparams, tuple(names), trials_path.as_posix())


def grouped(pairs: list[list[str]] | None, option: str, many: bool) -> dict[str, list[Path]]:
    """GROUP FILE... values of a repeated option, each group once."""
    found: dict[str, list[Path]] = {}
    for group, *files in pairs or []:
        if group in found or not files or (len(files) > 1 and not many):
            raise DataError(f"{option} {group} {' '.join(files)}: expected each group once, "
                            f"with {'one or more files' if many else 'one file'}")
        found[group] = [Path(f) for f in files]
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-classes", type=int, required=True)
    parser.add_argument("--primary", required=True, help="the study's model, a --model NAME")
    parser.add_argument("--model", nargs=2, action="append", required=True,
                        metavar=("NAME", "LABEL"), help="a compared model, in order")
    parser.add_argument("--space", nargs="+", action="append", default=[],
                        metavar="NAME DIM", help="a searched model's dimensions")
    parser.add_argument("--shuffled", action="append", default=[], metavar="NAME",
                        help="a model that also ran on shuffled-segment songs")
    parser.add_argument("--search", nargs=3, action="append", default=[],
                        metavar=("NAME", "TRIALS", "BEST"))
    for name in ("runs", "weights"):
        parser.add_argument(f"--{name}", nargs=2, action="append", required=True,
                            metavar=("GROUP", "FILE"))
    for name in ("histories", "tests"):
        parser.add_argument(f"--{name}", nargs="+", action="append",
                            metavar="GROUP FILE", required=name == "histories")
    for name in ("dataset", "grid", "song-stats-fit", "out", "out-json"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    parser.add_argument("--aa-check", type=Path, help="aa_check.py's JSON, if it ran")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    labels = dict(args.model)
    if len(labels) != len(args.model):
        raise DataError(f"--model: each model once; got {[name for name, _ in args.model]}")
    if args.primary not in labels:
        raise DataError(f"--primary {args.primary}: not one of the --model names "
                        f"{list(labels)}")
    spaces = {name: dims for name, *dims in args.space}
    unknown = sorted((set(spaces) | set(args.shuffled)) - set(labels))
    if unknown:
        raise DataError(f"--space/--shuffled name {unknown}, which are not --model names")
    groups = ["baseline"]
    for name in labels:
        groups += [name, *([f"shuffled_{name}"] if name in args.shuffled else [])]
    run_files = grouped(args.runs, "--runs", many=False)
    weight_files = grouped(args.weights, "--weights", many=False)
    history_files = grouped(args.histories, "--histories", many=True)
    test_files = grouped(args.tests, "--tests", many=True)
    for option, files, expected in (("--runs", run_files, groups),
                                    ("--histories", history_files, groups),
                                    ("--weights", weight_files, [*groups, SONG_STATS])):
        if sorted(files) != sorted(expected):
            raise DataError(f"{option}: expected the groups {expected}; got {list(files)}")
    if test_files and sorted(test_files) != sorted([*groups, SONG_STATS]):
        missing = sorted((set(groups) | {SONG_STATS}) - set(test_files))
        raise DataError(f"test metrics given for {sorted(test_files)} but not for {missing}: "
                        "give all or none")
    search_args = {name: (Path(trials), Path(best)) for name, trials, best in args.search}
    if sorted(search_args) != sorted(spaces):
        raise DataError(f"--search: expected one for each searched model {sorted(spaces)}; "
                        f"got {sorted(search_args)}")
    try:
        text, record = summarize(args, labels, spaces, groups, run_files, weight_files,
                                 history_files, test_files, search_args)
    except (KeyError, ValueError, OSError) as err:
        if isinstance(err, DataError):
            raise
        raise DataError(f"cannot build the summary from the given results: {err!r}") from None
    atomic_write(args.out, text.encode())
    atomic_write(args.out_json, (json.dumps(record, indent=2) + "\n").encode())
    log.info("wrote %s and %s", args.out, args.out_json)
    return 0


def summarize(args, labels, spaces, groups, run_files, weight_files, history_files,
              test_files, search_args) -> tuple[str, dict]:
    """The summary's text and numbers from the checked command line."""
    searches = {name: read_search(name, *search_args[name], spaces[name])
                for name in spaces}
    models = {}
    for group in groups:
        shuffled = group.startswith("shuffled_") and group not in labels
        name = group.removeprefix("shuffled_") if shuffled else group
        run_json = read_json(run_files[group][0])
        length = epochs(history_files[group])
        if group == "baseline":
            label = "Baseline RNN"
            described = describe_run(run_json, run_files[group][0])
            search = "none (the original study's fixed settings)"
        else:
            label = (f"{labels[name]} on shuffled segments (control)" if shuffled
                     else labels[name])
            described = describe_hparams(run_hparams(run_json))
            if shuffled:
                described += ", segments of every song in a fixed random order"
            search = search_text(searches.get(name), shuffled, labels[name])
        budget = Budget(trainable_parameters(weight_files[group][0]),
                        updates(run_json, run_files[group][0]), str(length), search)
        paths = test_files.get(group, [])
        models[group] = Model(group, label, f"{described}, {length} epochs",
                              peaks(history_files[group]), tests(paths),
                              [p.as_posix() for p in paths], budget)
    fit = read_json(args.song_stats_fit)
    paths = test_files.get(SONG_STATS, [])
    models[SONG_STATS] = Model(
        SONG_STATS, "Song statistics (control)",
        f"logistic regression on per-song mean and sd of the {fit['features'] // 2} "
        f"features, C {fit['C']:g} of {len(fit['tried'])} values (a deterministic fit: "
        "a fixed value)",
        [fit["valid_acc"]], tests(paths), [p.as_posix() for p in paths],
        Budget(trainable_parameters(weight_files[SONG_STATS][0]),
               "– (L-BFGS, one fit per C)", "–",
               f"{len(fit['tried'])} C values, chosen on validation"))
    shuffled = {name: f"shuffled_{name}" for name in labels if f"shuffled_{name}" in models}
    return build_summary(
        n_classes=args.n_classes, grid=pd.read_csv(args.grid), searches=searches,
        models=models, primary=args.primary, compared=list(labels), shuffled=shuffled,
        provenance=provenance(args.dataset),
        aa_check=read_json(args.aa_check) if args.aa_check else None)


def search_text(search: Search | None, shuffled: bool, label: str) -> str:
    """The budget table's search column of a model's runs."""
    if search is None:
        return "none (fixed hyperparameters, no search)"
    trials = len(search.trials)
    if shuffled:
        return f"none of its own: the {trials} trials of the {label} search, on ordered songs"
    return f"{trials} (Bayesian search, {search.path})"


if __name__ == "__main__":
    sys.exit(run(main))
