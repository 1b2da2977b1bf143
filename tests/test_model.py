"""The RNN of the original study: cell, state carry, truncation, updates, metrics, order."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import SCRIPTS, random_dataset, shuffled_segments, synthetic_dataset

from msdrnn import reference
from msdrnn.dataset_io import load_split
from msdrnn.models import family
from msdrnn.models.layers import cross_entropy
from msdrnn.models.mlp import MLP
from msdrnn.models.rnn import BasicRNN
from msdrnn.tensorflow_setup import import_tensorflow
from msdrnn.updates import Trainer

tf = import_tensorflow()  # without Keras: only the tests that compare with Keras load it
RNG = np.random.default_rng(0)


def songs(n: int) -> np.ndarray:
    return RNG.standard_normal((n, 120, 25)).astype(np.float32)


def test_cell_matches_keras_simple_rnn_outputs_and_gradients():
    import keras

    model = BasicRNN(state_size=7, steps=5, readout=True, seed=1)
    w = model.weights
    w["b"].assign(RNG.standard_normal(7).astype(np.float32))  # a bias that is not zero
    keras_rnn = keras.layers.SimpleRNN(7)
    keras_rnn.build((None, 5, 25))
    keras_rnn.set_weights([w["W_x"].numpy(), w["W_h"].numpy(), w["b"].numpy()])
    x = tf.constant(songs(3)[:, :5])
    h0 = tf.constant(RNG.standard_normal((3, 7)).astype(np.float32))
    probe = tf.constant(RNG.standard_normal((3, 7)).astype(np.float32))

    def outputs_and_gradients(run, variables):
        with tf.GradientTape() as tape:
            tape.watch([x, h0])
            h = run()
            loss = tf.reduce_sum(h * probe)
        return h, tape.gradient(loss, [x, h0, *variables])

    def by_cell():
        h = h0
        for k in range(5):
            h = model.cell(x[:, k], h)
        return h

    ours = [w["W_x"], w["W_h"], w["b"]]
    expected = outputs_and_gradients(lambda: keras_rnn(x, initial_state=[h0]),
                                     [keras_rnn.cell.kernel, keras_rnn.cell.recurrent_kernel,
                                      keras_rnn.cell.bias])
    for run in (by_cell, lambda: model.run_part(x, h0), lambda: model.run_part_bptt(x, h0)):
        h, grads = outputs_and_gradients(run, ours)
        np.testing.assert_allclose(h, expected[0], rtol=1e-5, atol=1e-6)
        for got, want in zip(grads, expected[1], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("readout", [True, False])
def test_part_by_part_with_carry_equals_one_pass(readout):
    model = BasicRNN(state_size=10, steps=4, readout=readout, seed=2)
    x = songs(6)
    by_parts = model.song_logits(tf.constant(x)).numpy()
    one_pass = model.logits(model.run_part(tf.constant(x), tf.zeros((6, 10)))).numpy()
    numpy_pass = family("rnn").reference_logits(x, {k: v.numpy() for k, v in model.weights.items()})
    np.testing.assert_allclose(by_parts, one_pass, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(by_parts, numpy_pass, rtol=1e-4, atol=1e-5)


def test_loss_of_a_part_has_no_gradient_into_the_previous_part():
    model = BasicRNN(state_size=12, steps=6, readout=True, seed=3)
    x = tf.constant(songs(4))
    targets = tf.constant([0, 3, 5, 9], tf.int64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = tf.zeros((4, 12))
        for p in range(3):  # parts 0, 1, 2 with state carry, as in training
            loss, _, h = model.part_loss(x[:, 6 * p:6 * (p + 1)], h, targets)
    grad = tape.gradient(loss, x).numpy()
    assert np.abs(grad[:, 12:18]).max() > 0  # the last part's own inputs
    assert not grad[:, :12].any()  # nothing reaches parts 0 and 1


@pytest.mark.parametrize("groups", [1, 2, 3])
def test_training_step_is_truncated_bptt_with_one_adam_update_per_part(groups):
    """The compiled epoch equals a plain loop: autodiff per part, Keras Adam, state carry;
    also with the batch's songs in groups (3 groups of 10 songs: 3, 3 and 4)."""
    import keras

    model = BasicRNN(state_size=6, steps=30, readout=True, seed=4)
    twin = BasicRNN(state_size=6, steps=30, readout=True, seed=4)
    x, y = songs(20), RNG.integers(0, 10, 20)
    order = RNG.permutation(20)
    trainer = Trainer(model, batch_size=10, groups=groups)
    losses, hits = trainer.train_epoch(x, y, order)
    assert losses.shape == (2, 4) and hits.shape == (2,)

    optimizer = keras.optimizers.Adam(1e-3, epsilon=1e-8)
    variables = list(twin.weights.values())
    for b in range(2):
        xb, yb = x[order[10 * b:10 * (b + 1)]], tf.constant(y[order[10 * b:10 * (b + 1)]])
        h = tf.zeros((10, 6))
        for p in range(4):
            with tf.GradientTape() as tape:
                h_next = twin.run_part(tf.constant(xb[:, 30 * p:30 * (p + 1)]),
                                       tf.stop_gradient(h))
                logits = twin.logits(h_next)
                loss = tf.reduce_mean(cross_entropy(logits, yb))
            optimizer.apply(tape.gradient(loss, variables), variables)
            h = h_next
            np.testing.assert_allclose(losses[b, p], loss.numpy(), rtol=1e-5)
        # the metric counts the final part only, scored before its update
        assert hits[b] == np.sum(np.argmax(logits, 1) == yb.numpy())
    for name, var in model.weights.items():
        np.testing.assert_allclose(var.numpy(), twin.weights[name].numpy(), atol=2e-6)


@pytest.mark.parametrize("make", [lambda: BasicRNN(12, 10, True, 8), lambda: MLP(mlp(16, 1), 8)])
def test_per_batch_xla_step_repeats_its_bits(make):
    """Same weights, songs and order: the XLA step twice gives the same bits."""
    x, y = songs(45), RNG.integers(0, 10, 45)
    order = RNG.permutation(45)  # 45 songs, batch 20: two batches, the last 5 dropped
    results = []
    for _ in range(2):
        trainer = Trainer(make(), batch_size=20)
        losses, hits = trainer.train_epoch(x, y, order)
        losses_2, _ = trainer.train_epoch(x, y, order[::-1])
        results.append((losses, hits, losses_2, trainer.state()))
    first, again = results
    for got, want in zip(again[:3], first[:3], strict=True):
        np.testing.assert_array_equal(got, want)
    assert again[3].keys() == first[3].keys()
    for name in first[3]:
        np.testing.assert_array_equal(again[3][name], first[3][name])
    assert first[0].shape == (2, make().parts)


@pytest.mark.parametrize(("make", "kwargs"), [
    (lambda: MLP(mlp(4, 1), 0), {"groups": 2}),
    (lambda: BasicRNN(8, 4, True, 0), {"groups": 51}),
    (lambda: BasicRNN(8, 4, True, 0), {"groups": 0}),
])
def test_trainer_refuses_groups_it_cannot_run(make, kwargs):
    with pytest.raises(ValueError, match="groups"):
        Trainer(make(), **kwargs)


GROUPED_RUN = """
import hashlib, sys
import numpy as np
from msdrnn.models.rnn import BasicRNN
from msdrnn.updates import Trainer, set_threads
set_threads(int(sys.argv[1]), 2)  # 1: the groups one after the other, 2: side by side
rng = np.random.default_rng(0)
x, y = rng.standard_normal((40, 120, 25)).astype(np.float32), rng.integers(0, 10, 40)
trainer = Trainer(BasicRNN(48, 8, True, 3), batch_size=20, groups=2)
digest = hashlib.sha256(trainer.train_epoch(x, y, rng.permutation(40))[0].tobytes())
digest.update(trainer.logits(x).tobytes())
for name, value in sorted(trainer.state().items()):
    digest.update(value.tobytes())
print(digest.hexdigest())
"""


@pytest.mark.slow
def test_groups_give_the_same_bits_side_by_side_or_one_after_the_other():
    """One inter-op thread runs the groups one after the other, two run them side by side:
    each group is single-threaded and the sums are the same, so the bits are too."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": str(SCRIPTS)}
    digests = [subprocess.run([sys.executable, "-c", GROUPED_RUN, str(inter_op)], env=env,
                              capture_output=True, text=True, check=True).stdout
               for inter_op in (1, 2)]
    assert digests[0] == digests[1] and len(digests[0]) == 65


def test_grouped_step_repeats_its_bits_and_agrees_with_the_one_group_step():
    """Twice the same bits; the numbers of the one-group step up to rounding (its sums
    over the batch are split differently)."""
    x, y = songs(40), RNG.integers(0, 10, 40)
    order = RNG.permutation(40)
    results = []
    for groups in (2, 2, 1):
        trainer = Trainer(BasicRNN(24, 8, True, 3), batch_size=20, groups=groups)
        losses, _ = trainer.train_epoch(x, y, order)
        results.append((losses, trainer.logits(x), trainer.state()))
    (losses, logits, state), again, one_group = results
    np.testing.assert_array_equal(again[0], losses)
    np.testing.assert_array_equal(again[1], logits)
    for name in state:
        np.testing.assert_array_equal(again[2][name], state[name])
        np.testing.assert_allclose(one_group[2][name], state[name], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(one_group[0], losses, rtol=1e-5)
    np.testing.assert_allclose(one_group[1], logits, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "make"), [("rnn", lambda: BasicRNN(16, 8, True, 5)),
                                            ("mlp", lambda: MLP(mlp(32, 2, 0.3), 5))])
def test_evaluation_scores_the_final_output_like_the_numpy_reference(name, make):
    model = make()
    x, y = songs(30), RNG.integers(0, 10, 30)
    loss, acc = Trainer(model, eval_chunk=7).evaluate(x, y)
    weights = {k: v.numpy() for k, v in model.weights.items()}
    logits = family(name).reference_logits(x, weights)
    assert loss == pytest.approx(reference.cross_entropy(logits, y), rel=1e-5)
    assert acc == reference.accuracy(logits, y)


def mlp(width: int, depth: int, dropout: float = 0.0) -> dict:
    """The feedforward network's hyperparameters."""
    return {"width": width, "depth": depth, "dropout": dropout}


def test_mlp_logits_match_the_numpy_reference():
    model = MLP(mlp(20, 2, 0.5), seed=6)
    x = songs(5)
    np.testing.assert_allclose(
        model.song_logits(tf.constant(x)).numpy(),
        family("mlp").reference_logits(x, {k: v.numpy() for k, v in model.weights.items()}),
        rtol=1e-4, atol=1e-5)


def test_mlp_dropout_is_a_function_of_the_seed_and_the_update():
    """Dropout masks come from (seed, Adam step): two trainers of the same seed make the
    same updates bit for bit; another seed, or no dropout, makes others; rate 0 is the
    plain network (evaluation never drops)."""
    x, y = songs(40), RNG.integers(0, 10, 40)
    order = np.arange(40)
    initial = {name: var.numpy() for name, var in MLP(mlp(24, 2), 0).weights.items()}

    def trained(trainer: Trainer, seed: int) -> dict:
        """An epoch from the model's seed-0 weights with dropout seed ``seed``; a trainer
        used again is reset, which computes what a new one does (tests/test_seeds.py)."""
        trainer.reset(initial, seed)
        trainer.train_epoch(x, y, order)
        return trainer.state()

    first, second, plain = (Trainer(MLP(mlp(24, 2, rate), 0), batch_size=20)
                            for rate in (0.4, 0.4, 0.0))
    same, again = trained(first, 1), trained(second, 1)
    for name in same:
        np.testing.assert_array_equal(same[name], again[name])
    assert not np.array_equal(trained(second, 2)["W_0"], same["W_0"])
    plain_1 = trained(plain, 1)["W_0"]
    assert not np.array_equal(plain_1, same["W_0"])
    np.testing.assert_array_equal(plain_1, trained(plain, 2)["W_0"])


@pytest.mark.slow
def test_rnn_beats_a_model_blind_to_order_on_the_synthetic_data(tmp_path):
    """Same RNN, same songs, segments shuffled within each song: order is what it learns."""
    import keras

    ordered = synthetic_dataset(tmp_path / "ordered", per_genre=100, order_only=True)
    shuffled = shuffled_segments(ordered, tmp_path / "shuffled.h5")
    best = {}
    for name, path in (("ordered", ordered), ("shuffled", shuffled)):
        train, valid = load_split(path, "train"), load_split(path, "valid")
        keras.utils.set_random_seed(0)
        trainer = Trainer(BasicRNN(state_size=32, steps=4, readout=True, seed=0))
        accuracies = []
        for epoch in range(12):
            trainer.train_epoch(train.inputs, train.targets,
                                np.random.default_rng([0, epoch]).permutation(train.size))
            accuracies.append(trainer.evaluate(valid.inputs, valid.targets)[1])
        best[name] = max(accuracies)
    assert best["ordered"] > best["shuffled"] + 0.1, best


def test_shuffled_segments_keep_the_bag_of_segments(tmp_path):
    """The order-free copy the order test trains on moves segments within songs only."""
    data = random_dataset(tmp_path / "d.h5", train=5, valid=5)
    shuffled = shuffled_segments(data, tmp_path / "s.h5")
    a, b = load_split(data, "train"), load_split(shuffled, "train")
    assert not np.array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(np.sort(a.inputs, axis=1), np.sort(b.inputs, axis=1))
    np.testing.assert_array_equal(a.targets, b.targets)
