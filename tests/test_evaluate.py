"""evaluate.py: both weight sections, every model type, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import genre_mean_dataset, run_main

from msdrnn import reference
from msdrnn.controls import song_stats_logits
from msdrnn.dataset_io import load_split
from msdrnn.models import family


def evaluate(tmp_path: Path, best: Path, final: Path,
             model: str = "song_stats") -> tuple[int, str]:
    """evaluate.py run in this process: its exit code and stderr."""
    return run_main("evaluate.py", "--dataset", tmp_path / "dataset.h5", "--best-weights",
                    best, "--final-weights", final, "--model", model,
                    "--out", tmp_path / "test_metrics.json")


def random_weights(model: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    if model == "rnn":
        return {"W_x": rng.normal(size=(25, 12)), "W_h": rng.normal(size=(12, 12)) * 0.1,
                "b": np.zeros(12), "W_out": rng.normal(size=(12, 10)), "b_out": np.zeros(10)}
    return {"W_0": rng.normal(size=(3000, 8)) * 0.05, "b_0": np.zeros(8),
            "W_1": rng.normal(size=(8, 10)), "b_1": np.zeros(10)}


@pytest.mark.parametrize("model", ["rnn", "mlp"])
def test_two_sections_from_the_best_and_the_final_weights(tmp_path: Path, model: str):
    genre_mean_dataset(tmp_path / "dataset.h5", {"train": 10, "valid": 10, "test": 40})
    rng = np.random.default_rng(0)
    best, final = random_weights(model, rng), random_weights(model, rng)
    np.savez(tmp_path / "best.npz", **best)
    np.savez(tmp_path / "final.npz", **final)
    code, err = evaluate(tmp_path, tmp_path / "best.npz", tmp_path / "final.npz", model)
    assert code == 0, err
    metrics = json.loads((tmp_path / "test_metrics.json").read_text())
    test = load_split(tmp_path / "dataset.h5", "test")
    assert metrics["songs"] == 40 and metrics["targets"] == test.targets.tolist()
    assert metrics["track_ids"] == [f"T{i}" for i in range(40)]  # file order
    assert metrics["best_epoch"]["predicted"] != metrics["final"]["predicted"]
    reference_logits = family(model).reference_logits
    for section, logits in [("best_epoch", reference_logits(test.inputs, best)),
                            ("final", reference_logits(test.inputs, final))]:
        part = metrics[section]
        assert part["predicted"] == logits.argmax(axis=1).tolist()
        assert np.isclose(part["accuracy"], reference.accuracy(logits, test.targets))
        assert np.isclose(part["loss"], reference.cross_entropy(logits, test.targets))
        assert np.sum(part["confusion_matrix"]) == 40
        assert len(part["per_genre_accuracy"]) == 10


def test_song_statistics_weights(tmp_path: Path):
    genre_mean_dataset(tmp_path / "dataset.h5", {"train": 10, "valid": 10, "test": 20})
    rng = np.random.default_rng(1)
    weights = {"feature_mean": np.zeros(50), "feature_std": np.ones(50),
               "coef": rng.normal(size=(10, 50)), "intercept": np.zeros(10)}
    np.savez(tmp_path / "stats.npz", **weights)
    code, err = evaluate(tmp_path, tmp_path / "stats.npz", tmp_path / "stats.npz")
    assert code == 0, err
    metrics = json.loads((tmp_path / "test_metrics.json").read_text())
    test = load_split(tmp_path / "dataset.h5", "test")
    expected = song_stats_logits(test.inputs, weights).argmax(axis=1).tolist()
    assert metrics["best_epoch"]["predicted"] == metrics["final"]["predicted"] == expected


@pytest.mark.parametrize("model", ["rnn", "mlp", "song_stats"])
def test_unknown_weights_are_one_error_line(tmp_path: Path, model: str):
    genre_mean_dataset(tmp_path / "dataset.h5", {"train": 10, "valid": 10, "test": 10})
    np.savez(tmp_path / "odd.npz", something=np.zeros(3))
    code, err = evaluate(tmp_path, tmp_path / "odd.npz", tmp_path / "odd.npz", model)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'odd.npz'}")
    assert not (tmp_path / "test_metrics.json").exists()
    missing_code, missing_err = evaluate(tmp_path, tmp_path / "none.npz", tmp_path / "odd.npz")
    assert missing_code == 2 and "not a readable weights file" in missing_err


def test_a_dataset_without_track_ids_is_one_error_line(tmp_path: Path):
    import h5py

    genre_mean_dataset(tmp_path / "dataset.h5", {"train": 10, "valid": 10, "test": 10})
    with h5py.File(tmp_path / "dataset.h5", "a") as f:
        del f["test/track_ids"]
    np.savez(tmp_path / "stats.npz", feature_mean=np.zeros(50), feature_std=np.ones(50),
             coef=np.zeros((10, 50)), intercept=np.zeros(10))
    code, err = evaluate(tmp_path, tmp_path / "stats.npz", tmp_path / "stats.npz")
    assert code == 2
    assert "'test/track_ids' is missing" in err.strip().splitlines()[-1]
