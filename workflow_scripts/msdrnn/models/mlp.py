"""The feedforward network: the non-recurrent model that sees the whole song at once.

The song's 120 x 25 features, flattened to 3,000 inputs, pass through ``depth`` hidden
layers of ``width`` ReLU units, each followed by dropout at ``dropout`` while training,
then a linear layer to the class scores. One Adam update per batch. Dropout is its natural
regulariser (the network has far more weights than the RNN and fits the training songs
within a few epochs); rate 0 is the plain network.

Weights ``W_0, b_0, ..., W_depth, b_depth`` (``W_0`` is (3000, width)), drawn as the RNN's
are, from ``np.random.default_rng([seed, 1])``.
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

HPARAMS = {"width": int, "depth": int, "dropout": float}
DEFAULTS = {"width": 512, "depth": 2, "dropout": 0.0}
INPUTS = SEGMENTS * FEATURES


def check(hparams: dict, classes: int = CLASSES) -> str | None:
    """Why these values cannot run, or None."""
    if hparams["width"] < 1 or hparams["depth"] < 1:
        return (f"width and depth must be at least 1; got width {hparams['width']}, "
                f"depth {hparams['depth']}")
    if not 0 <= hparams["dropout"] < 1:
        return f"dropout must be in [0, 1); got {hparams['dropout']}"
    return None


def layer_sizes(hparams: dict, classes: int = CLASSES) -> list[int]:
    """Inputs, hidden layers and outputs: [3000, width x depth, classes]."""
    return [INPUTS, *[hparams["width"]] * hparams["depth"], classes]


def build(hparams: dict, seed: int, classes: int = CLASSES) -> MLP:
    """The network of ``hparams``, weights drawn from ``seed``."""
    return MLP(hparams, seed, classes)


class MLP:
    """ReLU hidden layers with dropout, a linear output layer; one update per batch."""

    parts = 1

    def __init__(self, hparams: dict, seed: int, classes: int = CLASSES):
        problem = check(hparams, classes)
        if problem:
            raise ValueError(problem)
        self.hparams, self.classes = dict(hparams), classes
        self.rate = float(hparams["dropout"])
        sizes = layer_sizes(hparams, classes)
        self.layers = len(sizes) - 1
        rng = np.random.default_rng([seed, 1])
        self.weights = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            self.weights[f"W_{i}"] = tf.Variable(glorot_uniform(rng, fan_in, fan_out),
                                                 name=f"W_{i}")
            self.weights[f"b_{i}"] = tf.Variable(np.zeros(fan_out, np.float32), name=f"b_{i}")

    def forward(self, songs: tf.Tensor, noise_seed: tf.Tensor | None = None) -> tf.Tensor:
        """Logits of songs (N, 120, 25); dropout after every hidden layer when given a
        ``noise_seed`` (training), none without (evaluation)."""
        x = tf.reshape(songs, [-1, INPUTS])
        for i in range(self.layers):
            x = x @ self.weights[f"W_{i}"] + self.weights[f"b_{i}"]
            if i < self.layers - 1:
                x = tf.nn.relu(x)
                if noise_seed is not None:
                    x = dropout(x, self.rate, layer_seed(noise_seed, i))
        return x

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
    """Logits of the network in NumPy (evaluation: no dropout) on songs (N, 120, 25)."""
    x = np.asarray(inputs, dtype=np.float32).reshape(len(inputs), -1)
    layers = numbered(weights, "W_")
    if layers == 0:
        raise KeyError("W_0")
    for i in range(layers):
        x = dense(x, weights, f"W_{i}", f"b_{i}")
        if i < layers - 1:
            x = relu(x)
    return x


def flops_per_song(hparams: dict, classes: int = CLASSES) -> dict[str, float]:
    """Matrix-product FLOPs of one song: forward, and training as three times that
    (forward, and the gradients of inputs and weights)."""
    sizes = layer_sizes(hparams, classes)
    forward = float(sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)))
    return {"forward": forward, "train": 3.0 * forward}


def memory_terms(hparams: dict) -> dict[str, float]:
    """The feedforward network's memory beyond its data is within the fixed part (its
    weights are a few MB); no term of its own."""
    return {}
