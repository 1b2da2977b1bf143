"""Import of the course's npz files (MSD-10), good and bad."""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import npz_config, recomputed_fingerprint

from msdrnn.dataset import prepare_dataset
from msdrnn.dataset_io import dataset_fingerprint, load_split, read_label_map
from msdrnn.errors import DataError
from msdrnn.study import GENRES

OLD = b"earlier results"


def write_course_files(folder: Path, flat: bool = True, pickled_label_map: bool = False,
                       test: bool = True, standardised: bool = True) -> dict:
    """The course layout: train/valid npz with inputs, targets, label_map; test in two."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    data = {}
    label_map = (np.array(list(GENRES), dtype=object) if pickled_label_map
                 else np.array(list(GENRES)))
    for name, n in (("train", 40), ("valid", 20), ("test", 20)):
        inputs = rng.normal(size=(n, 120, 25)).astype(np.float32)
        if not standardised:
            inputs = inputs * 5 + 3
        targets = np.arange(n) % 10
        data[name] = (inputs, targets)
        stored = inputs.reshape(n, 3000) if flat else inputs
        if name != "test":
            np.savez(folder / f"msd-10-genre-{name}.npz", inputs=stored, targets=targets,
                     label_map=label_map)
        elif test:
            np.savez(folder / "msd-10-genre-test-inputs.npz", inputs=stored)
            np.savez(folder / "msd-10-genre-test-targets.npz", targets=targets)
    return data




@pytest.mark.parametrize("flat", [True, False])
def test_import_keeps_standardised_inputs(tmp_path, flat):
    data = write_course_files(tmp_path / "npz", flat=flat)
    out = tmp_path / "dataset.h5"
    counts = prepare_dataset(npz_config(tmp_path / "npz"), out)
    assert sum(counts["test"].values()) == 20
    assert read_label_map(out) == list(GENRES)
    for name in ("train", "valid", "test"):
        split = load_split(out, name)
        np.testing.assert_array_equal(split.inputs, data[name][0])
        np.testing.assert_array_equal(split.targets, data[name][1])
    assert dataset_fingerprint(out) == recomputed_fingerprint(out)
    with h5py.File(out) as f:
        assert not f.attrs["standardized"] and f.attrs["source"] == "npz"
        np.testing.assert_allclose(f["mean"][()], data["train"][0].mean(axis=0), atol=1e-5)


def test_standardise_when_asked(tmp_path):
    data = write_course_files(tmp_path / "npz", standardised=False)
    out = tmp_path / "dataset.h5"
    prepare_dataset(npz_config(tmp_path / "npz", standardize_npz=True), out)
    train = data["train"][0].astype(np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0)
    np.testing.assert_allclose(load_split(out, "valid").inputs,
                               (data["valid"][0] - mean) / std, atol=1e-4)


def test_pickled_label_map_is_not_unpickled(tmp_path, caplog):
    write_course_files(tmp_path / "npz", pickled_label_map=True, test=False)
    out = tmp_path / "dataset.h5"
    with caplog.at_level(logging.INFO):
        counts = prepare_dataset(npz_config(tmp_path / "npz", genres=tuple(reversed(GENRES))), out)
    assert read_label_map(out) == list(reversed(GENRES))
    assert "without unpickling" in caplog.text and "no test split" in caplog.text
    assert "test" not in counts


def broken(folder: Path, name: str, **arrays) -> Path:
    path = folder / name
    with np.load(path) as f:
        contents = dict(f) | arrays
    np.savez(path, **contents)
    return path


@pytest.mark.parametrize("name, change, parts", [
    ("msd-10-genre-train.npz", {"inputs": np.zeros((40, 2999))}, ["'inputs'", "(N, 3000)"]),
    ("msd-10-genre-valid.npz", {"inputs": np.full((20, 3000), np.nan)},
     ["'inputs'", "NaN or inf", "row 0"]),
    ("msd-10-genre-train.npz", {"targets": np.arange(40) % 11}, ["'targets'", "0..9"]),
    ("msd-10-genre-valid.npz", {"targets": np.zeros(19, dtype=int)}, ["'targets'", "(20,)"]),
    ("msd-10-genre-test-targets.npz", {"targets": -np.ones(20, dtype=int)}, ["'targets'"]),
])
def test_bad_npz_named_with_field(tmp_path, name, change, parts):
    folder = tmp_path / "npz"
    write_course_files(folder)
    path = broken(folder, name, **change)
    out = tmp_path / "o" / "dataset.h5"
    out.parent.mkdir()
    out.write_bytes(OLD)
    with pytest.raises(DataError) as error:
        prepare_dataset(npz_config(folder), out)
    assert str(path) in str(error.value)
    for part in parts:
        assert part in str(error.value)
    assert out.read_bytes() == OLD and len(list(out.parent.iterdir())) == 1


@pytest.mark.parametrize("missing", ["msd-10-genre-valid.npz", "msd-10-genre-test-inputs.npz"])
def test_missing_npz_file(tmp_path, missing):
    folder = tmp_path / "npz"
    write_course_files(folder)
    (folder / missing).unlink()
    with pytest.raises(DataError, match=missing):
        prepare_dataset(npz_config(folder), tmp_path / "dataset.h5")
    assert not (tmp_path / "dataset.h5").exists()


def test_missing_npz_folder(tmp_path):
    with pytest.raises(DataError, match="data.npz_dir"):
        prepare_dataset(npz_config(tmp_path / "none"), tmp_path / "dataset.h5")
