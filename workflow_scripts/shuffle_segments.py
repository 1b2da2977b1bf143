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
from msdrnn.dataset_io import FINGERPRINT_ATTR, SPLITS, Fingerprint
from msdrnn.errors import DataError
from msdrnn.files import atomic_path

log = logging.getLogger("shuffle_segments")
CHUNK = 1000  # songs per read/write, so a paper-size split never sits in memory twice


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
    with source, atomic_path(args.out) as tmp, h5py.File(tmp, "w") as out:
        splits = [name for name in SPLITS if name in source]
        for name in ("train", "valid"):
            if name not in source or "inputs" not in source[name]:
                raise DataError(f"{args.dataset}: '{name}/inputs' is missing")
        for key, value in source.attrs.items():
            out.attrs[key] = value
        out.attrs["segments_shuffled"] = json.dumps({"seed": args.seed})
        # the copy's own content fingerprint, hashed in the order prepare_dataset writes
        fingerprint = Fingerprint()
        if "label_map" in source:
            fingerprint.texts("label_map", source["label_map"].asstr()[()])
        for key in ("mean", "std"):
            if key in source:
                fingerprint.array(key, source[key][()])
        for key in source:
            if key not in SPLITS:
                source.copy(source[key], out, name=key)
        for index, name in enumerate(SPLITS):
            if name not in splits:
                continue
            group = source[name]
            inputs = group["inputs"]
            if inputs.ndim != 3:
                raise DataError(f"{args.dataset}: '{name}/inputs' has shape {inputs.shape}; "
                                "expected (N, segments, features)")
            songs, segments, _ = inputs.shape
            permutations = segment_permutations(songs, segments, args.seed, index)
            target = out.create_group(name)
            for key in group:
                if key != "inputs":
                    group.copy(group[key], target, name=key)
            shuffled = target.create_dataset("inputs", inputs.shape, inputs.dtype)
            fingerprint.header(f"/{name}/inputs", inputs.dtype, inputs.shape)
            for start in range(0, songs, CHUNK):
                stop = min(start + CHUNK, songs)
                block = shuffle_segments(inputs[start:stop], permutations[start:stop])
                shuffled[start:stop] = block
                fingerprint.update(block)
            if "targets" in group:
                fingerprint.array(f"/{name}/targets", group["targets"][()].astype(np.int64))
            if "track_ids" in group:
                fingerprint.texts(f"/{name}/track_ids", group["track_ids"].asstr()[()])
            log.info("%s: %d songs, segments shuffled", name, songs)
        out.attrs[FINGERPRINT_ATTR] = fingerprint.hexdigest()
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
