"""Import the course's ready-made MSD-10 npz files into the study's splits. No TensorFlow.

``msd-10-genre-{train,valid}.npz`` and ``msd-10-genre-test-{inputs,targets}.npz`` hold
``inputs`` (N, 3000) or (N, 120, 25) and ``targets`` (N,) class indices. They are read
with ``allow_pickle=False``: a pickled ``label_map`` is not read, ``data.genres`` is used
instead and the log says so. Every shape, value and target is checked before use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from msdrnn.errors import DataError
from msdrnn.study import FEATURES

log = logging.getLogger(__name__)


NpzSplit = tuple[np.ndarray, np.ndarray, list[str]]


def load_npz(folder: Path, genres: list[str], segments: int, want_test: bool,
             standardize: bool) -> tuple[dict[str, NpzSplit], list[str], dict]:
    """Load the course's npz files (MSD-10) from ``folder``, checking shapes, values and
    targets.

    Returns per split its inputs (N, segments, 25) float32, targets (N,) int64 and
    made-up track IDs; the label map (``genres`` when the files hold none readable); and
    a record of what was read. The test files are read when ``want_test`` and present.
    ``standardize`` (whether the caller standardises the inputs) is only logged, beside
    whether the inputs look standardised already.
    """
    folder = Path(folder)
    prefix = f"msd-{len(genres)}-genre"
    label_map = None
    splits = {}
    for name in ("train", "valid"):
        path = folder / f"{prefix}-{name}.npz"
        with _open_npz(path) as f:
            inputs = _npz_inputs(path, f, segments)
            targets = _npz_field(path, f, "targets")
            names = _npz_label_map(path, f)
        if names is not None and label_map is not None and names != label_map:
            raise DataError(f"{path}: 'label_map' {names} differs from the train file's "
                            f"{label_map}; expected the same genres in the same order")
        label_map = label_map or names
        splits[name] = (inputs, targets)
    test_inputs = folder / f"{prefix}-test-inputs.npz"
    test_targets = folder / f"{prefix}-test-targets.npz"
    if want_test and (test_inputs.is_file() or test_targets.is_file()):
        for path in (test_inputs, test_targets):
            if not path.is_file():
                raise DataError(f"{path}: not found (expected beside {test_inputs.name} "
                                f"and {test_targets.name})")
        with _open_npz(test_inputs) as f:
            inputs = _npz_inputs(test_inputs, f, segments)
        with _open_npz(test_targets) as f:
            splits["test"] = (inputs, _npz_field(test_targets, f, "targets"))
    elif want_test:
        log.info("%s: no %s-test-*.npz files; no test split", folder, prefix)
    if label_map is None:
        log.warning("%s: label_map unreadable without unpickling or absent; using "
                    "data.genres %s", folder, list(genres))
        label_map = list(genres)
    result = {}
    for name, (inputs, targets) in splits.items():
        path = folder / (f"{prefix}-{name}.npz" if name != "test" else test_targets.name)
        if len(targets) != len(inputs) or targets.ndim != 1:
            raise DataError(f"{path}: 'targets' has shape {targets.shape}; expected "
                            f"({len(inputs)},), one per input row")
        if targets.dtype.kind not in "iu" or (len(targets) and (
                targets.min() < 0 or targets.max() >= len(label_map))):
            raise DataError(f"{path}: 'targets' are {targets.dtype} in "
                            f"{targets.min()}..{targets.max()}; expected integers in "
                            f"0..{len(label_map) - 1} (one per genre of the label map)")
        result[name] = (inputs, targets.astype(np.int64),
                        [f"{name}-{i:06d}" for i in range(len(targets))])
    train_inputs = result["train"][0]
    mean = train_inputs.mean(axis=0)
    looks_standard = bool(np.abs(mean).mean() < 0.05 and abs(
        train_inputs.std(axis=0).mean() - 1) < 0.05)
    log.info("npz inputs %s standardised per dimension%s", "look" if looks_standard
             else "do not look", "; standardising them" if standardize else
             "; kept as they are (data.standardize_npz: false)")
    return result, label_map, {"npz_dir": str(folder), "prefix": prefix,
                               "looked_standardized": looks_standard}


@contextmanager
def _open_npz(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    if not path.is_file():
        raise DataError(f"{path}: not found (expected a course .npz file)")
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"{path}: not a readable .npz file ({err})") from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: a single .npy array; expected an .npz archive")
    with f:
        yield f


def _npz_field(path: Path, f: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    if key not in f.files:
        raise DataError(f"{path}: no '{key}' array (found: {f.files})")
    try:
        return f[key]
    except ValueError as err:  # object arrays need unpickling
        raise DataError(f"{path}: '{key}' cannot be read without unpickling ({err}); "
                        "expected a numeric array") from None
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: '{key}' is unreadable ({err})") from None


def _npz_inputs(path: Path, f: np.lib.npyio.NpzFile, segments: int) -> np.ndarray:
    """``inputs`` as (N, segments, 25) float32: from (N, segments*25) or as stored."""
    inputs = _npz_field(path, f, "inputs")
    flat = segments * FEATURES
    if inputs.dtype.kind not in "fiu" or not (
            (inputs.ndim == 2 and inputs.shape[1] == flat)
            or inputs.shape[1:] == (segments, FEATURES)):
        raise DataError(f"{path}: 'inputs' has shape {inputs.shape}, dtype {inputs.dtype}; "
                        f"expected (N, {flat}) or (N, {segments}, {FEATURES}) numbers")
    inputs = inputs.reshape(len(inputs), segments, FEATURES).astype(np.float32, copy=False)
    finite = np.isfinite(inputs).all(axis=(1, 2))
    if not finite.all():
        raise DataError(f"{path}: 'inputs' holds NaN or inf (first at row "
                        f"{int(np.flatnonzero(~finite)[0])}); expected finite numbers")
    return inputs


def _npz_label_map(path: Path, f: np.lib.npyio.NpzFile) -> list[str] | None:
    if "label_map" not in f.files:
        return None
    try:
        return [str(name) for name in f["label_map"]]
    except ValueError:
        log.warning("%s: 'label_map' cannot be read without unpickling; not unpickled", path)
        return None
