"""Read the study's HDF5 data files: ``dataset.h5`` and the per-step ``steps_{K}.h5``.

Both hold groups ``train``, ``valid`` and optionally ``test``, each with ``inputs`` and
``targets``; ``dataset.h5`` stores inputs as (N, segments, features), a per-step file as
(N, parts, steps, features). Readers here always return (N, segments, features), so the
trainer can take either file. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from msdrnn.errors import DataError

SPLITS = ("train", "valid", "test")

@dataclass(frozen=True)
class Split:
    """One split of a data file, inputs as (N, segments, features) float32."""

    inputs: np.ndarray
    targets: np.ndarray

    @property
    def size(self) -> int:
        return len(self.targets)


@dataclass
class Rows:
    """A split being built: rows ``index`` of ``inputs`` (all if None), targets and IDs."""

    inputs: np.ndarray
    targets: np.ndarray
    track_ids: list[str]
    index: np.ndarray | None = None

    def rows(self, start: int, stop: int) -> np.ndarray:
        if self.index is None:
            return self.inputs[start:stop]
        return self.inputs[self.index[start:stop]]

    def __len__(self) -> int:
        return len(self.targets)


def read_label_map(path: str | Path) -> list[str]:
    """Genre names in class-index order."""
    with _open(path) as f:
        if "label_map" not in f:
            raise DataError(f"{path}: no 'label_map' dataset (expected genre names)")
        return list(f["label_map"].asstr()[()])


def load_split(path: str | Path, split: str) -> Split:
    """Load one split, checking shapes, dtypes and values before anything trains on it."""
    with _open(path) as f:
        if split not in f:
            raise DataError(f"{path}: no '{split}' group (found: {sorted(f.keys())})")
        group = f[split]
        for field in ("inputs", "targets"):
            if field not in group:
                raise DataError(f"{path}: '{split}/{field}' is missing")
        _check_virtual_sources(path, group["inputs"])
        inputs = group["inputs"][()]
        targets = group["targets"][()]
    if inputs.ndim == 4:  # per-step file: (N, parts, steps, features)
        n, parts, steps, features = inputs.shape
        inputs = inputs.reshape(n, parts * steps, features)
    if inputs.ndim != 3:
        raise DataError(
            f"{path}: '{split}/inputs' has shape {inputs.shape}; expected "
            "(N, segments, features) or (N, parts, steps, features)"
        )
    if targets.shape != (inputs.shape[0],):
        raise DataError(
            f"{path}: '{split}/targets' has shape {targets.shape}; expected ({inputs.shape[0]},)"
        )
    if not np.issubdtype(targets.dtype, np.integer):
        raise DataError(f"{path}: '{split}/targets' has dtype {targets.dtype}; expected integers")
    if not np.isfinite(inputs).all():
        bad = int(np.flatnonzero(~np.isfinite(inputs).all(axis=(1, 2)))[0])
        raise DataError(f"{path}: '{split}/inputs' holds NaN or inf (first at row {bad})")
    return Split(inputs=np.ascontiguousarray(inputs, dtype=np.float32),
                 targets=targets.astype(np.int64))


def _check_virtual_sources(path: str | Path, inputs: h5py.Dataset) -> None:
    """A per-step file maps onto dataset.h5; HDF5 would read a missing source as zeros."""
    if not inputs.is_virtual:
        return
    for name in sorted({source.file_name for source in inputs.virtual_sources()}):
        if not (Path(path).parent / name).is_file():
            raise DataError(
                f"{path}: '{inputs.name}' maps onto {name}, which is missing; remake this "
                "per-step file with workflow_scripts/make_steps.py"
            )


def _open(path: str | Path) -> h5py.File:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise DataError(f"{path}: not a readable HDF5 file ({err})") from None

