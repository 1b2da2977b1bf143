"""Data for the trainer tests: the embedded synthetic generator, and hand-made files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np

from msdrnn.dataset import DataConfig, prepare_dataset
from msdrnn.dataset_io import load_split
from msdrnn.synthetic import LABEL_FILE, SignalModel, generate_tree

GENRES = ("Rap", "Rock", "RnB", "Electronic", "Metal", "Blues", "Pop", "Jazz", "Country",
          "Reggae")


def synthetic_dataset(folder: Path, per_genre: int, seed: int = 0,
                      order_only: bool = False) -> Path:
    """dataset.h5 built by the project's own generator and preparation (order-carrying).

    ``order_only``: no per-genre shift of the segment means, so only the order of a song's
    segments tells its genre.
    """
    tree = folder / "tree"
    signal = replace(SignalModel(), genre_shift=0.0) if order_only else SignalModel()
    generate_tree(tree, GENRES, per_genre + per_genre // 5 + 10, seed=seed, workers=2,
                  model=signal)
    out = folder / "dataset.h5"
    prepare_dataset(DataConfig(source="synthetic", msd_root=str(tree),
                               labels=str(tree / LABEL_FILE), genres=GENRES,
                               per_genre=per_genre, per_genre_test=per_genre // 5,
                               seed=seed, workers=2), out)
    return out


def write_dataset(path: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]],
                  label_map=GENRES) -> Path:
    """A dataset.h5 in the project layout from (inputs, targets) per split."""
    with h5py.File(path, "w") as f:
        for name, (inputs, targets) in splits.items():
            group = f.create_group(name)
            group["inputs"] = inputs
            group["targets"] = targets
            group["track_ids"] = np.array([f"TR{i:016d}" for i in range(len(targets))],
                                          dtype="S18")
        f["label_map"] = np.array([g.encode() for g in label_map])
        f["mean"] = np.zeros((120, 25), np.float32)
        f["std"] = np.ones((120, 25), np.float32)
    return path


def random_dataset(path: Path, train: int = 100, valid: int = 50, seed: int = 0) -> Path:
    """A tiny dataset.h5 of noise (for input checks and bookkeeping, not learning)."""
    rng = np.random.default_rng(seed)
    return write_dataset(path, {
        name: (rng.standard_normal((n, 120, 25)).astype(np.float32),
               rng.integers(0, 10, n).astype(np.int64))
        for name, n in (("train", train), ("valid", valid))})


def shuffled_segments(dataset: Path, out: Path, seed: int = 0) -> Path:
    """A copy of ``dataset`` with every song's segments in a random order: no order left."""
    rng = np.random.default_rng(seed)
    splits = {}
    for name in ("train", "valid"):
        split = load_split(dataset, name)
        order = np.argsort(rng.random(split.inputs.shape[:2]), axis=1)
        splits[name] = (np.take_along_axis(split.inputs, order[:, :, None], axis=1),
                        split.targets)
    return write_dataset(out, splits)


def test_shuffled_segments_keep_the_bag_of_segments(tmp_path):
    data = random_dataset(tmp_path / "d.h5", train=5, valid=5)
    shuffled = shuffled_segments(data, tmp_path / "s.h5")
    a, b = load_split(data, "train"), load_split(shuffled, "train")
    assert not np.array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(np.sort(a.inputs, axis=1), np.sort(b.inputs, axis=1))
    np.testing.assert_array_equal(a.targets, b.targets)
