"""The metrics of NumPy logits: cross-entropy and accuracy; no TensorFlow here.

The forward passes are the model families' own (``reference_logits`` in
``msdrnn/models/NAME.py``), so the test evaluation's numbers do not depend on the framework
that trained the weights.
"""

from __future__ import annotations

import numpy as np


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
