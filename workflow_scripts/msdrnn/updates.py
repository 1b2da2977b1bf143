"""Per-batch updates of the model families of ``msdrnn.models``: the compiled ``Trainer``.

``Trainer.train_epoch`` runs each batch, all its parts and all their Adam updates, as one
call of an XLA-compiled function, because the per-call overhead, not the arithmetic, is
what dominates small truncated-BPTT parts on CPU (the original study's one session call
per part was slow for that reason). With ``groups`` > 1 it splits each batch's songs into
groups trained side by side, one thread each. ``Trainer.evaluate`` is the forward pass
over whole songs, scored on the final output. ``set_threads`` gives TensorFlow the
threads a trainer with that many groups needs. The epoch loop, checkpoints and outputs
are ``msdrnn.training``'s.
"""

from __future__ import annotations

import numpy as np

from msdrnn.adam import Adam
from msdrnn.models.layers import correct, cross_entropy
from msdrnn.study import FEATURES, SEGMENTS
from msdrnn.tensorflow_setup import import_tensorflow

tf = import_tensorflow()  # without Keras when it is the first import (tensorflow_setup)


def set_threads(threads: int, groups: int = 1) -> None:
    """Give TensorFlow ``threads`` threads, before it runs its first op.

    One group, one computation at a time, each product split over ``threads`` intra-op
    threads. Several (``Trainer(groups=threads)``), the groups of a batch run side by side on
    ``threads`` inter-op threads, each single-threaded: the batch's small products, which
    gain little from a second intra-op thread, then keep both cores busy.
    """
    several = groups > 1
    tf.config.threading.set_intra_op_parallelism_threads(1 if several else threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads if several else min(2, threads))


def compiled(function, **options):
    """``tf.function(function, **options)`` without AutoGraph.

    The models write their loops as ``tf.while_loop`` and their branches in Python (on
    shapes and hyperparameters), so AutoGraph would only rewrite and re-import their
    source: about 0.6-0.8 s of every job's first epoch (``perf/bench_overhead.py``).
    """
    return tf.function(function, autograph=False, **options)


class Trainer:
    """Compiled training and evaluation for a model; holds the optimizer.

    ``train_epoch`` visits the songs in the given order (the epoch's shuffle). Every batch,
    all its parts (forward, the written-out backward, one Adam update each), is one call of
    a function compiled with XLA for the batch's fixed shape, and a Python loop walks the
    batches: that measured fastest on CPU (``perf/bench_train.py``; compiling a loop over
    several batches was several times slower) and is what an accelerator needs too, one
    compiled program per batch and no CPU-only ops. The songs of a batch are gathered in
    shuffled order in NumPy, so the training set is never copied whole.

    ``groups`` > 1 (the RNN only) is data parallelism inside a batch: its songs are split
    into that many groups, and every part is one XLA-compiled forward and backward call per
    group, run side by side by TensorFlow's executor (give it ``set_threads(threads,
    groups)``); the groups' summed gradients make the part's one Adam update, as for the
    whole batch. The sums are split differently, so the numbers differ from the one-group
    step's in the last bits; they do not depend on whether the groups really ran side by
    side. ``evaluate`` splits its chunks the same way.

    ``evaluate`` scores whole songs in chunks of ``eval_chunk`` with a plain TensorFlow
    graph: compiling the forward pass with XLA measured no faster on CPU.

    A model whose ``jit_compile`` is False (the convolutional network) has its batch run
    as one call of a plain graph instead: a step of a few large operations gains nothing
    from XLA, and TensorFlow's own kernels for them can be faster (``msdrnn.models.cnn``).

    ``reset`` starts the same computation again under another seed in the same variables,
    so that a job's later seeds reuse the compiled functions (``msdrnn.training.Session``).
    """

    def __init__(self, model, learning_rate: float = 1e-3, batch_size: int = 50,
                 eval_chunk: int = 1000, groups: int = 1, seed: int = 0):
        if groups < 1 or groups > batch_size:
            raise ValueError(f"groups must be between 1 and the batch size; got {groups}")
        if groups > 1 and not hasattr(model, "part_gradients"):
            raise ValueError("groups > 1 needs a model with part_gradients (the RNN)")
        self.model = model
        # A variable, not a Python number: the compiled step reads it, so that ``reset``
        # to another seed reuses the step instead of tracing and compiling it again.
        self.seed = tf.Variable(seed, dtype=tf.int64, trainable=False, name="noise_seed")
        self.batch_size = batch_size
        self.eval_chunk = eval_chunk
        self.groups = groups
        self.optimizer = Adam(list(model.weights.values()), learning_rate)
        songs = tf.TensorSpec([None, SEGMENTS, FEATURES], tf.float32)
        batch_songs = tf.TensorSpec([batch_size, SEGMENTS, FEATURES], tf.float32)
        batch_labels = tf.TensorSpec([batch_size], tf.int64)
        if groups > 1:
            self._group_part = compiled(model.part_gradients, jit_compile=True)
            self._train_step = compiled(self._grouped_batch,
                                        input_signature=[batch_songs, batch_labels])
        else:
            self._train_step = compiled(self._one_batch,
                                        jit_compile=getattr(model, "jit_compile", True),
                                        input_signature=[batch_songs, batch_labels])
        self._logits = compiled(self._grouped_logits if groups > 1 else model.song_logits,
                                jit_compile=False, input_signature=[songs])

    def _one_batch(self, songs: tf.Tensor, targets: tf.Tensor):
        """Train on one batch: its per-part losses and the final part's hits."""
        part_losses, _, n_correct = self.model.train_batch(songs, targets, self.optimizer,
                                                           self.noise_seed())
        return part_losses, n_correct

    def noise_seed(self) -> tf.Tensor:
        """The stateless seed of the batch's random numbers (dropout masks): the run's seed
        and the number of Adam updates made so far, so that every batch of every epoch
        draws its own masks, and a resumed run (whose checkpoint holds the update count)
        draws the same ones. Both are variables, read when the step runs."""
        return tf.stack([self.seed, self.optimizer.step])

    def _grouped_batch(self, songs: tf.Tensor, targets: tf.Tensor):
        """``_one_batch`` with the songs in ``groups`` groups, each part's side by side."""
        model, size = self.model, self.batch_size
        spans = self._spans(size)
        parts = tf.reshape(songs, [size, model.parts, model.steps, FEATURES])
        group_parts = [parts[a:b] for a, b in spans]
        group_targets = [targets[a:b] for a, b in spans]

        def part(p, states, logits, part_losses):
            weights = [var.read_value() for var in self.optimizer.variables]
            results = [self._group_part(group_parts[g][:, p], states[g], group_targets[g],
                                        weights)
                       for g in range(self.groups)]
            gradients = [tf.add_n([grads[i] for *_, grads in results]) / size
                         for i in range(len(weights))]
            self.optimizer.apply(gradients)
            loss = tf.add_n([loss for loss, *_ in results]) / size
            return (p + 1, [h for _, _, h, _ in results],
                    [logits for _, logits, _, _ in results], part_losses.write(p, loss))

        start = (tf.constant(0), [tf.zeros([b - a, model.state_size]) for a, b in spans],
                 [tf.zeros([b - a, model.classes]) for a, b in spans],
                 tf.TensorArray(tf.float32, size=model.parts))
        _, _, logits, part_losses = tf.while_loop(lambda p, *_: p < model.parts, part, start,
                                                  maximum_iterations=model.parts)
        return part_losses.stack(), correct(tf.concat(logits, axis=0), targets)

    def _grouped_logits(self, songs: tf.Tensor) -> tf.Tensor:
        """``song_logits`` of ``groups`` groups of the songs, side by side."""
        return tf.concat([self.model.song_logits(songs[a:b])
                          for a, b in self._spans(tf.shape(songs)[0])], axis=0)

    def _spans(self, n: int | tf.Tensor) -> list[tuple]:
        """(first, end) of each of ``groups`` near-equal consecutive groups of ``n`` songs."""
        bounds = [n * i // self.groups for i in range(self.groups + 1)]
        return list(zip(bounds[:-1], bounds[1:], strict=True))

    def train_epoch(self, inputs: np.ndarray, targets: np.ndarray,
                    order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Train on ``len(order) // batch_size`` batches; the last incomplete one is dropped.

        Returns the loss of every part of every batch (batches, parts) and the number of
        correct songs of every batch on its final part (batches,).
        """
        inputs, targets = np.asarray(inputs), np.asarray(targets, np.int64)
        batches = len(order) // self.batch_size
        losses, hits = [], []
        for first in range(0, batches * self.batch_size, self.batch_size):
            index = order[first:first + self.batch_size]
            part_losses, n_correct = self._train_step(inputs[index], targets[index])
            losses.append(part_losses.numpy())
            hits.append(n_correct.numpy())
        if not losses:
            return np.zeros((0, self.model.parts), np.float32), np.zeros(0)
        return np.stack(losses), np.array(hits, np.float32)

    def logits(self, inputs: np.ndarray | tf.Tensor) -> np.ndarray:
        """Final-output logits of whole songs, in chunks of ``eval_chunk`` songs."""
        n = int(inputs.shape[0])
        chunks = [self._logits(np.asarray(inputs[i:i + self.eval_chunk], np.float32)).numpy()
                  for i in range(0, n, self.eval_chunk)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.model.classes), np.float32)

    def evaluate(self, inputs: np.ndarray | tf.Tensor, targets: np.ndarray) -> tuple[float, float]:
        """Mean cross-entropy and accuracy (fraction) on the final output of whole songs."""
        logits = self.logits(inputs)
        loss = cross_entropy(tf.constant(logits), tf.constant(targets, tf.int64)).numpy()
        return float(np.mean(loss)), float(np.mean(np.argmax(logits, axis=1) == targets))

    def state(self) -> dict[str, np.ndarray]:
        """Weights and optimizer state as NumPy arrays."""
        state = {name: var.numpy() for name, var in self.model.weights.items()}
        state.update(self.optimizer.state())
        return state

    def restore(self, state: dict[str, np.ndarray]) -> None:
        for name, var in self.model.weights.items():
            var.assign(state[name])
        self.optimizer.restore(state)

    def reset(self, weights: dict[str, np.ndarray], seed: int) -> None:
        """Start the same computation again under another seed: initial ``weights`` (the
        family's ``build`` for that seed), a new optimizer's state and the seed of the
        dropout masks, in the variables the compiled functions already read. A run from
        here computes what a new ``Trainer`` of a new model of that seed computes, bit for
        bit, without tracing or compiling anything again."""
        if set(weights) != set(self.model.weights):
            raise ValueError(f"weights {sorted(weights)} are not the model's "
                             f"{sorted(self.model.weights)}")
        for name, var in self.model.weights.items():
            var.assign(weights[name])
        self.optimizer.reset()
        self.seed.assign(seed)
