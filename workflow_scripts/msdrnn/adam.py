"""Adam, written out so that its whole state is plain variables the checkpoint can hold.

Its own module so that the model (whose ``train_batch`` takes an optimizer) and the
per-batch updates (which build one) both import it without importing each other.
"""

from __future__ import annotations

import numpy as np

from msdrnn.tensorflow_setup import import_tensorflow

tf = import_tensorflow()  # without Keras when it is the first import (tensorflow_setup)


class Adam:
    """Adam (Kingma & Ba) on a list of variables, as ``tf.train.AdamOptimizer`` and Keras do it.

    Written out so that its whole state (``m``, ``v``, ``step``) is plain variables that
    run inside the compiled epoch and are saved and restored bit for bit by the checkpoint.
    ``epsilon`` 1e-8 is the default of the TensorFlow the original study used.
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

    def reset(self) -> None:
        """The state of a new optimizer (zero moments, step 0), in the same variables: the
        next run of the same computation under another seed (``Trainer.reset``)."""
        self.step.assign(0)
        for m, v in zip(self.m, self.v, strict=True):
            m.assign(tf.zeros_like(m))
            v.assign(tf.zeros_like(v))

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self.step.assign(int(state["adam_step"]))
        for var, m, v in zip(self.variables, self.m, self.v, strict=True):
            m.assign(state[f"adam_m/{var.name}"])
            v.assign(state[f"adam_v/{var.name}"])
