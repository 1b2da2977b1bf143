"""The per-step files ``steps_{K}.h5``: a dataset's songs cut into parts of K segments.

The inputs are an HDF5 virtual dataset that maps each part onto its segments in
``dataset.h5``: the file holds no copy of the data (a few kB instead of the dataset's
size), so a grid over 14 steps values never keeps 14 copies on disk. Each file records the
content fingerprint of the dataset.h5 it maps onto (attribute ``dataset_fingerprint``);
``msdrnn.dataset_io`` refuses to read it against any other. No TensorFlow here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import h5py
import numpy as np

from msdrnn.dataset_io import (
    MAPPED_FINGERPRINT_ATTR,
    SPLITS,
    dataset_fingerprint,
    open_hdf5,
)
from msdrnn.errors import DataError
from msdrnn.files import atomic_path
from msdrnn.study import steps_error

log = logging.getLogger(__name__)


def make_steps(dataset: str | Path, steps: int, out: str | Path) -> None:
    """Write ``out`` with every split's inputs as (N, parts, steps, features) float32.

    The inputs are an HDF5 virtual dataset that maps each part onto its segments in
    ``dataset``: the file holds no copy of the data (a few kB instead of the dataset's
    size), so a grid over 14 steps values never keeps 14 copies on disk, and the file can
    stay in place instead of being remade (and rerunning its consumers) for every job.
    The fingerprint of ``dataset`` is recorded, so the file is never read against a
    rebuilt one.
    """
    dataset, out = Path(dataset), Path(out)
    src = open_hdf5(dataset, expected="dataset.h5")
    with src, atomic_path(out) as tmp:
        splits = [s for s in SPLITS if s in src]
        for key in ["label_map", "train/inputs"] + [f"{s}/{field}" for s in splits
                                                    for field in ("targets", "track_ids")]:
            if key not in src:
                raise DataError(f"{dataset}: '{key}' is missing (expected a dataset.h5)")
        if "steps" in src.attrs:
            raise DataError(f"{dataset}: a per-step file; expected the dataset.h5 it maps onto")
        fingerprint = dataset_fingerprint(dataset)
        segments = src["train/inputs"].shape[1]
        if steps_error(steps, segments):
            raise DataError(f"{dataset}: {steps_error(steps, segments)}")
        parts = segments // steps
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"steps": steps, "parts": parts, "dataset": str(dataset),
                            MAPPED_FINGERPRINT_ATTR: fingerprint})
            src.copy(src["label_map"], f, "label_map")
            source_file = os.path.relpath(dataset.resolve(), out.resolve().parent)
            for name in splits:
                group, inputs = f.create_group(name), src[name]["inputs"]
                n, _, features = inputs.shape
                if inputs.dtype != np.float32:
                    raise DataError(f"{dataset}: '{name}/inputs' is {inputs.dtype}; "
                                    "expected float32")
                layout = h5py.VirtualLayout((n, parts, steps, features), np.float32)
                source = h5py.VirtualSource(source_file, inputs.name, shape=inputs.shape)
                for part in range(parts):
                    layout[:, part] = source[:, part * steps:(part + 1) * steps]
                group.create_virtual_dataset("inputs", layout)
                for key in ("targets", "track_ids"):
                    src.copy(src[name][key], group, key)
    log.info("wrote %s: steps %d, parts %d", out, steps, parts)
