"""The study's basic RNN, trained with truncated back-propagation through time.

Reading order:

1. ``HPARAMS`` and ``check``: a run is a state size, a number of ``steps`` per part (a
   divisor of the 120 segments) and whether a linear readout maps the state to the classes
   (without one, the state itself is the class scores, so its size is the class count).
2. ``BasicRNN``: weights ``W_x`` (25, S), ``W_h`` (S, S), ``b`` (S,) and, with a readout,
   ``W_out`` (S, 10), ``b_out`` (10,). The cell is ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.
3. ``BasicRNN.train_batch``: a batch of songs cut into ``parts = 120 // steps`` parts; the
   state starts at zero, is carried from part to part as a constant (no gradient crosses
   parts), and every part makes one Adam update against the song's label. The backward
   pass of a part is written out (``run_part_bptt``) so that its weight gradients are
   single large products.
4. ``BasicRNN.song_logits``: the forward pass over whole songs, scored on the final output;
   ``reference_logits`` is the same in NumPy, from a weights file.
5. ``flops_per_song`` and ``memory_terms``: what the job sizing reads.

Weights are ``tf.Variable`` s named as in ``weights.npz``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from msdrnn.models.layers import correct, cross_entropy, glorot_uniform, tf
from msdrnn.study import CLASSES, FEATURES, SEGMENTS, readout_error, steps_error

if TYPE_CHECKING:
    from msdrnn.adam import Adam

HPARAMS = {"state_size": int, "steps": int, "readout": bool}
DEFAULTS = {"state_size": 341, "steps": 4, "readout": True}  # the original study's best
GROUPED_FROM_STATE_SIZE = 100  # RNNs this large train in groups of songs on several threads


def check(hparams: dict, classes: int = CLASSES) -> str | None:
    """Why these values cannot run, or None: steps must divide the segments, the state
    size be positive, and equal the class count without a readout."""
    if hparams["state_size"] < 1:
        return f"state size must be at least 1; got {hparams['state_size']}"
    return steps_error(hparams["steps"]) or readout_error(hparams["state_size"],
                                                          hparams["readout"], classes)


def groups(hparams: dict, threads: int) -> int:
    """Groups of a batch's songs trained side by side, one per thread (``Trainer``).

    On several threads, an RNN of state size 100 or more trains one group per thread: its
    (25 x S) @ (S x S) products on one thread each beat its (50 x S) @ (S x S) products
    split over the threads, which TensorFlow hardly parallelises below state 500 (and at
    500 the two measured even). Smaller states pay more for the groups' synchronisation
    than they gain (``perf/bench_train.py --cases``).
    """
    return threads if hparams["state_size"] >= GROUPED_FROM_STATE_SIZE else 1


def build(hparams: dict, seed: int, classes: int = CLASSES) -> BasicRNN:
    """The RNN of ``hparams``, weights drawn from ``seed``."""
    return BasicRNN(hparams["state_size"], hparams["steps"], hparams["readout"], seed, classes)


def _states(x_proj: tf.Tensor, h: tf.Tensor, W_h: tf.Tensor, keep: bool) -> tf.Tensor:
    """``h_k = tanh(x_proj[:, k] + h_{k-1} W_h)`` over the steps of a part (B, steps, S).

    A ``tf.while_loop``, so that XLA compiles one step whatever the number of steps (an
    unrolled Python loop made the first epoch at steps 60 cost seconds of compilation).
    Returns every state (steps, B, S) when ``keep``, else the final state (B, S).
    """
    steps = x_proj.shape[1]
    inputs = tf.transpose(x_proj, [1, 0, 2])  # (steps, B, S): step k is inputs[k]
    start = tf.constant(0)
    if not keep:
        _, h = tf.while_loop(lambda k, h: k < steps,
                             lambda k, h: (k + 1, tf.tanh(inputs[k] + h @ W_h)),
                             (start, h), maximum_iterations=steps)
        return h

    def step(k, h, kept):
        h = tf.tanh(inputs[k] + h @ W_h)
        return k + 1, h, kept.write(k, h)

    kept = tf.TensorArray(x_proj.dtype, size=steps)
    _, _, kept = tf.while_loop(lambda k, *_: k < steps, step, (start, h, kept),
                               maximum_iterations=steps)
    return kept.stack()


def _state_gradients(states: tf.Tensor, dh: tf.Tensor, W_h: tf.Tensor
                     ) -> tuple[tf.Tensor, tf.Tensor]:
    """The pre-activation gradients ``dz_k`` (steps, B, S) of a part, walking back from the
    final state's gradient ``dh`` (``dz_k = dh_k (1 - h_k^2)``, ``dh_{k-1} = dz_k W_h^T``),
    and the gradient reaching the part's initial state; a loop, as in ``_states``."""
    steps = states.shape[0]
    dz = tf.TensorArray(states.dtype, size=steps)

    def step(k, dh, dz):
        dz_k = dh * (1.0 - tf.square(states[k]))  # through the tanh
        return k - 1, tf.matmul(dz_k, W_h, transpose_b=True), dz.write(k, dz_k)

    _, dh, dz = tf.while_loop(lambda k, *_: k >= 0, step, (tf.constant(steps - 1), dh, dz),
                              maximum_iterations=steps)
    return dz.stack(), dh


# Parts of at most this many steps put their per-step gradients and states in song-major
# order (B, steps, S) by stacking the steps, as the unrolled loop did: XLA then sums dW and
# db in the same order as before the loop, so those runs keep their bits. The stack's
# compilation grows with the steps (steps 60: about 11 s more than steps 2 on a loaded
# 2-core machine), so longer parts transpose instead, which changes the last bits
# (docs/performance.md).
STACKED_UP_TO = 10


def _batch_major(dz: tf.Tensor, h_in: tf.Tensor, states: tf.Tensor
                 ) -> tuple[tf.Tensor, tf.Tensor]:
    """``dz`` (steps, B, S) and the states entering each step, ``h_in`` then ``states[:-1]``,
    both as (B, steps, S)."""
    if states.shape[0] <= STACKED_UP_TO:
        return (tf.stack(tf.unstack(dz), axis=1),
                tf.stack([h_in, *tf.unstack(states)[:-1]], axis=1))
    previous = tf.concat([h_in[None], states[:-1]], axis=0)
    return tf.transpose(dz, [1, 0, 2]), tf.transpose(previous, [1, 0, 2])


class BasicRNN:
    """The study's basic RNN: one tanh cell shared by all steps, optional linear readout."""

    def __init__(self, state_size: int, steps: int, readout: bool, seed: int,
                 classes: int = CLASSES):
        self.hparams = {"state_size": state_size, "steps": steps, "readout": readout}
        problem = check(self.hparams, classes)
        if problem:
            raise ValueError(problem)
        self.state_size, self.steps, self.readout = state_size, steps, readout
        self.classes = classes
        self.parts = SEGMENTS // steps
        rng = np.random.default_rng([seed, 1])
        # The original multiplies [x_t, h_{t-1}] by one (25 + S, S) matrix: initialise it whole.
        w = glorot_uniform(rng, FEATURES + state_size, state_size)
        init = {"W_x": w[:FEATURES], "W_h": w[FEATURES:],
                "b": np.zeros(state_size, np.float32)}
        if readout:
            init["W_out"] = glorot_uniform(rng, state_size, classes)
            init["b_out"] = np.zeros(classes, np.float32)
        self.weights = {name: tf.Variable(value, name=name) for name, value in init.items()}

    def cell(self, x_t: tf.Tensor, h: tf.Tensor) -> tf.Tensor:
        """One step: ``tanh(x_t W_x + h W_h + b)``."""
        w = self.weights
        return tf.tanh(x_t @ w["W_x"] + h @ w["W_h"] + w["b"])

    def run_part(self, x_part: tf.Tensor, h: tf.Tensor) -> tf.Tensor:
        """Run the cell over a part (B, steps, 25) from state ``h``; return the final state.

        Same arithmetic as ``cell`` step by step, with the input projection of all steps of
        the part done as one matrix product; the steps are a loop (``_states``).
        """
        w = self.weights
        x_proj = tf.einsum("bkf,fs->bks", x_part, w["W_x"]) + w["b"]
        return _states(x_proj, h, w["W_h"], keep=False)

    def run_part_bptt(self, x_part: tf.Tensor, h: tf.Tensor) -> tf.Tensor:
        """``run_part`` with its backward pass written out; what training runs.

        The backward pass walks the steps of the part in reverse for ``dh``, then forms the
        weight gradients as one matrix product over all the part's steps and songs, instead
        of one small product per step as automatic differentiation does. Tested equal to
        automatic differentiation of ``run_part``. (Gradients nobody asks for, such as those
        of the inputs during training, are pruned from the compiled graph.)
        """
        return self._part_bptt(x_part, h, {name: var.value() for name, var in self.weights.items()})

    def _part_bptt(self, x_part: tf.Tensor, h: tf.Tensor, w: dict) -> tf.Tensor:
        """``run_part_bptt`` on the weight values ``w``."""
        state_size = self.state_size

        @tf.custom_gradient
        def part(x_part, h_in, W_x, W_h, b):
            x_proj = tf.einsum("bkf,fs->bks", x_part, W_x) + b
            states = _states(x_proj, h_in, W_h, keep=True)  # (steps, B, S)

            def backward(dh):
                dz, dh = _state_gradients(states, dh, W_h)
                dz, previous = _batch_major(dz, h_in, states)
                flat_dz = tf.reshape(dz, [-1, state_size])
                previous = tf.reshape(previous, [-1, state_size])
                dW_h = tf.matmul(previous, flat_dz, transpose_a=True)
                dW_x = tf.matmul(tf.reshape(x_part, [-1, FEATURES]), flat_dz, transpose_a=True)
                dx = tf.einsum("bks,fs->bkf", dz, W_x)
                return dx, dh, dW_x, dW_h, tf.reduce_sum(flat_dz, axis=0)

            return states[-1], backward

        return part(x_part, h, w["W_x"], w["W_h"], w["b"])

    def part_gradients(self, x_part: tf.Tensor, h: tf.Tensor, targets: tf.Tensor,
                       weights: list[tf.Tensor]):
        """One part of a group of songs, from weight values instead of the variables.

        Returns the part's summed (not mean) loss, its logits, final state and the
        gradients of that sum with respect to ``weights`` (in ``self.weights`` order), so
        that the gradients of several groups of a batch add up to the batch's.
        """
        values = dict(zip(self.weights, weights, strict=True))
        with tf.GradientTape() as tape:
            tape.watch(weights)
            h = self._part_bptt(x_part, tf.stop_gradient(h), values)
            logits = self._readout(h, values)
            loss = tf.reduce_sum(cross_entropy(logits, targets))
        return loss, logits, h, tape.gradient(loss, weights)

    def part_loss(self, x_part: tf.Tensor, h: tf.Tensor, targets: tf.Tensor):
        """Loss, logits and final state of one part started from the carried state ``h``.

        ``h`` enters as a constant: this is the truncation, no gradient reaches earlier parts.
        """
        h = self.run_part_bptt(x_part, tf.stop_gradient(h))
        logits = self.logits(h)
        return tf.reduce_mean(cross_entropy(logits, targets)), logits, h

    def logits(self, h: tf.Tensor) -> tf.Tensor:
        """Class scores from a state: the readout, or the state itself (state size 10)."""
        return self._readout(h, self.weights)

    def _readout(self, h: tf.Tensor, w: dict) -> tf.Tensor:
        if self.readout:
            return h @ w["W_out"] + w["b_out"]
        return h

    def song_logits(self, songs: tf.Tensor) -> tf.Tensor:
        """Logits of whole songs (N, 120, 25): all parts with state carry, final output."""
        parts = tf.reshape(songs, [-1, self.parts, self.steps, FEATURES])
        h = tf.zeros([tf.shape(songs)[0], self.state_size])
        _, h = tf.while_loop(lambda p, h: p < self.parts,
                             lambda p, h: (p + 1, self.run_part(parts[:, p], h)),
                             (tf.constant(0), h), maximum_iterations=self.parts)
        return self.logits(h)

    def train_batch(self, songs: tf.Tensor, targets: tf.Tensor, optimizer: Adam,
                    noise_seed: tf.Tensor | None = None):
        """Truncated BPTT on one batch: one update per part, the state carried without gradient.

        Returns the loss of every part (parts,) and, for the final part, the mean loss and
        the number of correct songs. Each part's loss and carried state come from the
        weights before that part's update, as in the original study's single session call per part.
        ``noise_seed`` is unused: the RNN draws no random numbers while training.
        """
        variables = optimizer.variables
        parts = tf.reshape(songs, [-1, self.parts, self.steps, FEATURES])

        def part(p, h, logits, part_losses):
            with tf.GradientTape() as tape:
                loss, logits, h = self.part_loss(parts[:, p], h, targets)
            optimizer.apply(tape.gradient(loss, variables))
            return p + 1, h, logits, part_losses.write(p, loss)

        start = (tf.constant(0), tf.zeros([tf.shape(songs)[0], self.state_size]),
                 tf.zeros([tf.shape(songs)[0], self.classes]),
                 tf.TensorArray(tf.float32, size=self.parts))
        _, h, logits, part_losses = tf.while_loop(lambda p, *_: p < self.parts, part, start,
                                                  maximum_iterations=self.parts)
        part_losses = part_losses.stack()
        return part_losses, part_losses[-1], correct(logits, targets)

    def flops_per_song(self) -> dict[str, float]:
        """Matrix-product FLOPs of one song, as computed: forward, and training."""
        return flops_per_song(self.hparams, self.classes)


def reference_logits(inputs: np.ndarray, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """Final-output logits (N, classes) of the basic RNN on songs (N, 120, 25), in NumPy.

    ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)`` from a zero state over all 120 segments (the
    forward pass does not depend on how training cut songs into parts); then
    ``h W_out + b_out`` with a readout, or the state itself without.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    if inputs.ndim != 3:
        raise ValueError(f"inputs must be (N, segments, features); got shape {inputs.shape}")
    W_x, W_h, b = (np.asarray(weights[k], np.float32) for k in ("W_x", "W_h", "b"))
    h = np.zeros((inputs.shape[0], W_h.shape[0]), np.float32)
    for t in range(inputs.shape[1]):
        h = np.tanh(inputs[:, t] @ W_x + h @ W_h + b)
    if "W_out" in weights:
        return h @ np.asarray(weights["W_out"], np.float32) + np.asarray(weights["b_out"],
                                                                        np.float32)
    return h


def flops_per_song(hparams: dict, classes: int = CLASSES) -> dict[str, float]:
    """Matrix-product FLOPs of one song through the RNN: forward (validation) and training.

    Per segment the input and state products; for training also their weight gradients and
    the state gradient ``dh`` through ``W_h`` (none before the first step of a part); per
    part the readout, forward and both of its gradients.
    """
    s = hparams["state_size"]
    parts = SEGMENTS // hparams["steps"]
    step = 2 * (FEATURES * s + s * s)
    out = 2 * s * classes if hparams["readout"] else 0
    forward = SEGMENTS * step + out
    train = SEGMENTS * 2 * step + (SEGMENTS - parts) * 2 * s * s + parts * 3 * out
    return {"forward": float(forward), "train": float(train)}


def memory_terms(hparams: dict) -> dict[str, float]:
    """What a training job's peak memory grows with beyond its data: the state size and
    the steps of a part (the compiled graph grows with them)."""
    return {"state": float(hparams["state_size"]), "step": float(hparams["steps"])}
