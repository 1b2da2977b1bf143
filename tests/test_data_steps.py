"""Per-step files: (N, parts, steps, 25) views of dataset.h5, read back by dataset_io."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from msd_files import make_tree

from msdrnn.dataset import DataConfig, prepare_dataset
from msdrnn.dataset_io import load_split, read_label_map
from msdrnn.errors import DataError
from msdrnn.steps import make_steps


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("msd")
    make_tree(root, {"Rap": 6, "Rock": 6})
    out = root / "dataset.h5"
    prepare_dataset(DataConfig(source="msd_h5", msd_root=str(root),
                               labels=str(root / "labels.cls"), genres=("Rap", "Rock"),
                               per_genre=4, per_genre_test=1, workers=1), out)
    return out


@pytest.mark.parametrize("steps", [1, 4, 6, 120])
def test_steps_file_is_a_reshape(dataset, tmp_path, steps):
    out = tmp_path / f"steps_{steps}.h5"
    make_steps(dataset, steps, out)
    assert read_label_map(out) == ["Rap", "Rock"]
    with h5py.File(out) as f, h5py.File(dataset) as d:
        assert f.attrs["steps"] == steps and f.attrs["parts"] == 120 // steps
        for split in ("train", "valid", "test"):
            parts = f[split]["inputs"][()]
            full = d[split]["inputs"][()]
            assert parts.shape == (len(full), 120 // steps, steps, 25)
            assert parts.dtype == np.float32
            last = 120 // steps - 1  # part p holds segments p*steps .. (p+1)*steps - 1
            np.testing.assert_array_equal(parts[:, last], full[:, last * steps:])
            np.testing.assert_array_equal(f[split]["targets"][()], d[split]["targets"][()])
            np.testing.assert_array_equal(f[split]["track_ids"][()], d[split]["track_ids"][()])
            np.testing.assert_array_equal(load_split(out, split).inputs, full)


def test_steps_file_holds_no_copy_and_follows_the_dataset(dataset, tmp_path):
    """A virtual dataset over dataset.h5: small on disk, found from another folder, and a
    missing source is an error (HDF5 alone would read zeros)."""
    moved = tmp_path / "data"
    moved.mkdir()
    source = moved / "dataset.h5"
    source.write_bytes(dataset.read_bytes())
    out = moved / "steps_6.h5"
    make_steps(source, 6, out)
    assert out.stat().st_size < source.stat().st_size / 5
    with h5py.File(out) as f:
        assert f["train/inputs"].is_virtual
    np.testing.assert_array_equal(load_split(out, "train").inputs,
                                  load_split(source, "train").inputs)
    source.unlink()
    with pytest.raises(DataError, match=r"steps_6\.h5: '/train/inputs' maps onto dataset\.h5, "
                                        r"which is missing"):
        load_split(out, "train")
