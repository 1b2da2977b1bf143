"""The training command: outputs, determinism, SIGKILL and resume, bad input, divergence."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import ROOT, SCRIPTS, checkpoint_epoch, random_dataset, synthetic_dataset

from msdrnn import reference
from msdrnn.dataset_io import load_split
from msdrnn.models import family
from msdrnn.steps import make_steps

TRAIN = SCRIPTS / "train.py"


def rnn(state_size: int, steps: int = 4, readout: bool = True) -> dict:
    """An RNN's hyperparameters for ``TrainConfig``."""
    return {"state_size": state_size, "steps": steps, "readout": readout}


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


def test_output_paths_default_to_out_and_refuse_unknown_names(tmp_path):
    from msdrnn.errors import ConfigError
    from msdrnn.training import OUTPUTS, output_paths

    paths = output_paths(tmp_path, {"history": tmp_path / "h.csv", "run": None})
    assert paths == {"weights": tmp_path / "weights.npz",
                     "weights_best": tmp_path / "weights_best.npz",
                     "history": tmp_path / "h.csv", "run": tmp_path / "run.json"}
    assert sorted(p.name for p in output_paths(tmp_path).values()) == sorted(OUTPUTS)
    with pytest.raises(ConfigError, match="unknown training outputs \\['checkpoint'\\]"):
        output_paths(tmp_path, {"checkpoint": tmp_path / "c"})


@pytest.mark.slow
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
    logits = family("rnn").reference_logits(valid.inputs, weights)
    assert reference.accuracy(logits, valid.targets) == pytest.approx(float(rows[-1]["valid_acc"]))
    assert reference.cross_entropy(logits, valid.targets) == pytest.approx(
        float(rows[-1]["valid_loss"]), rel=1e-4)
    record = json.loads((out / "run.json").read_text())
    assert record["hyperparameters"]["state_size"] == 24 and record["seed"] == 7
    assert record["device"].startswith(("CPU", "GPU"))
    assert {"tensorflow", "keras", "numpy"} <= set(record["versions"])
    assert record["hyperparameters"]["batch_size"] == 50


@pytest.mark.slow
def test_each_output_goes_where_its_flag_names_it(dataset, tmp_path):
    """The rules pass every declared output by its own flag; --out keeps the checkpoint."""
    named = {"--history": tmp_path / "h" / "hist.csv", "--run": tmp_path / "r" / "record.json",
             "--weights": tmp_path / "w" / "final.npz",
             "--weights-best": tmp_path / "w" / "best.npz"}
    flags = [str(x) for pair in named.items() for x in pair]
    done = run(dataset, tmp_path / "out", *RNN, "--epochs", "1", *flags)
    assert done.returncode == 0, done.stderr
    assert all(path.is_file() for path in named.values())
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # the checkpoint, removed
    with open(named["--history"]) as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["1"]
    with np.load(named["--weights"]) as final, np.load(named["--weights-best"]) as best:
        assert set(final.files) == set(best.files) == {"W_x", "W_h", "b", "W_out", "b_out"}
    assert json.loads(named["--run"].read_text())["seed"] == 7


@pytest.mark.slow
@pytest.mark.parametrize(("threads", "state_size", "groups"), [("1", 24, 1), ("2", 100, 2)])
def test_killed_run_resumes_to_the_same_bits_and_reruns_are_identical(dataset, tmp_path,
                                                                      threads, state_size,
                                                                      groups):
    """Also for a batch's songs trained in two groups side by side (state size 100, 2
    threads)."""
    epochs = ["--epochs", "5"]
    whole = tmp_path / "whole"
    rnn = ["--steps", "4", "--state-size", str(state_size), "--readout", "--seed", "7",
           "--threads", threads]
    done = run(dataset, whole, *rnn, *epochs)
    assert done.returncode == 0, done.stderr
    assert json.loads((whole / "run.json").read_text())["threads"]["groups"] == groups

    killed = tmp_path / "killed"
    process = subprocess.Popen(train_command(dataset, killed, *rnn, *epochs),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while checkpoint_epoch(killed) < 2 and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "finished before it could be killed"
    assert not (killed / "run.json").exists() and not (killed / "weights.npz").exists()
    resumed = run(dataset, killed, *rnn, *epochs)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch" in resumed.stderr

    assert history(killed) == history(whole)
    assert (killed / "weights.npz").read_bytes() == (whole / "weights.npz").read_bytes()

    # The same run again, from hyperparameters in a file and the per-step arrays, into the
    # finished folder. Its checkpoint is gone once the outputs are written, so a rerun
    # (what Snakemake does after an edit or a --forcerun) recomputes from epoch 1, to the
    # same numbers.
    assert not (whole / "checkpoint").exists()
    seconds = [row["seconds"] for row in csv.DictReader(open(whole / "history.csv"))]
    hparams = tmp_path / "hparams.json"
    hparams.write_text(json.dumps({"steps": 4, "state_size": state_size, "readout": True}))
    steps_file = tmp_path / "steps_4.h5"
    make_steps(dataset, 4, steps_file)
    rerun = run(dataset, whole, "--seed", "7", "--threads", threads, "--hparams", str(hparams),
                "--steps-file", str(steps_file), *epochs)
    assert rerun.returncode == 0 and rerun.stderr.count("songs/s") == 5, rerun.stderr
    assert "resuming" not in rerun.stderr
    assert history(whole) == history(killed)
    assert (whole / "weights.npz").read_bytes() == (killed / "weights.npz").read_bytes()
    assert [row["seconds"] for row in csv.DictReader(open(whole / "history.csv"))] != seconds
    assert json.loads((whole / "run.json").read_text())["resumed_after_epoch"] == 0


@pytest.mark.slow
def test_best_epoch_weights_are_those_of_the_highest_valid_accuracy(dataset, tmp_path):
    out = tmp_path / "run"
    done = run(dataset, out, *RNN, "--epochs", "4")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "history.csv")))
    accuracies = [float(r["valid_acc"]) for r in rows]
    best_epoch = accuracies.index(max(accuracies)) + 1  # the earliest on a tie
    assert json.loads((out / "run.json").read_text())["best_epoch"] == best_epoch
    valid = load_split(dataset, "valid")
    with np.load(out / "weights_best.npz") as f:
        best = dict(f)
    logits = family("rnn").reference_logits(valid.inputs, best)
    assert reference.accuracy(logits, valid.targets) == pytest.approx(max(accuracies))
    with np.load(out / "weights.npz") as f:
        final = dict(f)
    assert (best_epoch == 4) == all(np.array_equal(best[k], final[k]) for k in final)


@pytest.mark.slow
def test_a_changed_cell_changes_the_history_of_a_rerun(dataset, tmp_path):
    """The study's code edited after a completed run: the same command recomputes."""
    scripts = tmp_path / "workflow_scripts"
    shutil.copytree(ROOT / "workflow_scripts", scripts,
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "run"
    command = [sys.executable, str(scripts / "train.py"), "--dataset", str(dataset),
               "--out", str(out), *RNN, "--epochs", "2"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    tanh = history(out)
    model = scripts / "msdrnn" / "models" / "rnn.py"
    model.write_text(model.read_text().replace("tf.tanh(", "tf.nn.relu("))
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("songs/s") == 2
    assert history(out) != tanh
    assert json.loads((out / "run.json").read_text())["code"]["msdrnn/models/rnn.py"] != \
        hashlib.sha256((ROOT / "workflow_scripts/msdrnn/models/rnn.py").read_bytes()).hexdigest()


class Interrupted(Exception):
    """Stands for a kill right after the checkpoint of epoch 1 was written."""


def interrupt_after_first_epoch(line: str) -> None:
    if line.startswith("epoch   1/"):
        raise Interrupted


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """A run stopped after epoch 1 (its checkpoint written), made once: its settings, data
    and folder, which each test copies."""
    from msdrnn.training import TrainConfig, train

    folder = tmp_path_factory.mktemp("interrupted")
    data = random_dataset(folder / "d.h5")
    splits = load_split(data, "train"), load_split(data, "valid")
    config = TrainConfig(hparams=rnn(8, 30), epochs=2, seed=3)
    with pytest.raises(Interrupted):
        train(config, *splits, folder / "out", log=interrupt_after_first_epoch)
    assert (folder / "out" / "checkpoint" / "checkpoint.npz").is_file()
    return config, splits, folder / "out"


def stop_before_training(*args, **kwargs):
    raise Interrupted


@pytest.fixture()
def interrupted(stopped_run, tmp_path, monkeypatch):
    """A copy of the run stopped after epoch 1 in tmp_path/out, and how to start it again:
    to the end, or (``decision_only``) up to where the next epoch would train, which is
    after the log says whether the checkpoint is resumed (no TensorFlow compilation)."""
    from msdrnn.training import train
    from msdrnn.updates import Trainer

    config, splits, stopped = stopped_run
    out = tmp_path / "out"
    shutil.copytree(stopped, out)

    def again(config=config, splits=splits, decision_only=False):
        lines: list[str] = []
        if decision_only:
            with monkeypatch.context() as patch, pytest.raises(Interrupted):
                patch.setattr(Trainer, "train_epoch", stop_before_training)
                train(config, *splits, out, log=lines.append)
        else:
            train(config, *splits, out, log=lines.append)
        return "\n".join(lines)

    return config, splits, again


def test_a_checkpoint_of_the_identical_computation_is_resumed(interrupted):
    _, _, again = interrupted
    assert "resuming after epoch 1" in again(decision_only=True)


@pytest.mark.parametrize("part", ["settings", "data", "code", "versions"])
def test_a_checkpoint_of_another_computation_is_discarded_naming_what_differs(
        interrupted, part, monkeypatch):
    from dataclasses import replace

    from msdrnn import training

    config, (train_split, valid_split), again = interrupted
    expected = {"settings": "settings (seed)", "data": "data",
                "code": "code (msdrnn/models/rnn.py)", "versions": "versions (numpy)"}[part]
    if part == "settings":
        log = again(config=replace(config, seed=4), decision_only=True)
    elif part == "data":
        changed = type(train_split)(train_split.inputs + 1, train_split.targets)
        log = again(splits=(changed, valid_split), decision_only=True)
    elif part == "code":
        real = training.code_fingerprint
        monkeypatch.setattr(training, "code_fingerprint", lambda: {
            **real(), "msdrnn/models/rnn.py": "0" * 64})
        log = again(decision_only=True)
    else:
        real_versions = training.package_versions
        monkeypatch.setattr(training, "package_versions",
                            lambda: {**real_versions(), "numpy": "0.0.0"})
        log = again(decision_only=True)
    assert f"was written by another computation, {expected} differ: starting over" in log
    assert "resuming" not in log


def test_threads_are_part_of_the_fingerprint(interrupted):
    from dataclasses import replace

    config, _, again = interrupted
    assert "settings (threads)" in again(config=replace(config, threads=config.threads + 1),
                                         decision_only=True)


def test_rnns_from_state_size_100_train_in_one_group_of_songs_per_thread():
    from msdrnn.errors import ConfigError
    from msdrnn.training import TrainConfig

    assert [TrainConfig(hparams=rnn(s), threads=2).groups for s in (99, 100, 500)] == [1, 2, 2]
    assert TrainConfig(hparams=rnn(250), threads=1).groups == 1
    assert TrainConfig(hparams=rnn(250), threads=3).groups == 3
    assert TrainConfig(model="mlp", threads=2).groups == 1
    with pytest.raises(ConfigError, match="threads \\(51\\) must not exceed the batch size"):
        TrainConfig(hparams=rnn(250), threads=51).check()
    TrainConfig(hparams=rnn(50), threads=51).check()  # one group: any thread count


@pytest.mark.slow  # trains to the last epoch
@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_corrupt_checkpoint_is_discarded_with_a_warning(interrupted, tmp_path, damage):
    _, _, again = interrupted
    path = tmp_path / "out" / "checkpoint" / "checkpoint.npz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a zip file")
    log = again()
    assert "warning: ignoring unreadable checkpoint" in log and "resuming" not in log
    assert not path.exists() and (tmp_path / "out" / "weights.npz").is_file()


def test_code_fingerprint_covers_the_loaded_project_modules(tmp_path, monkeypatch):
    from msdrnn.provenance import code_fingerprint

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cell.py").write_text("ACTIVATION = 'tanh'\n")
    (tmp_path / "unused.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    import pkg.cell  # noqa: F401

    before = code_fingerprint(tmp_path)
    assert set(before) == {"pkg/__init__.py", "pkg/cell.py"}
    (package / "cell.py").write_text("ACTIVATION = 'relu'\n")
    after = code_fingerprint(tmp_path)
    assert after["pkg/cell.py"] != before["pkg/cell.py"]
    assert after["pkg/__init__.py"] == before["pkg/__init__.py"]
    own = code_fingerprint()
    assert "msdrnn/provenance.py" in own and "msdrnn/training.py" in own


@pytest.mark.slow
def test_mlp_with_dropout_trains_resumes_bitwise_and_writes_its_weights(dataset, tmp_path):
    mlp = ["--model", "mlp", "--set", "width=16", "--set", "depth=2", "--set", "dropout=0.3",
           "--threads", "1"]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run(dataset, whole, *mlp, "--epochs", "3").returncode == 0
    assert run(dataset, split, *mlp, "--epochs", "2").returncode == 0
    assert run(dataset, split, *mlp, "--epochs", "3").returncode == 0  # continues to 3
    assert history(split) == history(whole)
    assert (split / "weights.npz").read_bytes() == (whole / "weights.npz").read_bytes()
    with np.load(whole / "weights.npz") as f:
        weights = dict(f)
    assert {k: v.shape for k, v in weights.items()} == {
        "W_0": (3000, 16), "b_0": (16,), "W_1": (16, 16), "b_1": (16,), "W_2": (16, 10),
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
    from msdrnn.training import TrainConfig, load_checkpoint, train
    from msdrnn.updates import Trainer

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
    config = TrainConfig(hparams=rnn(8, 30), epochs=4)
    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch 2, part 4 of 4"):
        train(config, load_split(data, "train"), load_split(data, "valid"), out)
    progress, _ = load_checkpoint(out)
    assert progress["epoch"] == 1
    assert not any((out / name).exists() for name in ("history.csv", "weights.npz", "run.json"))
