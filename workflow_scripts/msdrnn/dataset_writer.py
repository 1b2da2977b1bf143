"""Write a ``dataset.h5``: the one writer of the file and of its content fingerprint.

``prepare_dataset`` (``msdrnn.dataset``) writes the study's data through it, and the
shuffled-segments control (``shuffle_segments.py``) its copy, so both files have the
same layout and their fingerprints hash the same arrays in the same order: the label map,
``mean`` and ``std``, then per split its float32 ``inputs``, int64 ``targets`` and
``track_ids``, exactly the bytes stored (see ``msdrnn.dataset_io.Fingerprint``). The file
is written under a temporary name and renamed when complete. No TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from msdrnn.dataset_io import FINGERPRINT_ATTR, SPLITS, Fingerprint
from msdrnn.files import atomic_path

CHUNK = 2048  # rows per write: bounds the temporary copies while writing


@dataclass
class Rows:
    """A split being written: rows ``index`` of ``inputs`` (all if None), targets and IDs.

    ``inputs`` may be an array or an open HDF5 dataset: rows are read chunk by chunk, so a
    paper-size split never sits in memory twice.
    """

    inputs: np.ndarray | h5py.Dataset
    targets: np.ndarray
    track_ids: list[str]
    index: np.ndarray | None = None

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Input rows ``start:stop`` of the split, in its order."""
        if self.index is None:
            return self.inputs[start:stop]
        return self.inputs[self.index[start:stop]]

    def __len__(self) -> int:
        return len(self.targets)


def write_dataset(out: str | Path, splits: Mapping[str, Rows], label_map: list[str],
                  mean: np.ndarray, std: np.ndarray, standardize: bool,
                  attrs: Mapping[str, object]) -> str:
    """Write ``out`` with ``splits`` (train, valid[, test]), the label map, ``mean`` and
    ``std`` and the root attributes ``attrs``; return its content fingerprint.

    With ``standardize``, the inputs are written as ``(x - mean) / std``, chunk by chunk;
    otherwise as they are (as float32 either way).
    """
    with atomic_path(Path(out)) as tmp, h5py.File(tmp, "w") as f:
        for key, value in attrs.items():
            f.attrs[key] = value
        fingerprint = Fingerprint()
        fingerprint.texts("label_map", label_map)
        f.create_dataset("label_map", data=label_map, dtype=h5py.string_dtype())
        for key, values in (("mean", mean), ("std", std)):
            fingerprint.array(key, values)
            f.create_dataset(key, data=values)
        for name in (s for s in SPLITS if s in splits):
            _write_split(f.create_group(name), splits[name], mean if standardize else None,
                         std, fingerprint)
        digest = fingerprint.hexdigest()
        f.attrs[FINGERPRINT_ATTR] = digest
    return digest


def _write_split(group: h5py.Group, split: Rows, mean: np.ndarray | None,
                 std: np.ndarray, fingerprint: Fingerprint) -> None:
    """Write one split, standardising chunk by chunk when ``mean`` is given, and hash
    exactly the bytes written (the float32 rows, the targets, the track IDs)."""
    n = len(split)
    shape = (n,) + tuple(split.inputs.shape[1:])
    inputs = group.create_dataset("inputs", shape, "f4")
    fingerprint.header(f"{group.name}/inputs", np.dtype("f4"), shape)
    for start in range(0, n, CHUNK):
        block = split.rows(start, start + CHUNK)
        block = (block if mean is None else (block - mean) / std).astype(np.float32)
        inputs[start:start + len(block)] = block
        fingerprint.update(block)
    targets = np.asarray(split.targets, dtype=np.int64)
    fingerprint.array(f"{group.name}/targets", targets)
    group.create_dataset("targets", data=targets)
    fingerprint.texts(f"{group.name}/track_ids", split.track_ids)
    group.create_dataset("track_ids", data=split.track_ids, dtype=h5py.string_dtype())
