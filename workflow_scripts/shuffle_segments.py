"""Write a copy of dataset.h5 whose songs have their segments in a fixed random order.

    python workflow_scripts/shuffle_segments.py --dataset results/data/dataset.h5 \
        --seed 0 --out results/controls/shuffled_dataset.h5

Every split (train, valid and test) gets the same treatment, one permutation per song
drawn from ``--seed``; targets, track IDs, the label map and everything else are copied
unchanged. Training on this file with the best parameters is the shuffled-segments
control: the same model and training, only the order of the segments gone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import h5py
import numpy as np

from msdrnn.cli import run
from msdrnn.controls import segment_permutations, shuffle_segments
from msdrnn.dataset_io import SPLITS
from msdrnn.dataset_writer import Rows, write_dataset
from msdrnn.errors import DataError

log = logging.getLogger("shuffle_segments")


class ShuffledRows(Rows):
    """The rows of a split with each song's segments in its permutation, read in chunks."""

    def __init__(self, inputs: h5py.Dataset, targets: np.ndarray, track_ids: list[str],
                 permutations: np.ndarray):
        super().__init__(inputs, targets, track_ids)
        self.permutations = permutations

    def rows(self, start: int, stop: int) -> np.ndarray:
        return shuffle_segments(self.inputs[start:stop], self.permutations[start:stop])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    if not args.dataset.is_file():
        raise DataError(f"{args.dataset}: no such file")
    try:
        source = h5py.File(args.dataset, "r")
    except OSError as err:
        raise DataError(f"{args.dataset}: not a readable HDF5 file ({err})") from None
    with source:
        for name in ("train", "valid"):
            if name not in source or "inputs" not in source[name]:
                raise DataError(f"{args.dataset}: '{name}/inputs' is missing")
        for key in ("label_map", "mean", "std"):
            if key not in source:
                raise DataError(f"{args.dataset}: '{key}' is missing; expected a dataset.h5 "
                                "written by prepare_dataset.py")
        splits = {}
        for index, name in enumerate(SPLITS):
            if name not in source:
                continue
            group = source[name]
            for key in ("inputs", "targets", "track_ids"):
                if key not in group:
                    raise DataError(f"{args.dataset}: '{name}/{key}' is missing")
            inputs = group["inputs"]
            if inputs.ndim != 3:
                raise DataError(f"{args.dataset}: '{name}/inputs' has shape {inputs.shape}; "
                                "expected (N, segments, features)")
            songs, segments, _ = inputs.shape
            splits[name] = ShuffledRows(
                inputs, group["targets"][()], list(group["track_ids"].asstr()[()]),
                segment_permutations(songs, segments, args.seed, index))
        attrs = {**source.attrs, "segments_shuffled": json.dumps({"seed": args.seed})}
        write_dataset(args.out, splits, list(source["label_map"].asstr()[()]),
                      source["mean"][()], source["std"][()], standardize=False, attrs=attrs)
    for name, split in splits.items():
        log.info("%s: %d songs, segments shuffled", name, len(split))
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
