"""Test metrics of several runs as paired right/wrong arrays, checked song by song. No
TensorFlow.

The one home of the pairing rule the summary, compare_runs.py and aa_check.py share: two
runs' test metrics (evaluate.py's ``test_metrics.json``) can be compared song by song only
when they hold the same songs in the same order, checked by track ID and label. A run's
right/wrong comes from the weights of its best validation epoch (``best_epoch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from msdrnn.errors import DataError
from msdrnn.results import read_json, require
from msdrnn.stats import song_correctness

METRICS = "test_metrics.json"
SECTION = "best_epoch"  # the primary numbers: the weights of the best validation epoch


def check_same_songs(first: dict, first_path: str, second: dict, second_path: str) -> None:
    """DataError naming both files unless the two test metrics are for the same songs, in
    the same order (track IDs and labels)."""
    songs_a = list(zip(track_ids(first, first_path), first["targets"], strict=False))
    songs_b = list(zip(track_ids(second, second_path), second["targets"], strict=False))
    if songs_a != songs_b:
        where = next((k for k, (x, y) in enumerate(zip(songs_a, songs_b, strict=False))
                      if x != y), min(len(songs_a), len(songs_b)))
        raise DataError(
            f"{first_path} and {second_path} are for different test songs "
            f"({len(songs_a)} and {len(songs_b)} songs, first difference at song {where}): a "
            "paired comparison needs the same songs in the same order")


def track_ids(metrics: dict, path: str) -> list[str]:
    """The test songs' track IDs of one run's metrics, or DataError naming its file."""
    if "track_ids" not in metrics:
        raise DataError(f"{path}: no 'track_ids' (expected the test songs' IDs that "
                        "evaluate.py writes; evaluate this run again)")
    return metrics["track_ids"]


def correctness(runs: Sequence[dict], paths: Sequence[str]) -> np.ndarray:
    """(runs, songs): 1 where a run's best-epoch weights got a test song right; every run
    checked against the first for the same songs."""
    for index in range(1, len(runs)):
        check_same_songs(runs[0], paths[0], runs[index], paths[index])
    return song_correctness([run[SECTION]["predicted"] for run in runs], runs[0]["targets"])


def metrics_files(folder: Path) -> list[Path]:
    """A folder's runs: ``seed_*/test_metrics.json`` (in seed order), or its own
    ``test_metrics.json``; DataError naming the folder when it holds neither, or a seed
    folder without its metrics."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (expected a folder holding "
                        f"seed_*/{METRICS} or {METRICS})")
    seeds = sorted((p for p in folder.glob("seed_*") if p.is_dir()),
                   key=lambda p: (len(p.name), p.name))
    if seeds:
        missing = [p / METRICS for p in seeds if not (p / METRICS).is_file()]
        if missing:
            raise DataError(f"{missing[0]}: missing (every seed folder needs its test "
                            "metrics: evaluate.py's output)")
        return [p / METRICS for p in seeds]
    if (folder / METRICS).is_file():
        return [folder / METRICS]
    raise DataError(f"{folder}: no runs (expected seed_*/{METRICS} or {METRICS})")


def read_runs(paths: Sequence[Path]) -> list[dict]:
    """The test metrics of each file, each checked for what the pairing reads."""
    runs = []
    for path in paths:
        metrics = read_json(path)
        require(metrics, ("track_ids", "targets", SECTION), path)
        require(metrics[SECTION], ("predicted",), path)
        if len(metrics[SECTION]["predicted"]) != len(metrics["targets"]):
            raise DataError(f"{path}: {len(metrics[SECTION]['predicted'])} predictions for "
                            f"{len(metrics['targets'])} test songs")
        runs.append(metrics)
    return runs
