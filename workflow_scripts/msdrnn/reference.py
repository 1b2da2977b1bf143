"""NumPy-only forward passes from ``weights.npz``, and the metrics; no TensorFlow here.

The pipeline's test-split evaluation uses these, so the numbers it reports do not depend
on the framework that trained the weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def logits(inputs: np.ndarray, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """Final-output logits (N, classes) of the basic RNN on songs (N, 120, 25).

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


def mlp_logits(inputs: np.ndarray, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """Logits of the MLP (``W_0, b_0, W_1, b_1, ...``; ReLU between layers) on flat songs."""
    x = np.asarray(inputs, dtype=np.float32).reshape(len(inputs), -1)
    layers = sum(1 for name in weights if name.startswith("W_") and name[2:].isdigit())
    for i in range(layers):
        x = x @ np.asarray(weights[f"W_{i}"], np.float32) + np.asarray(weights[f"b_{i}"],
                                                                      np.float32)
        if i < layers - 1:
            x = np.maximum(x, 0)
    return x


def model_logits(inputs: np.ndarray, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """``logits`` or ``mlp_logits``, whichever model the weight names describe."""
    return logits(inputs, weights) if "W_h" in weights else mlp_logits(inputs, weights)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean softmax cross-entropy (natural log), as the trainer reports it."""
    targets = np.asarray(targets, dtype=np.int64)
    return float(-np.mean(log_softmax(np.asarray(logits, np.float64))[np.arange(len(targets)),
                                                                       targets]))


def accuracy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of songs whose largest logit is their label."""
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(targets)))
