"""TensorFlow for a training job, imported without what training never uses.

``import tensorflow`` (2.16 and later) eagerly imports ``keras.src.optimizers`` so that
Keras registers its optimizers for SavedModel, and with it all of Keras, scikit-learn,
pandas and matplotlib's pyplot (which builds matplotlib's font cache on a fresh machine):
about a third of the import's time, for a trainer that uses none of them. TensorFlow's
``__init__`` skips that import when it raises ``ImportError``, so ``import_tensorflow``
hides Keras only while TensorFlow initialises; ``tf.keras`` and ``import keras`` still work
afterwards. Numbers do not change: nothing of Keras runs in training
(``perf/bench_overhead.py``, docs/performance.md).
"""

from __future__ import annotations

import sys
from types import ModuleType


def import_tensorflow() -> ModuleType:
    """``import tensorflow``, without Keras' eager import when this is the first import."""
    if "tensorflow" not in sys.modules and "keras" not in sys.modules:
        sys.modules["keras"] = None  # an import of keras raises ImportError meanwhile
        try:
            import tensorflow  # noqa: F401
        finally:
            del sys.modules["keras"]
    import tensorflow as tf

    return tf
