"""Several seeds of one configuration in one process (``train.py --seed 1 2 3``): the same
bits as one process per seed, the compiled step traced once, a finished seed never trained
again after an interruption, and bad seed lists refused before training."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SCRIPTS, checkpoint_epoch, random_dataset

from msdrnn.dataset_io import load_split

TRAIN = SCRIPTS / "train.py"
SEEDS = (1, 2, 3)
OUTPUT_FLAGS = {"--history": "history.csv", "--run": "run.json", "--weights": "weights.npz",
                "--weights-best": "weights_best.npz"}
# The compiled steps a job can reuse: the RNN of the baseline and the grid (one group),
# a large RNN on 2 threads (two groups of songs side by side), the MLP (XLA) and the CNN
# (a plain graph), both drawing dropout masks from the seed
CASES = {
    "rnn_10_steps_6": ["--steps", "6", "--state-size", "10", "--no-readout", "--threads", "1"],
    "rnn_120_steps_4_two_groups": ["--steps", "4", "--state-size", "120", "--readout",
                                   "--threads", "2"],
    "mlp_dropout": ["--model", "mlp", "--set", "width=16", "--set", "depth=2",
                    "--set", "dropout=0.3", "--threads", "1"],
    "cnn_dropout": ["--model", "cnn", "--set", "channels=8", "--set", "kernel=3",
                    "--set", "layers=2", "--set", "dropout=0.3", "--threads", "1"],
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Three batches of training songs, 60 validation songs: tiny, two epochs are enough."""
    return random_dataset(tmp_path_factory.mktemp("seeds") / "d.h5", train=150, valid=60)


def train_command(data: Path, seeds: tuple[int, ...], outs: list[Path], *args: str,
                  epochs: int = 2) -> list[str]:
    """train.py for ``seeds``, one --out each and every output by its own flag, one path
    per seed, as the rules pass them."""
    command = [sys.executable, str(TRAIN), "--dataset", str(data), "--epochs", str(epochs),
               "--seed", *map(str, seeds), "--out", *map(str, outs), *args]
    for flag, name in OUTPUT_FLAGS.items():
        command += [flag, *(str(out / name) for out in outs)]
    return command


def run(command: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def history(out: Path) -> list[dict]:
    """A run's history without the seconds (the one column that is not computed)."""
    with open(out / "history.csv") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def assert_same_runs(first: Path, second: Path) -> None:
    """Equal weights files (bytes), best-epoch weights files and histories."""
    for name in ("weights.npz", "weights_best.npz"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), (first, name)
    assert history(first) == history(second), first


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_a_job_of_three_seeds_equals_three_jobs_of_one_bit_for_bit(dataset, tmp_path, case):
    together = [tmp_path / "together" / f"seed_{seed}" for seed in SEEDS]
    done = run(train_command(dataset, SEEDS, together, *CASES[case]))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("songs/s") == 2 * len(SEEDS)
    for seed, out in zip(SEEDS, together, strict=True):
        alone = tmp_path / "alone" / f"seed_{seed}"
        single = run(train_command(dataset, (seed,), [alone], *CASES[case]))
        assert single.returncode == 0, single.stderr[-3000:]
        assert_same_runs(out, alone)
        record = json.loads((out / "run.json").read_text())
        assert record["seed"] == seed
        assert record["threads"] == json.loads((alone / "run.json").read_text())["threads"]
        assert not (out / "checkpoint").exists()
    groups = json.loads((together[0] / "run.json").read_text())["threads"]["groups"]
    assert groups == (2 if "two_groups" in case else 1)


@pytest.mark.slow
def test_a_killed_job_of_three_seeds_does_not_train_a_finished_seed_again(dataset, tmp_path):
    """SIGKILL during seed 2; then, as Snakemake does with an interrupted job, every
    declared output is deleted before the same command runs again: seed 1 is written from
    its kept final checkpoint, seed 2 resumes after its last epoch, all to the bits of an
    uninterrupted job."""
    rnn = ["--steps", "4", "--state-size", "24", "--readout", "--threads", "1"]
    whole = [tmp_path / "whole" / f"seed_{seed}" for seed in SEEDS]
    done = run(train_command(dataset, SEEDS, whole, *rnn, epochs=4))
    assert done.returncode == 0, done.stderr[-3000:]

    killed = [tmp_path / "killed" / f"seed_{seed}" for seed in SEEDS]
    command = train_command(dataset, SEEDS, killed, *rnn, epochs=4)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    deadline = time.monotonic() + 300
    while checkpoint_epoch(killed[1]) < 1 and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "finished before it could be killed"
    assert checkpoint_epoch(killed[0]) == 4  # seed 1 done, its checkpoint kept
    for out in killed:
        for name in OUTPUT_FLAGS.values():
            (out / name).unlink(missing_ok=True)

    again = run(command)
    assert again.returncode == 0, again.stderr[-3000:]
    log = again.stderr
    assert "another computation" not in log and "starting over" not in log
    seed_1 = log[log.index("seed 1 (1 of 3)"):log.index("seed 2 (2 of 3)")]
    assert "resuming after epoch 4 " in seed_1 and "songs/s" not in seed_1
    seed_2 = log[log.index("seed 2 (2 of 3)"):log.index("seed 3 (3 of 3)")]
    assert "resuming after epoch " in seed_2
    assert json.loads((killed[0] / "run.json").read_text())["resumed_after_epoch"] == 4
    for first, second in zip(whole, killed, strict=True):
        assert_same_runs(first, second)
        assert not (second / "checkpoint").exists()


def tiny_mlp(**changes):
    from msdrnn.training import TrainConfig

    values = {"model": "mlp", "hparams": {"width": 8, "depth": 1, "dropout": 0.3},
              "epochs": 2, "threads": 1}
    return TrainConfig(**(values | changes))


def test_later_seeds_reuse_the_compiled_step_and_compute_what_a_new_trainer_does(
        dataset, tmp_path, monkeypatch):
    from dataclasses import replace

    from msdrnn import training

    splits = load_split(dataset, "train"), load_split(dataset, "valid")
    sessions = []

    class Recorded(training.Session):
        def __init__(self):
            super().__init__()
            sessions.append(self)

    monkeypatch.setattr(training, "Session", Recorded)
    config = tiny_mlp()
    outs = [tmp_path / "together" / f"seed_{seed}" for seed in SEEDS]
    lines: list[str] = []
    histories = training.train_seeds(config, list(SEEDS), *splits, outs, log=lines.append)
    [session] = sessions
    assert session.trainer._train_step.experimental_get_tracing_count() == 1
    assert session.trainer._logits.experimental_get_tracing_count() == 1
    assert [line.split(" in ")[0] for line in lines if line.startswith("seed ")] == [
        "seed 1 (1 of 3)", "seed 2 (2 of 3)", "seed 3 (3 of 3)"]
    assert not any((out / "checkpoint").exists() for out in outs)
    assert [len(rows) for rows in histories] == [2, 2, 2]
    for seed, out in zip(SEEDS, outs, strict=True):
        alone = tmp_path / "alone" / f"seed_{seed}"
        training.train(replace(config, seed=seed), *splits, alone)  # a new trainer
        assert_same_runs(out, alone)
    # another computation (here: another width) gets a trainer of its own
    other = session.trainer_for(replace(config, hparams={**config.hparams, "width": 9}))
    assert other.model.weights["W_0"].shape == (3000, 9)


class Interrupted(Exception):
    """Stands for a kill right after the checkpoint of seed 2's first epoch."""


def test_an_interrupted_job_resumes_its_finished_seeds_without_training(dataset, tmp_path):
    from msdrnn import training

    splits = load_split(dataset, "train"), load_split(dataset, "valid")
    config = tiny_mlp()
    outs = [tmp_path / f"seed_{seed}" for seed in SEEDS]
    seen: list[str] = []

    def stop_in_seed_2(line: str) -> None:
        seen.append(line)
        if line.startswith("epoch   1/") and any(s.startswith("seed 2 ") for s in seen):
            raise Interrupted

    with pytest.raises(Interrupted):
        training.train_seeds(config, list(SEEDS), *splits, outs, log=stop_in_seed_2)
    assert checkpoint_epoch(outs[0]) == 2 and checkpoint_epoch(outs[1]) == 1
    assert (outs[0] / "weights.npz").is_file()
    (outs[0] / "weights.npz").unlink()  # what Snakemake deletes of a failed job

    lines: list[str] = []
    training.train_seeds(config, list(SEEDS), *splits, outs, log=lines.append)
    text = "\n".join(lines)
    first = text[:text.index("seed 2 (2 of 3)")]
    assert "resuming after epoch 2 " in first and "epoch   1/" not in first
    second = text[text.index("seed 2 (2 of 3)"):text.index("seed 3 (3 of 3)")]
    assert "resuming after epoch 1 " in second and "epoch   1/" not in second
    assert text.count("epoch   2/2") == 2  # seed 2's second epoch and seed 3's
    assert all((out / "weights.npz").is_file() and not (out / "checkpoint").exists()
               for out in outs)


def bad_seed_lists(data: Path, tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    outs = [str(tmp_path / "out" / f"seed_{s}") for s in SEEDS]
    return {
        "fewer folders": (["--seed", "1", "2", "3", "--out", *outs[:2]],
                          "3 seeds (1 2 3) but 2 --out paths: give one --out per seed"),
        "fewer histories": (["--seed", "1", "2", "--out", *outs[:2], "--history",
                             f"{outs[0]}/history.csv"],
                            "2 seeds (1 2) but 1 --history path: give one --history per seed"),
        "more runs": (["--seed", "1", "--seed", "2", "--out", *outs[:2], "--run",
                       *(f"{o}/run.json" for o in outs)],
                      "2 seeds (1 2) but 3 --run paths"),
        "seed twice": (["--seed", "1", "1", "--out", *outs[:2]], "a seed is given twice: 1 1"),
        "folder twice": (["--seed", "1", "2", "--out", outs[0], outs[0]],
                         "a --out folder is given twice"),
        "file twice": (["--seed", "1", "2", "--out", *outs[:2], "--weights",
                        f"{outs[0]}/w.npz", f"{outs[0]}/w.npz"],
                       "an output path is given twice"),
    }


def test_bad_seed_lists_are_refused_in_one_line_before_training(dataset, tmp_path, capsys):
    import train  # the command's module, run in this process: no TensorFlow start-up

    from msdrnn import cli

    for case, (args, message) in bad_seed_lists(dataset, tmp_path).items():
        code = cli.run(train.main, ["--dataset", str(dataset), "--epochs", "1", *args])
        stderr = capsys.readouterr().err
        assert code == 2, case
        assert stderr.startswith("error: ") and message in stderr, (case, stderr)
        assert stderr.count("\n") == 1, (case, stderr)
        assert not (tmp_path / "out").exists(), case
