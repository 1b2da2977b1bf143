"""The temporal convolutional network: the non-recurrent model that can use segment order.

Reading order:

1. ``HPARAMS`` and ``check``: ``layers`` 1-D convolutions over the 120 segments, each of
   ``channels`` output channels and ``kernel`` segments wide, and a ``dropout`` rate.
2. ``TemporalCNN``: weights ``conv_i`` (kernel, in, out) and ``conv_b_i`` (out,) for each
   layer (the first reads the 25 features), then ``W_out`` (channels, classes) and
   ``b_out``. Each layer is ``relu(conv(x) + b)`` with 'same' zero padding and stride 1,
   so every layer keeps the 120 steps; dropout follows each layer while training; the
   class scores are the time average of the last layer, through ``W_out``. One Adam
   update per batch.
3. ``conv_same`` and ``TemporalCNN.jit_compile``: how a layer is computed and the step
   run, chosen by measurement (``perf/bench_cnn.py``): TensorFlow's own convolution in a
   plain graph, not XLA.
4. ``reference_logits``: the same forward pass in NumPy (im2col: the kernel window of
   every step unfolded into a row, one matrix product per layer), from a weights file.
5. ``flops_per_song`` and ``memory_terms``: what the job sizing reads.

Weights are drawn as the other families' are, from ``np.random.default_rng([seed, 1])``,
Glorot uniform with a convolution's fans (kernel x in, kernel x out), biases zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from msdrnn.models.layers import (
    dense,
    dropout,
    glorot_uniform,
    layer_seed,
    numbered,
    one_update,
    relu,
    tf,
)
from msdrnn.study import CLASSES, FEATURES, SEGMENTS

if TYPE_CHECKING:
    from msdrnn.adam import Adam

HPARAMS = {"channels": int, "kernel": int, "layers": int, "dropout": float}
DEFAULTS = {"channels": 32, "kernel": 5, "layers": 2, "dropout": 0.0}


def check(hparams: dict, classes: int = CLASSES) -> str | None:
    """Why these values cannot run, or None. The kernel must be odd: 'same' padding puts
    ``kernel // 2`` zero segments on each side, which keeps the 120 steps only when the
    window is symmetric about its step."""
    kernel, channels, layers = hparams["kernel"], hparams["channels"], hparams["layers"]
    if kernel < 1 or kernel % 2 == 0:
        return (f"kernel must be odd and at least 1 ('same' padding is symmetric, "
                f"kernel // 2 segments each side); got {kernel}")
    if channels < 1 or layers < 1:
        return f"channels and layers must be at least 1; got channels {channels}, layers {layers}"
    if not 0 <= hparams["dropout"] < 1:
        return f"dropout must be in [0, 1); got {hparams['dropout']}"
    return None


def build(hparams: dict, seed: int, classes: int = CLASSES) -> TemporalCNN:
    """The network of ``hparams``, weights drawn from ``seed``."""
    return TemporalCNN(hparams, seed, classes)


def conv_same(x: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    """1-D convolution over axis 1 of ``x`` (B, T, C_in) with ``kernel`` (width, C_in,
    C_out), 'same' zero padding, stride 1 (a cross-correlation, as every framework's
    convolution): (B, T, C_out).

    ``tf.nn.conv1d`` in a plain graph runs TensorFlow's oneDNN convolution kernels, which
    measured faster on CPU, forward and backward, than the same layer compiled with XLA,
    written as ``tf.nn.conv1d`` or as im2col (the window of every step unfolded into a
    (B*T, width*C_in) matrix, one product per layer): 1.4x at 128 channels, kernel 7, 3
    layers, 3x at 8/3/1 (``perf/bench_cnn.py --formulations``; docs/performance.md).
    """
    return tf.nn.conv1d(x, kernel, stride=1, padding="SAME")


class TemporalCNN:
    """Convolutions over the segments with ReLU and dropout, time average, linear output.

    ``jit_compile`` False: the ``Trainer`` runs each batch's update as one call of a plain
    TensorFlow graph rather than of an XLA-compiled function. The step is a few large
    convolutions, not the RNN's many small products, so the per-op overhead XLA removes
    is small, while TensorFlow's own convolution kernels and its stateless random numbers
    (the dropout masks) are faster on CPU than XLA's: 104 against 146 CPU ms per batch of
    50 songs at 128/7/3, 3.0 against 8.6 at 8/3/1, one thread (``perf/bench_cnn.py
    --formulations``).
    """

    parts = 1
    jit_compile = False

    def __init__(self, hparams: dict, seed: int, classes: int = CLASSES):
        problem = check(hparams, classes)
        if problem:
            raise ValueError(problem)
        self.hparams, self.classes = dict(hparams), classes
        self.layers = hparams["layers"]
        self.rate = float(hparams["dropout"])
        kernel, channels = hparams["kernel"], hparams["channels"]
        rng = np.random.default_rng([seed, 1])
        init = {}
        for i, c_in in enumerate([FEATURES] + [channels] * (self.layers - 1)):
            init[f"conv_{i}"] = glorot_uniform(rng, kernel * c_in, kernel * channels,
                                               shape=(kernel, c_in, channels))
            init[f"conv_b_{i}"] = np.zeros(channels, np.float32)
        init["W_out"] = glorot_uniform(rng, channels, classes)
        init["b_out"] = np.zeros(classes, np.float32)
        self.weights = {name: tf.Variable(value, name=name) for name, value in init.items()}

    def forward(self, songs: tf.Tensor, noise_seed: tf.Tensor | None = None) -> tf.Tensor:
        """Logits of songs (N, 120, 25); dropout after every convolution when given a
        ``noise_seed`` (training), none without (evaluation)."""
        x = songs
        for i in range(self.layers):
            x = tf.nn.relu(conv_same(x, self.weights[f"conv_{i}"]) + self.weights[f"conv_b_{i}"])
            if noise_seed is not None:
                x = dropout(x, self.rate, layer_seed(noise_seed, i))
        pooled = tf.reduce_mean(x, axis=1)
        return pooled @ self.weights["W_out"] + self.weights["b_out"]

    def song_logits(self, songs: tf.Tensor) -> tf.Tensor:
        """Logits of whole songs in evaluation mode (no dropout)."""
        return self.forward(songs)

    def train_batch(self, songs: tf.Tensor, targets: tf.Tensor, optimizer: Adam,
                    noise_seed: tf.Tensor):
        """One update on the batch, dropout masks drawn from ``noise_seed``; the same
        return values as ``BasicRNN.train_batch`` (one part)."""
        return one_update(self.forward, songs, targets, optimizer, noise_seed)

    def flops_per_song(self) -> dict[str, float]:
        return flops_per_song(self.hparams, self.classes)


def reference_logits(inputs: np.ndarray, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """Logits of the network in NumPy (evaluation: no dropout) on songs (N, 120, 25):
    each layer im2col on a zero-padded copy, ReLU; time average; ``W_out``."""
    x = np.asarray(inputs, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"inputs must be (N, segments, features); got shape {x.shape}")
    layers = numbered(weights, "conv_")
    if layers == 0:
        raise KeyError("conv_0")
    for i in range(layers):
        kernel = np.asarray(weights[f"conv_{i}"], np.float32)
        width, c_in, c_out = kernel.shape
        half, steps = width // 2, x.shape[1]
        padded = np.pad(x, [(0, 0), (half, half), (0, 0)])
        columns = np.concatenate([padded[:, j:j + steps] for j in range(width)], axis=-1)
        x = relu(columns @ kernel.reshape(width * c_in, c_out)
                 + np.asarray(weights[f"conv_b_{i}"], np.float32))
    return dense(x.mean(axis=1), weights, "W_out", "b_out")


def flops_per_song(hparams: dict, classes: int = CLASSES) -> dict[str, float]:
    """Matrix-product FLOPs of one song, as computed.

    Forward: per layer the im2col product, 2 x 120 x (kernel x in) x channels, and the
    output layer, 2 x channels x classes. Training: the forward pass, the weights'
    gradient of every product (as many FLOPs again) and the inputs' gradient of every
    product but the first layer's (the songs need none): just under 3x the forward.
    """
    kernel, channels, layers = hparams["kernel"], hparams["channels"], hparams["layers"]
    convs = [2 * SEGMENTS * kernel * c_in * channels
             for c_in in [FEATURES] + [channels] * (layers - 1)]
    out = 2 * channels * classes
    forward = sum(convs) + out
    train = 2 * forward + (forward - convs[0])
    return {"forward": float(forward), "train": float(train)}


def memory_terms(hparams: dict) -> dict[str, float]:
    """What a training job's peak memory grows with beyond its data: channels x layers,
    the activations of a validation chunk (up to 1,000 songs x 120 steps per channel of
    every layer). Measured: ``perf/bench_cnn.py --memory``, 0.4 MB per channel x layer
    with 1,000 validation songs (0.13 with the default study's 200)."""
    return {"channel": float(hparams["channels"] * hparams["layers"])}
