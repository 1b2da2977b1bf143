"""What the model families share: TensorFlow (imported on first use), weight
initialisation, the loss, the hit count, dropout, and the NumPy pieces of the references.

``tf`` here is TensorFlow imported lazily: the package loads the first time one of its
attributes is read. A family module can therefore write ``tf.tanh`` in its model class and
still be imported for its FLOPs count or its NumPy reference forward pass (by the job
sizing, by the test evaluation, by Snakemake when it reads the workflow) without paying
for TensorFlow.
"""

from __future__ import annotations

import numpy as np


class _TensorFlow:
    """TensorFlow, imported when one of its attributes is first read: ``tf.tanh`` here is
    ``tensorflow.tanh``. Not a module in ``sys.modules``, so nothing that walks the loaded
    modules (code fingerprints, tracebacks) imports TensorFlow by accident."""

    def __getattr__(self, name: str):
        import tensorflow

        return getattr(tensorflow, name)


tf = _TensorFlow()


# ---------------------------------------------------------------- NumPy


def glorot_uniform(rng: np.random.Generator, fan_in: int, fan_out: int,
                   shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Glorot/Xavier uniform matrix, the original study's ``get_variable`` default;
    ``shape`` when the array is not (fan_in, fan_out), e.g. a convolution's (width, in,
    out) with fans width x in and width x out."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape or (fan_in, fan_out)).astype(np.float32)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def dense(x: np.ndarray, weights, w: str, b: str) -> np.ndarray:
    """``x @ weights[w] + weights[b]`` in float32, for the NumPy references."""
    return x @ np.asarray(weights[w], np.float32) + np.asarray(weights[b], np.float32)


def numbered(weights, prefix: str) -> int:
    """How many arrays are named ``prefix0``, ``prefix1``, ... (layers of a weights file)."""
    return sum(1 for name in weights
               if name.startswith(prefix) and name[len(prefix):].isdigit())


# ---------------------------------------------------------------- TensorFlow


def cross_entropy(logits, targets):
    """Softmax cross-entropy per song, ``logsumexp(logits) - logits[target]``.

    Written with elementwise ops and reductions only, which are deterministic on every
    device under ``enable_op_determinism`` (the fused sparse kernels are not on all GPUs).
    """
    picked = tf.reduce_sum(tf.one_hot(targets, tf.shape(logits)[-1]) * logits, axis=-1)
    return tf.reduce_logsumexp(logits, axis=-1) - picked


def correct(logits, targets):
    """Number of songs whose largest logit is their label."""
    hits = tf.equal(tf.argmax(logits, axis=-1, output_type=targets.dtype), targets)
    return tf.reduce_sum(tf.cast(hits, tf.float32))


def dropout(x, rate: float, noise_seed):
    """Inverted dropout: each value kept with probability ``1 - rate`` and scaled by
    ``1 / (1 - rate)``, so evaluation (no dropout) needs no rescaling.

    The mask is ``tf.random.stateless_uniform`` of ``noise_seed`` (shape [2]: the Trainer
    passes the run's seed and Adam's update count, and a layer offsets it), a function of
    the seed and the update alone: a run killed and resumed draws the same masks. Rate 0
    is the identity, and draws nothing.
    """
    if rate <= 0:
        return x
    keep = tf.random.stateless_uniform(tf.shape(x), seed=noise_seed) >= rate
    return tf.where(keep, x / (1.0 - rate), tf.zeros_like(x))


def layer_seed(noise_seed, layer: int):
    """A distinct stateless seed per dropout layer from the batch's ``noise_seed``."""
    return noise_seed + tf.constant([0, 1], noise_seed.dtype) * (1 << 40) * layer


def one_update(forward, songs, targets, optimizer, noise_seed):
    """One Adam update of a model that sees a whole song at once (one part per batch):
    ``forward(songs, noise_seed)`` under a gradient tape, the batch's mean cross-entropy.
    Returns what ``train_batch`` returns: the part losses (one), the loss and the hits."""
    with tf.GradientTape() as tape:
        logits = forward(songs, noise_seed)
        loss = tf.reduce_mean(cross_entropy(logits, targets))
    optimizer.apply(tape.gradient(loss, optimizer.variables))
    return tf.reshape(loss, [1]), loss, correct(logits, targets)
