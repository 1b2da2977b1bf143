"""Evaluate a trained model on the test split with NumPy: the weights of its best
validation epoch (the primary numbers) and its final weights.

    python workflow_scripts/evaluate.py --dataset results/data/dataset.h5 \
        --best-weights results/best/seed_1/weights_best.npz \
        --final-weights results/best/seed_1/weights.npz --model rnn \
        --out results/best/seed_1/test_metrics.json

``--out`` holds ``genres``, ``track_ids`` and ``targets`` (the test songs' IDs and classes
in file order; the summary pairs two models' predictions only when their IDs agree) and two
sections, ``best_epoch`` and ``final``, each with accuracy, loss (cross-entropy),
per-genre accuracy, the confusion matrix (rows: true genre) and every song's predicted
class (for the summary's paired test intervals). A model fitted once, such as the
song-statistics control, passes the same file twice: both sections are then equal. Needs
no TensorFlow: the weights files are framework-independent.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from msdrnn import reference
from msdrnn.cli import run
from msdrnn.controls import is_song_stats, song_stats_logits
from msdrnn.dataset_io import load_split, open_hdf5, read_label_map
from msdrnn.errors import DataError
from msdrnn.files import atomic_write
from msdrnn.models import available, family

log = logging.getLogger("evaluate")
SECTIONS = ("best_epoch", "final")
SONG_STATS = "song_stats"


def evaluate(logits: np.ndarray, targets: np.ndarray, genres: list[str]) -> dict:
    """Metrics of class scores against the true class indices."""
    n_classes = len(genres)
    predicted = logits.argmax(axis=1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (targets, predicted), 1)
    per_genre = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "accuracy": float((predicted == targets).mean()),
        "loss": float(reference.cross_entropy(logits, targets)),
        "per_genre_accuracy": {g: float(a) for g, a in zip(genres, per_genre, strict=True)},
        "confusion_matrix": confusion.tolist(),
        "predicted": predicted.tolist(),
    }


def load_weights(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a weights file, or DataError naming it."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return dict(npz)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable weights file ({err})") from None


def logits_of(model: str, weights: dict[str, np.ndarray], inputs: np.ndarray,
              path: Path) -> np.ndarray:
    """Class scores of ``model`` (a family of msdrnn.models, or ``song_stats``) from its
    weights, in NumPy; DataError naming the file when the weights are not that model's."""
    if model == SONG_STATS:
        if not is_song_stats(weights):
            raise DataError(f"{path}: holds {sorted(weights)}; expected song-statistics "
                            "weights")
        return song_stats_logits(inputs, weights)
    try:
        return family(model).reference_logits(inputs, weights)
    except (KeyError, ValueError) as err:
        raise DataError(f"{path}: holds {sorted(weights)}, not the weights of a '{model}' "
                        f"model ({err!r})") from None


def read_track_ids(path: Path, split: str, songs: int) -> list[str]:
    """The split's track IDs in file order, one per song, or DataError naming the file."""
    with open_hdf5(path, "a dataset.h5") as f:
        if split not in f or "track_ids" not in f[split]:
            raise DataError(f"{path}: '{split}/track_ids' is missing (expected one track ID "
                            "per song, as prepare_dataset.py writes)")
        track_ids = list(f[split]["track_ids"].asstr()[()])
    if len(track_ids) != songs:
        raise DataError(f"{path}: '{split}/track_ids' has {len(track_ids)} IDs for "
                        f"{songs} songs")
    return track_ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--best-weights", type=Path, required=True,
                        help="weights of the best validation epoch")
    parser.add_argument("--final-weights", type=Path, required=True,
                        help="weights after the last epoch")
    parser.add_argument("--model", required=True, choices=[*available(), SONG_STATS],
                        help="what the weights are: a model family or the song-statistics "
                             "control")
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    weights = {"best_epoch": load_weights(args.best_weights),
               "final": load_weights(args.final_weights)}
    paths = {"best_epoch": args.best_weights, "final": args.final_weights}
    split = load_split(args.dataset, args.split)
    genres = read_label_map(args.dataset)
    if split.size and (split.targets.min() < 0 or split.targets.max() >= len(genres)):
        raise DataError(f"{args.dataset}: '{args.split}/targets' outside 0..{len(genres) - 1}")
    metrics: dict = {"split": args.split, "songs": split.size, "genres": genres,
                     "track_ids": read_track_ids(args.dataset, args.split, split.size),
                     "targets": split.targets.tolist()}
    for section in SECTIONS:
        logits = logits_of(args.model, weights[section], split.inputs, paths[section])
        metrics[section] = {"weights": paths[section].as_posix(),
                            **evaluate(logits, split.targets, genres)}
        log.info("%s %s: accuracy %.4f on %d songs", args.split, section,
                 metrics[section]["accuracy"], split.size)
    atomic_write(args.out, (json.dumps(metrics, indent=1) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
