"""Read the study's HDF5 data files: ``dataset.h5`` and the per-step ``steps_{K}.h5``.

Both hold groups ``train``, ``valid`` and optionally ``test``, each with ``inputs`` and
``targets``; ``dataset.h5`` stores inputs as (N, segments, features), a per-step file as
(N, parts, steps, features). Readers here always return (N, segments, features), so the
trainer can take either file.

``dataset.h5`` carries a content fingerprint (attribute ``fingerprint``: a SHA-256 of
every split's inputs, targets and track IDs, the label map, mean and std, computed while
the file is written). A per-step file records the fingerprint of the dataset.h5 it maps
onto (attribute ``dataset_fingerprint``), and every reader here checks it before reading:
a per-step file left over from an earlier dataset.h5 would otherwise read other songs'
segments (or zeros) under its own labels. No TensorFlow here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from msdrnn.errors import DataError

SPLITS = ("train", "valid", "test")
#: Attribute of dataset.h5 holding its content fingerprint.
FINGERPRINT_ATTR = "fingerprint"
#: Attribute of a per-step file holding the fingerprint of the dataset.h5 it maps onto.
MAPPED_FINGERPRINT_ATTR = "dataset_fingerprint"
_REMAKE = "remake this per-step file (workflow_scripts/make_steps.py)"

@dataclass(frozen=True)
class Split:
    """One split of a data file, inputs as (N, segments, features) float32."""

    inputs: np.ndarray
    targets: np.ndarray

    @property
    def size(self) -> int:
        return len(self.targets)


class Fingerprint:
    """A running SHA-256 over named arrays: what a dataset.h5 holds, in writing order.

    Each array is hashed with its name, dtype and shape ahead of its bytes, so the same
    bytes under another name or shape give another fingerprint.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def header(self, name: str, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        """Start the named array; its bytes follow through ``update`` (in any chunks)."""
        self._hash.update(f"\n{name} {np.dtype(dtype).str} {tuple(shape)}\n".encode())

    def update(self, block: np.ndarray) -> None:
        """Hash the bytes of ``block`` (C order)."""
        self._hash.update(np.ascontiguousarray(block).data)

    def array(self, name: str, values: np.ndarray) -> None:
        """Hash a whole array under ``name``."""
        self.header(name, values.dtype, values.shape)
        self.update(values)

    def texts(self, name: str, values: Iterable[str]) -> None:
        """Hash a list of strings under ``name`` (one UTF-8 line each)."""
        values = list(values)
        self.header(name, np.dtype(object), (len(values),))
        self._hash.update("".join(f"{v}\n" for v in values).encode())

    def hexdigest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


def dataset_fingerprint(path: str | Path) -> str:
    """The content fingerprint of the data a file holds (dataset.h5) or maps (steps file).

    For a per-step file this is the fingerprint of its dataset.h5, after checking that the
    dataset.h5 it maps onto is still the one it was made from. A file without one is a
    DataError that says to rebuild it.
    """
    with _open(path) as f:
        return _fingerprint(path, f)


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


def _fingerprint(path: str | Path, f: h5py.File) -> str:
    """The fingerprint of an open dataset.h5, or the checked one a per-step file maps."""
    if _is_steps_file(f):
        return str(f.attrs[MAPPED_FINGERPRINT_ATTR])
    if FINGERPRINT_ATTR not in f.attrs:
        raise DataError(f"{path}: no '{FINGERPRINT_ATTR}' attribute (written by an earlier "
                        "version); rebuild this dataset.h5 with "
                        "workflow_scripts/prepare_dataset.py")
    return str(f.attrs[FINGERPRINT_ATTR])


def _is_steps_file(f: h5py.File) -> bool:
    """A per-step file: written by msdrnn.steps (``steps`` attribute) or virtual inputs."""
    return "steps" in f.attrs or any(
        split in f and "inputs" in f[split] and f[split]["inputs"].is_virtual
        for split in SPLITS)


def _check_steps_file(path: str | Path, f: h5py.File) -> None:
    """A per-step file must map onto the very dataset.h5 it was made from.

    HDF5 reads a missing source file as zeros, and a rebuilt one as whatever it now holds
    under this file's old targets: both are errors that name the two files.
    """
    sources = sorted({source.file_name for split in SPLITS if split in f
                      and "inputs" in f[split] and f[split]["inputs"].is_virtual
                      for source in f[split]["inputs"].virtual_sources()})
    if not sources:
        raise DataError(f"{path}: a per-step file without virtual inputs; {_REMAKE}")
    for name in sources:
        mapped = Path(path).parent / name
        if not mapped.is_file():
            raise DataError(f"{path}: its inputs map onto {mapped}, which is missing; "
                            f"{_REMAKE}")
        recorded = f.attrs.get(MAPPED_FINGERPRINT_ATTR)
        if recorded is None:
            raise DataError(f"{path}: no '{MAPPED_FINGERPRINT_ATTR}' attribute (written by "
                            f"an earlier version), so it cannot be checked against {mapped}; "
                            f"{_REMAKE}")
        try:
            with h5py.File(mapped, "r") as source:
                current = _fingerprint(mapped, source)
        except OSError as err:
            raise DataError(f"{path}: maps onto {mapped}, which is not a readable HDF5 "
                            f"file ({err}); {_REMAKE}") from None
        if current != str(recorded):
            raise DataError(f"{path}: made from another dataset.h5 than the {mapped} it maps "
                            f"onto (fingerprint {str(recorded)[:19]} recorded, {current[:19]} "
                            f"now); {_REMAKE}")


def open_hdf5(path: str | Path, expected: str = "") -> h5py.File:
    """Open an HDF5 file for reading; a missing or unreadable one is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file{f' (expected {expected})' if expected else ''}")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise DataError(f"{path}: not a readable HDF5 file ({err})") from None


def _open(path: str | Path) -> h5py.File:
    """Open a data file; a per-step file is first checked against the dataset it maps."""
    f = open_hdf5(path)
    try:
        if _is_steps_file(f):
            _check_steps_file(path, f)
    except BaseException:
        f.close()
        raise
    return f

