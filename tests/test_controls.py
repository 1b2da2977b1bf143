"""The controls: shuffled segments and the song-statistics model, and their scripts."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import GENRES, genre_mean_dataset, recomputed_fingerprint, run_main

from msdrnn.controls import (
    fit_song_stats,
    segment_permutations,
    shuffle_segments,
    song_features,
    song_stats_logits,
)
from msdrnn.dataset_io import load_split


def test_permutations_are_fixed_by_the_seed_and_differ_per_song():
    first = segment_permutations(5, 120, seed=0, split_index=0)
    assert (first == segment_permutations(5, 120, seed=0, split_index=0)).all()
    assert not (first == segment_permutations(5, 120, seed=1, split_index=0)).all()
    assert all(sorted(row) == list(range(120)) for row in first)
    assert len({tuple(row) for row in first}) == 5


def test_shuffling_keeps_each_song_s_segments():
    inputs = np.random.default_rng(0).normal(size=(3, 120, 25))
    permutations = segment_permutations(3, 120, seed=0, split_index=0)
    shuffled = shuffle_segments(inputs, permutations)
    assert np.allclose(shuffled[1, 7], inputs[1, permutations[1, 7]])
    assert np.allclose(song_features(shuffled), song_features(inputs))  # order is all that moved


def test_shuffle_segments_script_copies_every_split(tmp_path: Path):
    genre_mean_dataset(tmp_path / "dataset.h5", {"train": 30, "valid": 10, "test": 10})
    out = tmp_path / "shuffled.h5"
    code, err = run_main("shuffle_segments.py", "--dataset", tmp_path / "dataset.h5",
                         "--seed", "0", "--out", out)
    assert code == 0, err
    for split in ("train", "valid", "test"):
        original, shuffled = (load_split(p, split) for p in (tmp_path / "dataset.h5", out))
        assert (original.targets == shuffled.targets).all()
        assert not np.allclose(original.inputs, shuffled.inputs)
        assert np.allclose(np.sort(original.inputs, axis=1), np.sort(shuffled.inputs, axis=1))
    with h5py.File(out) as f:
        assert list(f["label_map"].asstr()[()]) == GENRES
        copied = f.attrs["fingerprint"]
    assert copied == recomputed_fingerprint(out)  # the hash of the shuffled content
    with h5py.File(tmp_path / "dataset.h5") as f:
        assert copied != f.attrs["fingerprint"]  # other content, its own fingerprint


def test_shuffle_segments_bad_input_is_one_error_line(tmp_path: Path):
    code, err = run_main("shuffle_segments.py", "--dataset", tmp_path / "missing.h5",
                         "--seed", "0", "--out", tmp_path / "out.h5")
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "out.h5").exists()


def test_song_stats_chooses_c_on_validation_and_predicts_the_genre():
    rng = np.random.default_rng(0)
    targets = np.arange(200) % 10
    inputs = rng.normal(size=(200, 120, 25))
    inputs[np.arange(200), :, targets] += 0.5  # genre k raises the mean of feature k
    weights, record = fit_song_stats(inputs[:150], targets[:150], inputs[150:], targets[150:],
                                     [10.0, 0.001, 1.0], classes=10)
    assert [row["C"] for row in record["tried"]] == [0.001, 1.0, 10.0]
    kept = max(record["tried"], key=lambda row: (row["valid_acc"], -row["C"]))
    assert record["C"] == kept["C"] and record["valid_acc"] == kept["valid_acc"]
    logits = song_stats_logits(inputs[150:], weights)
    assert np.mean(logits.argmax(axis=1) == targets[150:]) == pytest.approx(record["valid_acc"])
    assert record["valid_acc"] > 0.5


def test_song_stats_script_never_reads_the_test_split(tmp_path: Path):
    genre_mean_dataset(tmp_path / "dataset.h5", {"train": 100, "valid": 30})  # no test split
    code, err = run_main("song_stats.py", "--dataset", tmp_path / "dataset.h5",
                         "--c-values", "0.1,1", "--weights", tmp_path / "w.npz",
                         "--fit", tmp_path / "fit.json")
    assert code == 0, err
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert fit["C"] in (0.1, 1.0) and len(fit["tried"]) == 2
    code, err = run_main("song_stats.py", "--dataset", tmp_path / "dataset.h5",
                         "--c-values", "0,x", "--weights", tmp_path / "w2.npz",
                         "--fit", tmp_path / "fit2.json")
    assert code == 2 and "error: --c-values" in err
