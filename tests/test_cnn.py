"""The temporal convolutional network: forward pass, reference, dropout, FLOPs, checks,
and train.py end to end with a bitwise kill-and-resume."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import SCRIPTS, random_dataset

from msdrnn import reference
from msdrnn.dataset_io import load_split
from msdrnn.models import family, hparams_error
from msdrnn.models.cnn import TemporalCNN, flops_per_song
from msdrnn.tensorflow_setup import import_tensorflow
from msdrnn.updates import Trainer

tf = import_tensorflow()  # without Keras: only the test that compares with Keras loads it
RNG = np.random.default_rng(0)
CNN = family("cnn")


def cnn(channels: int, kernel: int, layers: int, dropout: float = 0.0) -> dict:
    """The convolutional network's hyperparameters."""
    return {"channels": channels, "kernel": kernel, "layers": layers, "dropout": dropout}


def songs(n: int) -> np.ndarray:
    return RNG.standard_normal((n, 120, 25)).astype(np.float32)


def numpy_weights(model: TemporalCNN) -> dict[str, np.ndarray]:
    return {name: var.numpy() for name, var in model.weights.items()}


def with_random_biases(model: TemporalCNN) -> TemporalCNN:
    """Biases that are not zero, so that a bias left out or misplaced shows."""
    for name, var in model.weights.items():
        if name.startswith("conv_b_") or name == "b_out":
            var.assign(0.3 * RNG.standard_normal(var.shape).astype(np.float32))
    return model


def test_importing_the_family_does_not_import_tensorflow():
    """The job sizing and the test evaluation import it for its FLOPs and reference."""
    code = ("import sys\nimport numpy as np\nimport msdrnn.models.cnn as m\n"
            "m.flops_per_song(m.DEFAULTS)\n"
            "m.reference_logits(np.zeros((1, 120, 25)), {'conv_0': np.zeros((3, 25, 4)), "
            "'conv_b_0': np.zeros(4), 'W_out': np.zeros((4, 10)), 'b_out': np.zeros(10)})\n"
            "print('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(SCRIPTS)}, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(("channels", "kernel", "layers"),
                         [(6, 1, 1), (8, 3, 3), (5, 7, 2), (4, 5, 1)])
def test_song_logits_match_the_numpy_reference(channels, kernel, layers):
    """TensorFlow's convolution and the reference's im2col agree: window, zero padding,
    the kernel's orientation, biases, pooling and output layer (dropout off)."""
    model = with_random_biases(TemporalCNN(cnn(channels, kernel, layers, 0.5), seed=6))
    x = songs(5)
    ours = model.song_logits(tf.constant(x)).numpy()
    np.testing.assert_allclose(ours, CNN.reference_logits(x, numpy_weights(model)),
                               rtol=1e-4, atol=1e-5)
    assert ours.shape == (5, 10)


def test_weights_are_named_shaped_and_drawn_from_the_seed():
    model = TemporalCNN(cnn(16, 5, 2), seed=3)
    assert {k: tuple(v.shape) for k, v in model.weights.items()} == {
        "conv_0": (5, 25, 16), "conv_b_0": (16,), "conv_1": (5, 16, 16), "conv_b_1": (16,),
        "W_out": (16, 10), "b_out": (10,)}
    again, other = numpy_weights(TemporalCNN(cnn(16, 5, 2), 3)), TemporalCNN(cnn(16, 5, 2), 4)
    for name, value in numpy_weights(model).items():
        np.testing.assert_array_equal(value, again[name])
    assert not np.array_equal(other.weights["conv_0"].numpy(), again["conv_0"])
    limit = np.sqrt(6 / (5 * 25 + 5 * 16))  # Glorot with a convolution's fans
    conv_0 = again["conv_0"]
    assert np.abs(conv_0).max() <= limit and np.abs(conv_0).max() > 0.9 * limit
    assert not again["conv_b_0"].any() and not again["b_out"].any()


def test_evaluation_matches_the_numpy_references_loss_and_accuracy():
    model = with_random_biases(TemporalCNN(cnn(12, 3, 2, 0.3), seed=5))
    x, y = songs(30), RNG.integers(0, 10, 30)
    loss, acc = Trainer(model, eval_chunk=7).evaluate(x, y)
    logits = CNN.reference_logits(x, numpy_weights(model))
    assert loss == pytest.approx(reference.cross_entropy(logits, y), rel=1e-5)
    assert acc == reference.accuracy(logits, y)


def test_training_step_is_one_adam_update_of_the_batchs_mean_loss():
    """Without dropout, the compiled step equals a plain tape and Keras's Adam."""
    import keras

    from msdrnn.models.layers import cross_entropy

    model, twin = TemporalCNN(cnn(6, 3, 2), 4), TemporalCNN(cnn(6, 3, 2), 4)
    x, y = songs(20), RNG.integers(0, 10, 20)
    losses, hits = Trainer(model, batch_size=10).train_epoch(x, y, np.arange(20))
    assert losses.shape == (2, 1) and hits.shape == (2,)
    optimizer = keras.optimizers.Adam(1e-3, epsilon=1e-8)
    variables = list(twin.weights.values())
    for b in range(2):
        with tf.GradientTape() as tape:
            logits = twin.song_logits(tf.constant(x[10 * b:10 * (b + 1)]))
            loss = tf.reduce_mean(cross_entropy(logits, tf.constant(y[10 * b:10 * (b + 1)])))
        optimizer.apply(tape.gradient(loss, variables), variables)
        np.testing.assert_allclose(losses[b, 0], loss.numpy(), rtol=1e-5)
        assert hits[b] == np.sum(np.argmax(logits, 1) == y[10 * b:10 * (b + 1)])
    for name, var in model.weights.items():
        np.testing.assert_allclose(var.numpy(), twin.weights[name].numpy(), atol=2e-6)


def trained_state(hparams: dict, seed: int, x: np.ndarray, y: np.ndarray,
                  epochs: int = 1) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Losses of every epoch and the final state of a trainer of run seed ``seed``
    (weights always drawn from seed 0)."""
    trainer = Trainer(TemporalCNN(hparams, 0), batch_size=10, seed=seed)
    losses = [trainer.train_epoch(x, y, np.arange(len(y)))[0] for _ in range(epochs)]
    return losses, trainer.state()


def test_dropout_is_a_function_of_the_seed_and_the_update():
    """Masks come from (run seed, Adam step): the same seed makes the same updates bit for
    bit; another seed other ones; rate 0 draws nothing, whatever the seed; and every
    update draws its own masks (the same batch twice in a row gives two losses)."""
    x, y = songs(20), RNG.integers(0, 10, 20)
    (losses,), state = trained_state(cnn(8, 3, 2, 0.4), 1, x, y)
    (again,), state_again = trained_state(cnn(8, 3, 2, 0.4), 1, x, y)
    np.testing.assert_array_equal(again, losses)
    for name in state:
        np.testing.assert_array_equal(state_again[name], state[name])
    _, other_seed = trained_state(cnn(8, 3, 2, 0.4), 2, x, y)
    assert not np.array_equal(other_seed["conv_0"], state["conv_0"])
    _, plain = trained_state(cnn(8, 3, 2, 0.0), 1, x, y)
    _, plain_other_seed = trained_state(cnn(8, 3, 2, 0.0), 2, x, y)
    assert not np.array_equal(plain["conv_0"], state["conv_0"])
    for name in plain:
        np.testing.assert_array_equal(plain_other_seed[name], plain[name])

    trainer = Trainer(TemporalCNN(cnn(8, 3, 2, 0.4), 0), batch_size=10, seed=1)
    step = trainer._train_step
    masks = []
    for _ in range(2):  # the same batch, weights restored: only the update count differs
        saved = trainer.state()
        masks.append(step(tf.constant(x[:10]), tf.constant(y[:10], tf.int64))[0].numpy())
        trainer.restore({**saved, "adam_step": trainer.state()["adam_step"]})
    assert masks[0] != masks[1]


def test_compiled_step_repeats_its_bits():
    """Same weights, songs, order and seed, with dropout: twice the same bits (the step is
    a plain graph, ``TemporalCNN.jit_compile``)."""
    x, y = songs(45), RNG.integers(0, 10, 45)
    order = RNG.permutation(45)  # batch 20: two batches, the last 5 songs dropped
    runs = []
    for _ in range(2):
        trainer = Trainer(TemporalCNN(cnn(10, 5, 2, 0.3), 8), batch_size=20, seed=8)
        first, hits = trainer.train_epoch(x, y, order)
        second, _ = trainer.train_epoch(x, y, order[::-1])
        runs.append((first, hits, second, trainer.state()))
    for got, want in zip(runs[1][:3], runs[0][:3], strict=True):
        np.testing.assert_array_equal(got, want)
    for name, value in runs[0][3].items():
        np.testing.assert_array_equal(runs[1][3][name], value)
    assert runs[0][0].shape == (2, 1)


@pytest.mark.parametrize(("channels", "kernel", "layers"), [(8, 3, 1), (32, 5, 2), (7, 1, 3)])
def test_flops_per_song_count_the_products_of_the_weights_shapes(channels, kernel, layers):
    """Each convolution is a (120, kernel x in) @ (kernel x in, out) product per song, the
    output layer (channels) @ (channels, 10); training adds the weights' gradients of all
    and the inputs' gradients of all but the first layer's."""
    shapes = {k: tuple(v.shape) for k, v in
              TemporalCNN(cnn(channels, kernel, layers), 0).weights.items()}
    convs = [2 * 120 * int(np.prod(shapes[f"conv_{i}"])) for i in range(layers)]
    forward = sum(convs) + 2 * int(np.prod(shapes["W_out"]))
    assert flops_per_song(cnn(channels, kernel, layers)) == {
        "forward": forward, "train": 3 * forward - convs[0]}
    assert TemporalCNN(cnn(channels, kernel, layers), 0).flops_per_song()["forward"] == forward


def test_job_memory_grows_with_channels_times_layers_at_the_configs_coefficient():
    import yaml
    from helpers import ROOT

    from msdrnn.resources import train_mem_mb

    coefficients = yaml.safe_load((ROOT / "config.yaml").read_text())["resources"]
    assert CNN.memory_terms(cnn(64, 5, 3)) == {"channel": 192.0}
    peak = (coefficients["train_mem_base_mb"] + coefficients["train_mem_per_data_mb"] * 15
            + coefficients["train_mem_per_channel_mb"] * 192)
    assert train_mem_mb(15, "cnn", cnn(64, 5, 3), coefficients) == \
        int(np.ceil(peak * (1 + coefficients["mem_margin"])))


@pytest.mark.parametrize(("changes", "message"), [
    ({"kernel": 4}, "kernel must be odd and at least 1 ('same' padding is symmetric"),
    ({"kernel": 0}, "kernel must be odd and at least 1"),
    ({"kernel": -3}, "got -3"),
    ({"channels": 0}, "channels and layers must be at least 1; got channels 0"),
    ({"layers": 0}, "channels and layers must be at least 1; got channels 8, layers 0"),
    ({"dropout": 1.0}, "dropout must be in [0, 1); got 1.0"),
    ({"dropout": -0.1}, "dropout must be in [0, 1); got -0.1"),
    ({"kernel": 3.0}, "'kernel' must be int; got 3.0"),
    ({"width": 3}, "unknown ['width']"),
])
def test_bad_hyperparameters_are_refused_with_a_clear_message(changes, message):
    hparams = {**cnn(8, 3, 2, 0.1), **changes}
    assert message in hparams_error("cnn", hparams, 10)
    if set(changes) <= set(CNN.HPARAMS) and type(changes.get("kernel", 3)) is int:
        with pytest.raises(ValueError, match="must"):
            TemporalCNN(hparams, 0)
    assert hparams_error("cnn", cnn(8, 3, 2, 0.1), 10) is None


@pytest.mark.slow
def test_train_py_trains_the_cnn_end_to_end(tmp_path):
    data = random_dataset(tmp_path / "d.h5", train=100, valid=40)
    out = tmp_path / "run"
    command = [sys.executable, str(SCRIPTS / "train.py"), "--dataset", str(data), "--out",
               str(out), "--model", "cnn", "--set", "channels=6", "--set", "kernel=3",
               "--set", "layers=2", "--set", "dropout=0.25", "--epochs", "3", "--seed", "2",
               "--threads", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("songs/s") == 3
    rows = list(csv.DictReader(open(out / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    with np.load(out / "weights.npz") as f:
        weights = dict(f)
    assert {k: v.shape for k, v in weights.items()} == {
        "conv_0": (3, 25, 6), "conv_b_0": (6,), "conv_1": (3, 6, 6), "conv_b_1": (6,),
        "W_out": (6, 10), "b_out": (10,)}
    valid = load_split(data, "valid")
    logits = CNN.reference_logits(valid.inputs, weights)
    assert reference.accuracy(logits, valid.targets) == pytest.approx(float(rows[-1]["valid_acc"]))
    assert reference.cross_entropy(logits, valid.targets) == pytest.approx(
        float(rows[-1]["valid_loss"]), rel=1e-4)
    record = json.loads((out / "run.json").read_text())
    assert record["model"] == "cnn" and record["seed"] == 2
    assert {k: record["hyperparameters"][k] for k in CNN.HPARAMS} == cnn(6, 3, 2, 0.25)
    assert record["flops_per_song"] == flops_per_song(cnn(6, 3, 2, 0.25))
    assert record["updates_per_epoch"] == 2


class Interrupted(Exception):
    """Stands for a kill right after the checkpoint of epoch 2 was written."""


def interrupt_after_second_epoch(line: str) -> None:
    if line.startswith("epoch   2/"):
        raise Interrupted


def test_killed_cnn_with_dropout_resumes_to_the_same_bits(tmp_path):
    """Stopped after epoch 2 and resumed: the masks of epoch 3 come from the checkpoint's
    update count, so history and weights equal an uninterrupted run's."""
    from msdrnn.training import TrainConfig, train

    data = random_dataset(tmp_path / "d.h5", train=60, valid=20)
    splits = load_split(data, "train"), load_split(data, "valid")
    config = TrainConfig(model="cnn", hparams=cnn(6, 3, 2, 0.5), epochs=3, seed=3, threads=1)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    expected = train(config, *splits, whole, log=lambda line: None)
    with pytest.raises(Interrupted):
        train(config, *splits, killed, log=interrupt_after_second_epoch)
    assert not (killed / "weights.npz").exists()
    lines: list[str] = []
    resumed = train(config, *splits, killed, log=lines.append)
    assert "resuming after epoch 2" in lines[0]

    def without_seconds(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert without_seconds(resumed) == without_seconds(expected)
    assert (killed / "weights.npz").read_bytes() == (whole / "weights.npz").read_bytes()
    assert (killed / "weights_best.npz").read_bytes() == (whole / "weights_best.npz").read_bytes()


TWO_THREAD_RUN = """
import hashlib
import numpy as np
import tensorflow as tf
from msdrnn.models.cnn import TemporalCNN
from msdrnn.updates import Trainer, set_threads
set_threads(2)
tf.config.experimental.enable_op_determinism()
rng = np.random.default_rng(0)
x, y = rng.standard_normal((100, 120, 25)).astype(np.float32), rng.integers(0, 10, 100)
trainer = Trainer(TemporalCNN({"channels": 48, "kernel": 5, "layers": 3, "dropout": 0.3}, 3),
                  seed=4)
digest = hashlib.sha256(trainer.train_epoch(x, y, rng.permutation(100))[0].tobytes())
digest.update(trainer.logits(x).tobytes())
for name, value in sorted(trainer.state().items()):
    digest.update(value.tobytes())
print(digest.hexdigest())
"""


@pytest.mark.slow
def test_two_threads_repeat_their_bits_from_process_to_process():
    """TensorFlow's convolution kernels split their work over both threads; two
    processes still make the same updates bit for bit."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(SCRIPTS)}
    digests = [subprocess.run([sys.executable, "-c", TWO_THREAD_RUN], env=env,
                              capture_output=True, text=True, check=True).stdout
               for _ in range(2)]
    assert digests[0] == digests[1] and len(digests[0]) == 65
