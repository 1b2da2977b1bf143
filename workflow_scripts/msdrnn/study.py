"""The study's fixed facts and the checks built on them, in one place. No dependencies.

A song is ``SEGMENTS`` (120) segments of ``FEATURES`` (25) numbers: timbre (12), pitches
(12), loudness_start (1). The RNN reads a song in parts of ``steps`` segments, so ``steps``
must divide the segments; without a readout layer the state itself is the class scores,
so its size must equal the number of classes. The checks return an error message (or
None) so that each caller raises its own error type: ``WorkflowError`` for the config,
``ConfigError`` for the trainer, ``DataError`` for data files.
"""

from __future__ import annotations

SEGMENTS = 120
FEATURES = 25
GENRES = ("Rap", "Rock", "RnB", "Electronic", "Metal", "Blues", "Pop", "Jazz", "Country",
          "Reggae")
CLASSES = len(GENRES)


def allowed_steps(segments: int = SEGMENTS) -> list[int]:
    """Every steps value that cuts ``segments`` into whole parts."""
    return [k for k in range(1, segments + 1) if segments % k == 0]


def steps_error(steps: int, segments: int = SEGMENTS) -> str | None:
    """Why ``steps`` cannot cut a song of ``segments`` segments into parts, or None."""
    if steps >= 1 and segments % steps == 0:
        return None
    allowed = " ".join(str(k) for k in allowed_steps(segments))
    return (f"steps {steps} does not divide the {segments} segments of a song; "
            f"allowed steps values: {allowed}")


def mlp_hidden(width: int, depth: int) -> list[int]:
    """The feedforward network's hidden layers for a point of its search: ``depth`` layers
    of ``width`` units each."""
    return [width] * depth


def readout_error(state_size: int, readout: bool, classes: int = CLASSES) -> str | None:
    """Why a state size cannot be used without a readout layer, or None."""
    if readout or state_size == classes:
        return None
    return (f"without a readout layer the state size must equal the number of classes "
            f"({classes}); got {state_size}")
