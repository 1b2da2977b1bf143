"""Evaluate trained weights on one split with NumPy: accuracy, per-genre accuracy and the
confusion matrix. Needs no TensorFlow: weights.npz is framework-independent.

    python workflow_scripts/evaluate.py --dataset results/data/dataset.h5 \
        --weights results/best/weights.npz --split test --out results/best/test_metrics.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from msdrnn import reference
from msdrnn.dataset_io import load_split, read_label_map
from msdrnn.errors import DataError


def evaluate(logits: np.ndarray, targets: np.ndarray, genres: list[str]) -> dict:
    """Metrics of class scores against the true class indices."""
    n_classes = len(genres)
    predicted = logits.argmax(axis=1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (targets, predicted), 1)
    per_genre = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "songs": int(len(targets)),
        "accuracy": float((predicted == targets).mean()),
        "loss": float(reference.cross_entropy(logits, targets)),
        "genres": genres,
        "per_genre_accuracy": {g: float(a) for g, a in zip(genres, per_genre, strict=True)},
        "confusion_matrix": confusion.tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        split = load_split(args.dataset, args.split)
        genres = read_label_map(args.dataset)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with np.load(args.weights, allow_pickle=False) as npz:
        weights = dict(npz)
    if "W_x" in weights:
        logits = reference.logits(split.inputs, weights)
    else:
        logits = reference.mlp_logits(split.inputs.reshape(split.size, -1), weights)
    metrics = {"split": args.split, "weights": args.weights.as_posix(),
               **evaluate(logits, split.targets, genres)}
    args.out.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"{args.split}: accuracy {metrics['accuracy']:.4f} on {metrics['songs']} songs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
