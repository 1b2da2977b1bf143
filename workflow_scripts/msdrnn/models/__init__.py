"""The compared model families, one module each: the registry is this folder.

A family NAME is the module ``msdrnn.models.NAME`` (``rnn``, ``mlp``, ``cnn``; ``layers``
holds what they share). Adding a model is adding its module here and its block under the
config's ``models:``; nothing else names the families. Every family module provides:

- ``HPARAMS``: the hyperparameters a run is defined by, name -> type (``int``, ``float``,
  ``bool``), and ``DEFAULTS``, a value for each;
- ``check(hparams, classes)``: why these values cannot run, or None;
- ``flops_per_song(hparams, classes)``: matrix-product FLOPs of one song, ``forward`` and
  ``train`` (the job sizing and the benchmarks read it; no TensorFlow);
- ``memory_terms(hparams)``: what a training job's memory grows with, beyond its data
  (``msdrnn.resources`` turns them into MB with measured coefficients);
- ``reference_logits(inputs, weights)``: the NumPy forward pass over whole songs from a
  weights file, in evaluation mode (the test evaluation uses it; no TensorFlow);
- ``build(hparams, seed, classes)``: the TensorFlow model, with ``weights`` (named as in
  weights.npz, drawn from ``np.random.default_rng([seed, 1])``), ``parts`` (Adam updates
  per batch), ``song_logits(songs)`` (evaluation mode) and ``train_batch(songs, targets,
  optimizer, noise_seed)`` (see ``msdrnn.updates``);
- optionally ``groups(hparams, threads)``: groups of a batch's songs trained side by side
  (the RNN's; 1 without), and a model attribute ``jit_compile`` (default True): False runs
  each batch's update as a plain graph instead of XLA (the CNN's; see ``msdrnn.updates``).

The families are imported by name (``family``), not by import statements, so a script's
code inputs (``msdrnn.code_inputs``) never include them: a rule that trains or evaluates a
family adds ``family_path(name)`` itself, and editing one family reruns only its jobs.
Importing a family does not import TensorFlow (``layers.tf`` loads on first use).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from msdrnn.errors import ConfigError

FOLDER = Path(__file__).resolve().parent
SHARED = {"__init__", "layers"}  # modules of this folder that are not families
REQUIRED = ("HPARAMS", "DEFAULTS", "check", "flops_per_song", "memory_terms",
            "reference_logits", "build")


def available() -> list[str]:
    """The registered family names: the modules of this folder."""
    return sorted(path.stem for path in FOLDER.glob("*.py") if path.stem not in SHARED)


def family_path(name: str) -> Path:
    """The file of family ``name`` (ConfigError if there is none)."""
    path = FOLDER / f"{name}.py"
    if name in SHARED or not name.isidentifier() or not path.is_file():
        raise ConfigError(f"unknown model family '{name}': expected one of {available()} "
                          f"(a module in {FOLDER})")
    return path


def family(name: str) -> ModuleType:
    """The module of family ``name``, checked for what every family provides."""
    family_path(name)
    module = importlib.import_module(f"{__name__}.{name}")
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise ConfigError(f"model family '{name}' ({module.__file__}) lacks {missing}")
    return module


def hparams_error(name: str, hparams: dict, classes: int) -> str | None:
    """Why ``hparams`` do not define a run of family ``name``, or None: every key of its
    ``HPARAMS`` present with its type, no other key, and the family's own check."""
    spec = family(name).HPARAMS
    unknown = sorted(set(hparams) - set(spec))
    missing = sorted(set(spec) - set(hparams))
    if unknown or missing:
        return (f"model '{name}' takes the hyperparameters {sorted(spec)}; "
                + (f"unknown {unknown}" if unknown else f"missing {missing}"))
    for key, kind in spec.items():
        value = hparams[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
            if kind is float else type(value) is kind
        if not ok:
            return f"model '{name}': '{key}' must be {kind.__name__}; got {value!r}"
    return family(name).check(hparams, classes)


def complete(name: str, given: dict) -> dict:
    """Family ``name``'s defaults updated with ``given`` (ints given for floats become
    floats), in ``HPARAMS`` order."""
    spec = family(name).HPARAMS
    values = {**family(name).DEFAULTS, **given}
    return {key: (float(values[key]) if spec.get(key) is float
                  and isinstance(values[key], int) and not isinstance(values[key], bool)
                  else values[key]) for key in [*spec, *(k for k in values if k not in spec)]}
