"""Per-step files: (N, parts, steps, 25) views of dataset.h5, read back by dataset_io, and
only against the dataset.h5 they were made from (its content fingerprint)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import SCRIPTS, msd_config, recomputed_fingerprint
from msd_files import make_tree

from msdrnn.dataset import prepare_dataset
from msdrnn.dataset_io import (
    dataset_fingerprint,
    load_split,
    read_label_map,
)
from msdrnn.errors import DataError
from msdrnn.steps import make_steps

GENRES = ("Rap", "Rock")




@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("msd")
    make_tree(root, {"Rap": 6, "Rock": 6})
    return root


@pytest.fixture(scope="module")
def dataset(tree):
    out = tree / "dataset.h5"
    prepare_dataset(msd_config(tree, GENRES), out)
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
    with pytest.raises(DataError, match=rf"{out}: its inputs map onto {source}, which is "
                                        r"missing; remake this per-step file"):
        load_split(out, "train")




def test_fingerprint_is_the_hash_of_the_stored_content(dataset):
    """Hashed while writing, it equals the hash of the bytes as stored (standardised
    float32 inputs, targets, IDs, label map, mean, std)."""
    assert dataset_fingerprint(dataset) == recomputed_fingerprint(dataset)


def test_fingerprint_is_of_the_content_only(tree, tmp_path):
    """Same songs, labels and statistics: same fingerprint, whatever else differs (workers
    are in the config attribute); other songs: another fingerprint."""
    first, second, other = (tmp_path / name / "dataset.h5" for name in ("a", "b", "c"))
    prepare_dataset(msd_config(tree, GENRES), first)
    prepare_dataset(msd_config(tree, GENRES, workers=2), second)
    prepare_dataset(msd_config(tree, GENRES, seed=1), other)
    assert dataset_fingerprint(first) == dataset_fingerprint(second)
    assert dataset_fingerprint(first).startswith("sha256:")
    assert dataset_fingerprint(other) != dataset_fingerprint(first)
    steps = tmp_path / "a" / "steps_4.h5"
    make_steps(first, 4, steps)
    assert dataset_fingerprint(steps) == dataset_fingerprint(first)


def test_steps_file_of_a_rebuilt_dataset_is_refused(tree, tmp_path):
    """dataset.h5 rebuilt with other songs under an old steps file: every reader stops and
    names both files; remaking the steps file (and only that) makes it readable again."""
    dataset, steps = tmp_path / "dataset.h5", tmp_path / "steps_6.h5"
    prepare_dataset(msd_config(tree, GENRES), dataset)
    make_steps(dataset, 6, steps)
    old_inputs = load_split(steps, "train").inputs
    prepare_dataset(msd_config(tree, GENRES, seed=1), dataset)  # other songs in every split
    for read in (lambda: load_split(steps, "train"), lambda: read_label_map(steps),
                 lambda: dataset_fingerprint(steps)):
        with pytest.raises(DataError) as error:
            read()
        message = str(error.value)
        assert message.startswith(f"{steps}: made from another dataset.h5 than the {dataset}")
        assert "remake this per-step file" in message and "make_steps.py" in message
    make_steps(dataset, 6, steps)
    np.testing.assert_array_equal(load_split(steps, "train").inputs,
                                  load_split(dataset, "train").inputs)
    assert not np.array_equal(load_split(steps, "train").inputs, old_inputs)


def test_files_without_fingerprints_say_to_remake_them(dataset, tmp_path):
    """Files written before fingerprints existed: dataset.h5 is to be rebuilt, a per-step
    file remade; neither is read as if it were fine."""
    old_dataset, steps = tmp_path / "dataset.h5", tmp_path / "steps_6.h5"
    old_dataset.write_bytes(dataset.read_bytes())
    make_steps(old_dataset, 6, steps)
    with h5py.File(steps, "a") as f:
        del f.attrs["dataset_fingerprint"]
    with pytest.raises(DataError, match=rf"{steps}: no 'dataset_fingerprint' attribute .* "
                                        rf"against {old_dataset}; remake this per-step file"):
        load_split(steps, "valid")
    with h5py.File(old_dataset, "a") as f:
        del f.attrs["fingerprint"]
    for call in (lambda: dataset_fingerprint(old_dataset), lambda: make_steps(old_dataset, 6,
                                                                                 steps)):
        with pytest.raises(DataError, match=rf"{old_dataset}: no 'fingerprint' attribute .*"
                                            "rebuild this dataset.h5"):
            call()
    assert load_split(old_dataset, "train").size  # dataset.h5 itself stays readable


def test_make_steps_cli_names_both_files(tree, tmp_path):
    """The training job's view: a stale steps file is one error line and exit code 2."""
    dataset, steps = tmp_path / "dataset.h5", tmp_path / "steps_4.h5"
    prepare_dataset(msd_config(tree, GENRES), dataset)
    make_steps(dataset, 4, steps)
    prepare_dataset(msd_config(tree, GENRES, seed=2), dataset)
    code = ("import sys; from msdrnn.cli import run; from msdrnn.dataset_io import load_split;"
            f" sys.exit(run(lambda argv: load_split({str(steps)!r}, 'train') and 0))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=SCRIPTS)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 2 and len(errors) == 1
    assert str(steps) in errors[0] and str(dataset) in errors[0]
