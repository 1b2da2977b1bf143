"""Library code of the MSD-10 truncated-BPTT RNN study.

Study facts and plumbing: ``study`` (segments, features, genres, the steps and readout
checks), ``errors``, ``cli`` (the scripts' command-line contract), ``files`` (atomic
writes, ordered worker pool), ``code_inputs`` (a script's project imports, for the rules),
``resources`` (jobs' memory and time: the sizing formulas and a run's benchmark files).
Data: ``msd`` (MSD HDF5 and tagtraum readers), ``synthetic`` (the embedded MSD-format
generator), ``npz`` (the course's npz files), ``dataset`` (builds dataset.h5), ``steps``
(per-step virtual-dataset files), ``dataset_io`` (reads both).
Training: ``models`` (the registry: one module per model family, ``rnn``, ``mlp``,
``cnn``, and their shared ``layers``), ``adam`` (the optimizer), ``updates`` (the
compiled per-batch truncated-BPTT updates), ``training`` (the epoch loop, checkpoints,
outputs, a job's seeds one after the other in one process), ``provenance`` (CPU, device,
versions).
Controls: ``controls`` (songs with shuffled segments, per-song statistics).
Results: ``results`` (history.csv and JSON readers), ``reference`` (NumPy forward pass),
``search`` (Bayesian search), ``stats`` (intervals: the test verdicts' t interval, Welch t,
Hsu's MCB, Holm), ``paired`` (runs' test metrics paired by track ID), ``coverage`` (the
simulated studies that measure the intervals), ``plots``, ``summary`` and ``verdicts``
(its words about the statistics).

TensorFlow is imported by ``tensorflow_setup``, ``adam``, ``updates``, the families'
``build`` (``models.layers.tf`` loads it on first use) and (inside functions) ``training``
and ``provenance`` only; every other module works without it.
"""
