"""The study's basic RNN, trained with truncated back-propagation through time, and the MLP.

Reading order, as in SPEC section 1:

1. ``BasicRNN``: weights ``W_x`` (25, S), ``W_h`` (S, S), ``b`` (S,) and, with a readout,
   ``W_out`` (S, 10), ``b_out`` (10,). The cell is ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.
2. ``BasicRNN.train_batch``: a batch of songs cut into ``parts = 120 // steps`` parts; the
   state starts at zero, is carried from part to part as a constant (no gradient crosses
   parts), and every part makes one Adam update against the song's label.
3. ``Trainer.train_epoch``: many batches, all their parts and all their updates, in one
   compiled TensorFlow graph call. The seed ran one small session call per part; that
   Python loop, not the arithmetic, is what made it slow. The backward pass of a part is
   written out (``run_part_bptt``) so that its weight gradients are single large products.
4. ``Trainer.evaluate``: the forward pass over whole songs, scored on the final output.

``MLP`` is the feedforward baseline on the flat 3000 inputs, trained by the same ``Trainer``
(one update per batch). Weights are ``tf.Variable`` s named as in ``weights.npz``, so
``reference.py`` recomputes the logits with NumPy alone.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

CLASSES = 10
SEGMENTS = 120
FEATURES = 25


def glorot_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    """Glorot/Xavier uniform matrix, the default initialiser of the seed's ``get_variable``."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def cross_entropy(logits: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Softmax cross-entropy per song, ``logsumexp(logits) - logits[target]``.

    Written with elementwise ops and reductions only, which are deterministic on every
    device under ``enable_op_determinism`` (the fused sparse kernels are not on all GPUs).
    """
    picked = tf.reduce_sum(tf.one_hot(targets, tf.shape(logits)[-1]) * logits, axis=-1)
    return tf.reduce_logsumexp(logits, axis=-1) - picked


def correct(logits: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Number of songs whose largest logit is their label."""
    hits = tf.equal(tf.argmax(logits, axis=-1, output_type=targets.dtype), targets)
    return tf.reduce_sum(tf.cast(hits, tf.float32))


class Adam:
    """Adam (Kingma & Ba) on a list of variables, as ``tf.train.AdamOptimizer`` and Keras do it.

    Written out so that its whole state (``m``, ``v``, ``step``) is plain variables that
    run inside the compiled epoch and are saved and restored bit for bit by the checkpoint.
    ``epsilon`` 1e-8 is the default of the TensorFlow the seed used.
    """

    def __init__(self, variables: list[tf.Variable], learning_rate: float = 1e-3,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8):
        self.variables = variables
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="adam_step")
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False, name=f"m_{v.name}")
                  for v in variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False, name=f"v_{v.name}")
                  for v in variables]

    def apply(self, gradients: list[tf.Tensor]) -> None:
        """One update of every variable."""
        self.step.assign_add(1)
        t = tf.cast(self.step, tf.float32)
        beta1_power, beta2_power = self.beta_1**t, self.beta_2**t
        for var, m, v, g in zip(self.variables, self.m, self.v, gradients, strict=True):
            # m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2); var -= alpha m / (sqrt v + eps)
            # as one fused kernel, the one tf.train.AdamOptimizer runs.
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle, m=m.handle, v=v.handle, beta1_power=beta1_power,
                beta2_power=beta2_power, lr=self.learning_rate, beta1=self.beta_1,
                beta2=self.beta_2, epsilon=self.epsilon, grad=g)

    def state(self) -> dict[str, np.ndarray]:
        """The optimizer state as NumPy arrays, for the checkpoint."""
        state = {"adam_step": np.array(self.step.numpy())}
        for var, m, v in zip(self.variables, self.m, self.v, strict=True):
            state[f"adam_m/{var.name}"] = m.numpy()
            state[f"adam_v/{var.name}"] = v.numpy()
        return state

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self.step.assign(int(state["adam_step"]))
        for var, m, v in zip(self.variables, self.m, self.v, strict=True):
            m.assign(state[f"adam_m/{var.name}"])
            v.assign(state[f"adam_v/{var.name}"])


class BasicRNN:
    """The seed's basic RNN: one tanh cell shared by all steps, optional linear readout."""

    kind = "rnn"

    def __init__(self, state_size: int, steps: int, readout: bool, seed: int,
                 classes: int = CLASSES):
        if steps < 1 or SEGMENTS % steps:
            raise ValueError(f"steps={steps} does not divide the {SEGMENTS} segments")
        if state_size < 1:
            raise ValueError(f"state size must be positive; got {state_size}")
        if not readout and state_size != classes:
            raise ValueError(f"without a readout the state size must equal the number of "
                             f"classes ({classes}); got {state_size}")
        self.state_size, self.steps, self.readout = state_size, steps, readout
        self.classes = classes
        self.parts = SEGMENTS // steps
        rng = np.random.default_rng([seed, 1])
        # The seed multiplies [x_t, h_{t-1}] by one (25 + S, S) matrix: initialise it whole.
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
        the part done as one matrix product.
        """
        w = self.weights
        x_proj = tf.einsum("bkf,fs->bks", x_part, w["W_x"]) + w["b"]
        for k in range(x_part.shape[1]):
            h = tf.tanh(x_proj[:, k] + h @ w["W_h"])
        return h

    def run_part_bptt(self, x_part: tf.Tensor, h: tf.Tensor) -> tf.Tensor:
        """``run_part`` with its backward pass written out; what training runs.

        The backward pass walks the steps of the part in reverse for ``dh``, then forms the
        weight gradients as one matrix product over all the part's steps and songs, instead
        of one small product per step as automatic differentiation does. Tested equal to
        automatic differentiation of ``run_part``. (Gradients nobody asks for, such as those
        of the inputs during training, are pruned from the compiled graph.)
        """
        steps, state_size = x_part.shape[1], self.state_size
        w = self.weights

        @tf.custom_gradient
        def part(x_part, h_in, W_x, W_h, b):
            x_proj = tf.einsum("bkf,fs->bks", x_part, W_x) + b
            states = []
            h = h_in
            for k in range(steps):
                h = tf.tanh(x_proj[:, k] + h @ W_h)
                states.append(h)

            def backward(dh):
                dz = [None] * steps
                for k in reversed(range(steps)):
                    dz[k] = dh * (1.0 - tf.square(states[k]))  # through the tanh
                    dh = tf.matmul(dz[k], W_h, transpose_b=True)  # into h_{k-1}
                dz = tf.stack(dz, axis=1)  # (B, steps, S)
                flat_dz = tf.reshape(dz, [-1, state_size])
                previous = tf.reshape(tf.stack([h_in, *states[:-1]], axis=1), [-1, state_size])
                dW_h = tf.matmul(previous, flat_dz, transpose_a=True)
                dW_x = tf.matmul(tf.reshape(x_part, [-1, FEATURES]), flat_dz, transpose_a=True)
                dx = tf.einsum("bks,fs->bkf", dz, W_x)
                return dx, dh, dW_x, dW_h, tf.reduce_sum(flat_dz, axis=0)

            return h, backward

        return part(x_part, h, w["W_x"].value(), w["W_h"].value(), w["b"].value())

    def part_loss(self, x_part: tf.Tensor, h: tf.Tensor, targets: tf.Tensor):
        """Loss, logits and final state of one part started from the carried state ``h``.

        ``h`` enters as a constant: this is the truncation, no gradient reaches earlier parts.
        """
        h = self.run_part_bptt(x_part, tf.stop_gradient(h))
        logits = self.logits(h)
        return tf.reduce_mean(cross_entropy(logits, targets)), logits, h

    def logits(self, h: tf.Tensor) -> tf.Tensor:
        """Class scores from a state: the readout, or the state itself (state size 10)."""
        if self.readout:
            return h @ self.weights["W_out"] + self.weights["b_out"]
        return h

    def song_logits(self, songs: tf.Tensor) -> tf.Tensor:
        """Logits of whole songs (N, 120, 25): all parts with state carry, final output."""
        parts = tf.reshape(songs, [-1, self.parts, self.steps, FEATURES])
        h = tf.zeros([tf.shape(songs)[0], self.state_size])
        for p in tf.range(self.parts):
            h = self.run_part(parts[:, p], h)
        return self.logits(h)

    def train_batch(self, songs: tf.Tensor, targets: tf.Tensor, optimizer: Adam):
        """Truncated BPTT on one batch: one update per part, the state carried without gradient.

        Returns the loss of every part (parts,) and, for the final part, the mean loss and
        the number of correct songs. Each part's loss and carried state come from the
        weights before that part's update, as in the seed's single session call per part.
        """
        variables = optimizer.variables
        parts = tf.reshape(songs, [-1, self.parts, self.steps, FEATURES])
        h = tf.zeros([tf.shape(songs)[0], self.state_size])
        logits = tf.zeros([tf.shape(songs)[0], self.classes])
        part_losses = tf.TensorArray(tf.float32, size=self.parts)
        for p in tf.range(self.parts):
            with tf.GradientTape() as tape:
                loss, logits, h = self.part_loss(parts[:, p], h, targets)
            optimizer.apply(tape.gradient(loss, variables))
            part_losses = part_losses.write(p, loss)
        part_losses = part_losses.stack()
        return part_losses, part_losses[-1], correct(logits, targets)

    def flops_per_song(self) -> dict[str, float]:
        """Matrix-product FLOPs of one song, as computed: forward, and training.

        Training = forward + backward: per step the forward products, the weight gradients
        (same size) and ``dh`` through ``W_h`` (none before the first step of a part); the
        readout of every part, forward and both of its gradients.
        """
        s = self.state_size
        step = 2 * (FEATURES * s + s * s)
        readout = 2 * s * self.classes if self.readout else 0
        forward = SEGMENTS * step + readout
        train = SEGMENTS * 2 * step + (SEGMENTS - self.parts) * 2 * s * s + self.parts * 3 * readout
        return {"forward": float(forward), "train": float(train)}


class MLP:
    """Feedforward baseline on the flat 3000 inputs: ReLU hidden layers, softmax output."""

    kind = "mlp"

    def __init__(self, hidden: list[int], seed: int, classes: int = CLASSES):
        if not hidden or min(hidden) < 1:
            raise ValueError(f"hidden layer sizes must be positive; got {hidden}")
        self.hidden, self.classes = list(hidden), classes
        rng = np.random.default_rng([seed, 1])
        sizes = [SEGMENTS * FEATURES, *hidden, classes]
        self.weights = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            self.weights[f"W_{i}"] = tf.Variable(glorot_uniform(rng, fan_in, fan_out),
                                                 name=f"W_{i}")
            self.weights[f"b_{i}"] = tf.Variable(np.zeros(fan_out, np.float32), name=f"b_{i}")
        self.layers = len(sizes) - 1

    def song_logits(self, songs: tf.Tensor) -> tf.Tensor:
        x = tf.reshape(songs, [-1, SEGMENTS * FEATURES])
        for i in range(self.layers):
            x = x @ self.weights[f"W_{i}"] + self.weights[f"b_{i}"]
            if i < self.layers - 1:
                x = tf.nn.relu(x)
        return x

    def train_batch(self, songs: tf.Tensor, targets: tf.Tensor, optimizer: Adam):
        """One update on the batch; same return values as ``BasicRNN.train_batch``."""
        with tf.GradientTape() as tape:
            logits = self.song_logits(songs)
            loss = tf.reduce_mean(cross_entropy(logits, targets))
        optimizer.apply(tape.gradient(loss, optimizer.variables))
        return tf.reshape(loss, [1]), loss, correct(logits, targets)

    def flops_per_song(self) -> dict[str, float]:
        sizes = [SEGMENTS * FEATURES, *self.hidden, self.classes]
        forward = float(sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)))
        return {"forward": forward, "train": 3.0 * forward}


class Trainer:
    """Compiled training and evaluation for a model; holds the optimizer.

    ``train_epoch`` visits the songs in the given order (the epoch's shuffle) and runs many
    batches, all their parts and all their updates, in one graph call; the songs go in
    chunks of ``chunk_batches`` batches, gathered in shuffled order in NumPy, so the
    training set is never copied whole. ``evaluate`` scores whole songs in chunks.
    ``jit_compile=True`` compiles both with XLA: with TensorFlow 2.21 that ran about 10 to
    100 times slower on CPU than the plain graph, so it is off by default.
    """

    def __init__(self, model: BasicRNN | MLP, learning_rate: float = 1e-3,
                 batch_size: int = 50, jit_compile: bool = False, eval_chunk: int = 1000,
                 chunk_batches: int = 100):
        self.model = model
        self.batch_size = batch_size
        self.eval_chunk = eval_chunk
        self.chunk_batches = chunk_batches
        self.optimizer = Adam(list(model.weights.values()), learning_rate)
        songs = tf.TensorSpec([None, SEGMENTS, FEATURES], tf.float32)
        labels = tf.TensorSpec([None], tf.int64)
        self._train_batches = tf.function(self._batches, jit_compile=jit_compile,
                                          input_signature=[songs, labels])
        self._logits = tf.function(model.song_logits, jit_compile=jit_compile,
                                   input_signature=[songs])

    def _batches(self, songs: tf.Tensor, targets: tf.Tensor):
        """Train on consecutive batches of ``songs``: per-part losses and final-part hits."""
        batches = tf.shape(songs)[0] // self.batch_size
        losses = tf.TensorArray(tf.float32, size=batches)
        hits = tf.TensorArray(tf.float32, size=batches)
        for i in tf.range(batches):
            batch = slice(i * self.batch_size, (i + 1) * self.batch_size)
            part_losses, _, n_correct = self.model.train_batch(
                songs[batch], targets[batch], self.optimizer)
            losses = losses.write(i, part_losses)
            hits = hits.write(i, n_correct)
        return losses.stack(), hits.stack()

    def train_epoch(self, inputs: np.ndarray, targets: np.ndarray,
                    order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Train on ``len(order) // batch_size`` batches; the last incomplete one is dropped.

        Returns the loss of every part of every batch (batches, parts) and the number of
        correct songs of every batch on its final part (batches,).
        """
        inputs, targets = np.asarray(inputs), np.asarray(targets, np.int64)
        batches = len(order) // self.batch_size
        losses, hits = [], []
        for first in range(0, batches, self.chunk_batches):
            last = min(first + self.chunk_batches, batches)
            index = order[first * self.batch_size:last * self.batch_size]
            chunk_losses, chunk_hits = self._train_batches(inputs[index], targets[index])
            losses.append(chunk_losses.numpy())
            hits.append(chunk_hits.numpy())
        return np.concatenate(losses), np.concatenate(hits)

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
