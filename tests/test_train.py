"""The training command: outputs, determinism, SIGKILL and resume, bad input, divergence."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from test_train_data import random_dataset, synthetic_dataset

from msdrnn import reference
from msdrnn.dataset_io import load_split
from msdrnn.steps import make_steps

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "workflow_scripts" / "train.py"
RNN = ["--steps", "4", "--state-size", "24", "--readout", "--seed", "7", "--threads", "1"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return synthetic_dataset(tmp_path_factory.mktemp("synthetic"), per_genre=40)


def train_command(data: Path, out: Path, *args: str) -> list[str]:
    return [sys.executable, str(TRAIN), "--dataset", str(data), "--out", str(out), *args]


def run(data: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(train_command(data, out, *args), capture_output=True, text=True,
                          env=env, timeout=300)


def history(out: Path) -> list[dict]:
    with open(out / "history.csv") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def checkpoint_epoch(out: Path) -> int:
    try:
        with np.load(out / "checkpoint" / "checkpoint.npz") as saved:
            return json.loads(str(saved["progress_json"]))["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def test_outputs_and_the_numpy_reference_agree(dataset, tmp_path):
    out = tmp_path / "run"
    done = run(dataset, out, *RNN, "--epochs", "3")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("songs/s") == 3  # one log line per epoch
    rows = list(csv.DictReader(open(out / "history.csv")))
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc",
                             "seconds"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert all(0 <= float(r[k]) <= 1 for r in rows for k in ("train_acc", "valid_acc"))
    with np.load(out / "weights.npz") as f:
        weights = dict(f)
    assert {k: v.shape for k, v in weights.items()} == {
        "W_x": (25, 24), "W_h": (24, 24), "b": (24,), "W_out": (24, 10), "b_out": (10,)}
    valid = load_split(dataset, "valid")
    logits = reference.logits(valid.inputs, weights)
    assert reference.accuracy(logits, valid.targets) == pytest.approx(float(rows[-1]["valid_acc"]))
    assert reference.cross_entropy(logits, valid.targets) == pytest.approx(
        float(rows[-1]["valid_loss"]), rel=1e-4)
    record = json.loads((out / "run.json").read_text())
    assert record["hyperparameters"]["state_size"] == 24 and record["seed"] == 7
    assert record["device"].startswith(("CPU", "GPU"))
    assert {"tensorflow", "keras", "numpy"} <= set(record["versions"])
    assert record["hyperparameters"]["batch_size"] == 50


def test_killed_run_resumes_to_the_same_bits_and_reruns_are_identical(dataset, tmp_path):
    epochs = ["--epochs", "5"]
    whole = tmp_path / "whole"
    assert run(dataset, whole, *RNN, *epochs).returncode == 0

    killed = tmp_path / "killed"
    process = subprocess.Popen(train_command(dataset, killed, *RNN, *epochs),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while checkpoint_epoch(killed) < 2 and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "finished before it could be killed"
    assert not (killed / "run.json").exists() and not (killed / "weights.npz").exists()
    resumed = run(dataset, killed, *RNN, *epochs)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch" in resumed.stderr

    # the same run again, from hyperparameters in a file and the per-step arrays
    hparams = tmp_path / "hparams.json"
    hparams.write_text(json.dumps({"steps": 4, "state_size": 24, "readout": True}))
    steps_file = tmp_path / "steps_4.h5"
    make_steps(dataset, 4, steps_file)
    again = tmp_path / "again"
    rerun = run(dataset, again, "--seed", "7", "--threads", "1", "--hparams", str(hparams),
                "--steps-file", str(steps_file), *epochs)
    assert rerun.returncode == 0, rerun.stderr

    for other in (killed, again):
        assert history(other) == history(whole)
        assert (other / "weights.npz").read_bytes() == (whole / "weights.npz").read_bytes()

    # Snakemake deletes the declared outputs of a job it reruns: the checkpoint restores them
    for name in ("history.csv", "weights.npz", "run.json"):
        (whole / name).unlink()
    restored = run(dataset, whole, *RNN, *epochs)
    assert restored.returncode == 0 and restored.stderr.count("songs/s") == 0
    assert history(whole) == history(killed)
    assert json.loads((whole / "run.json").read_text())["resumed_after_epoch"] == 5


def test_mlp_trains_resumes_and_writes_its_weights(dataset, tmp_path):
    mlp = ["--model", "mlp", "--hidden", "16,8", "--threads", "1"]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run(dataset, whole, *mlp, "--epochs", "3").returncode == 0
    assert run(dataset, split, *mlp, "--epochs", "2").returncode == 0
    assert run(dataset, split, *mlp, "--epochs", "3").returncode == 0  # continues to 3
    assert history(split) == history(whole)
    assert (split / "weights.npz").read_bytes() == (whole / "weights.npz").read_bytes()
    with np.load(whole / "weights.npz") as f:
        weights = dict(f)
    assert {k: v.shape for k, v in weights.items()} == {
        "W_0": (3000, 16), "b_0": (16,), "W_1": (16, 8), "b_1": (8,), "W_2": (8, 10),
        "b_2": (10,)}


def bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = random_dataset(tmp_path / "good.h5")
    (tmp_path / "junk.h5").write_text("not hdf5")
    nan = random_dataset(tmp_path / "nan.h5")
    with h5py.File(nan, "a") as f:
        f["train/inputs"][3, 5, 7] = np.nan
    inf = random_dataset(tmp_path / "inf.h5")
    with h5py.File(inf, "a") as f:
        f["valid/inputs"][1, 2, 3] = np.inf
    no_valid = random_dataset(tmp_path / "novalid.h5")
    with h5py.File(no_valid, "a") as f:
        del f["valid"]
    hparams = tmp_path / "bad_hparams.json"
    hparams.write_text('{"steps": 7}')
    return {
        "missing": ([str(tmp_path / "nothing.h5")], "no such file"),
        "not hdf5": ([str(tmp_path / "junk.h5")], "not a readable HDF5"),
        "no valid split": ([str(no_valid)], "no 'valid' group"),
        "nan": ([str(nan)], "NaN or inf"),
        "inf": ([str(inf)], "NaN or inf"),
        "steps": ([str(good), "--steps", "7"], "does not divide"),
        "steps in hparams": ([str(good), "--hparams", str(hparams)], "does not divide"),
        "no readout": ([str(good), "--no-readout", "--state-size", "20"], "number of classes"),
        "epochs": ([str(good), "--epochs", "0"], "epochs must be at least 1"),
        "batch": ([str(good), "--batch-size", "500"], "fewer than one batch"),
    }


def test_bad_input_is_refused_before_training_with_nothing_that_looks_complete(tmp_path,
                                                                             capsys):
    import train  # the command's module, run in this process: no TensorFlow start-up

    from msdrnn import cli

    for case, (args, message) in bad_inputs(tmp_path).items():
        out = tmp_path / case.replace(" ", "_")
        argv = ["--dataset", args[0], "--out", str(out), "--epochs", "2", *args[1:]]
        code = cli.run(train.main, argv)
        stderr = capsys.readouterr().err
        assert code == 2, case
        assert stderr.startswith("error: ") and message in stderr, (case, stderr)
        assert stderr.count("\n") == 1, (case, stderr)  # one line
        assert not out.exists(), case


def test_bad_input_through_the_command_line(tmp_path):
    done = run(tmp_path / "missing.h5", tmp_path / "out", "--epochs", "1")
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_nan_loss_stops_naming_epoch_and_part_and_keeps_the_last_checkpoint(tmp_path,
                                                                             monkeypatch):
    from msdrnn.errors import TrainingDiverged
    from msdrnn.trainer import Trainer
    from msdrnn.training import TrainConfig, load_checkpoint, train

    data = random_dataset(tmp_path / "d.h5")
    real_epoch = Trainer.train_epoch
    calls = []

    def poisoned(self, inputs, targets, order):
        losses, hits = real_epoch(self, inputs, targets, order)
        calls.append(1)
        if len(calls) == 2:
            losses[1, 3] = np.nan
        return losses, hits

    monkeypatch.setattr(Trainer, "train_epoch", poisoned)
    out = tmp_path / "out"
    config = TrainConfig(steps=30, state_size=8, readout=True, epochs=4)
    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch 2, part 4 of 4"):
        train(config, load_split(data, "train"), load_split(data, "valid"), out)
    progress, _ = load_checkpoint(out)
    assert progress["epoch"] == 1
    assert not any((out / name).exists() for name in ("history.csv", "weights.npz", "run.json"))
