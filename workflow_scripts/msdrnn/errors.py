"""The study's error types, one home for all of them. No TensorFlow here.

Every command-line script turns ``DataError`` and ``ConfigError`` into one ``error: ...``
line and exit code 2 (``msdrnn.cli.run``), and ``TrainingDiverged`` into exit code 1.
"""


class DataError(ValueError):
    """Bad input data: the message names the file, the field and what was expected."""


class ConfigError(ValueError):
    """Settings that cannot describe a run of the study: the message names the setting."""


class TrainingDiverged(RuntimeError):
    """A non-finite loss: the run stops, the last good checkpoint stays."""
