"""Fit the song-statistics control: multinomial logistic regression on each song's mean
and standard deviation of the features, its C chosen on the validation split.

    python workflow_scripts/song_stats.py --dataset results/data/dataset.h5 \
        --c-values 0.01,0.1,1,10,100 --weights results/controls/song_stats/weights.npz \
        --fit results/controls/song_stats/fit.json

Reads the train and valid splits only: the test split is for evaluate.py. ``--weights``
holds the chosen model (NumPy arrays, see ``msdrnn.controls``); ``--fit`` every C tried
with its train and valid accuracy, and the one kept.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from pathlib import Path

import numpy as np

from msdrnn.cli import names, run
from msdrnn.controls import fit_song_stats
from msdrnn.dataset_io import load_split, read_label_map
from msdrnn.errors import ConfigError
from msdrnn.files import atomic_write

log = logging.getLogger("song_stats")


def c_values(text: str) -> list[float]:
    """Comma-separated positive numbers."""
    try:
        values = [float(value) for value in names(text)]
    except ValueError:
        raise ConfigError(f"--c-values must be comma-separated numbers; got '{text}'") from None
    if not values or min(values) <= 0:
        raise ConfigError(f"--c-values must be positive numbers; got '{text}'")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--c-values", required=True, help="comma-separated C values to try")
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--fit", type=Path, required=True)
    args = parser.parse_args(argv)

    values = c_values(args.c_values)
    genres = read_label_map(args.dataset)
    train, valid = (load_split(args.dataset, name) for name in ("train", "valid"))
    weights, record = fit_song_stats(train.inputs, train.targets, valid.inputs, valid.targets,
                                     values, classes=len(genres))
    for row in record["tried"]:
        log.info("C %-8g train acc %.4f  valid acc %.4f", row["C"], row["train_acc"],
                 row["valid_acc"])
    log.info("kept C %g: valid accuracy %.4f", record["C"], record["valid_acc"])
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    atomic_write(args.weights, buffer.getvalue())
    record = {**record, "dataset": str(args.dataset), "genres": genres,
              "train_songs": train.size, "valid_songs": valid.size}
    atomic_write(args.fit, (json.dumps(record, indent=2) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
