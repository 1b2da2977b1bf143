"""Library code of the MSD-10 truncated-BPTT RNN study.

Modules that never import TensorFlow: ``msd`` (MSD HDF5 and tagtraum readers),
``synthetic`` (the embedded MSD-format generator), ``dataset`` (dataset.h5 and the
per-step arrays), ``reference`` (NumPy forward pass), ``search`` (Bayesian search),
``plots`` and ``summary``. TensorFlow lives in ``model`` (and ``mlp``) only.
"""
