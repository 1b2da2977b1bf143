"""Read the training results the trainer writes (history.csv, run.json). No TensorFlow.

A file that cannot be read, or lacks what its readers rely on, raises ``DataError`` naming
the file and what was expected, which the scripts report as one ``error:`` line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from msdrnn.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

# history.csv, as the trainer writes it
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "seconds")

# A grid run's folder: .../steps_K/seed_S/
GRID_RUN = re.compile(r"steps_(\d+)/seed_(\d+)$")


def read_history(path: str | Path) -> pd.DataFrame:
    """One row per epoch, checked for the columns every consumer relies on."""
    import pandas as pd  # here, not above: the trainer imports this module for HISTORY_COLUMNS

    try:
        history = pd.read_csv(path)
    except (OSError, ValueError) as err:  # pandas' parser errors are ValueErrors
        raise DataError(f"{path}: cannot read the training history ({err})") from None
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; expected {list(HISTORY_COLUMNS)}")
    if history.empty:
        raise DataError(f"{path}: no epochs recorded")
    return history


def read_json(path: str | Path) -> dict:
    """A JSON object from `path` (a run.json, proposal.json, best.json, ...)."""
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read JSON ({err})") from None
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object; got {type(value).__name__}")
    return value


def require(values: dict, keys: tuple[str, ...], path: str | Path) -> None:
    """Raise ``DataError`` unless every key is in `values` (read from `path`)."""
    missing = [key for key in keys if key not in values]
    if missing:
        raise DataError(f"{path}: missing keys {missing}; expected {list(keys)}")


def grid_point(history: str | Path) -> tuple[int, int]:
    """(steps, seed) of a grid run from its history path, .../steps_K/seed_S/history.csv."""
    match = GRID_RUN.search(Path(history).parent.as_posix())
    if not match:
        raise DataError(f"{history}: expected a path like .../steps_K/seed_S/history.csv")
    return int(match[1]), int(match[2])


def peak(history: pd.DataFrame, column: str = "valid_acc") -> tuple[float, int]:
    """The best value of a column and the (1-based) epoch where it was first reached."""
    row = history.loc[history[column].idxmax()]
    return float(row[column]), int(row["epoch"])


# Keys of run.json's flat ``hyperparameters`` that are the trainer's settings, not the
# model's (the fields of ``msdrnn.training.TrainConfig`` but its ``hparams``, and the
# family's name; tests/test_figures.py checks that the two agree)
TRAINING_SETTINGS = ("model", "epochs", "seed", "batch_size", "learning_rate", "optimizer",
                     "classes", "threads")
# Keys of a search's best.json that describe the search, not the model
SEARCH_RECORD = ("trial", "objective", "trials")


def run_hparams(run: dict) -> dict:
    """The model's hyperparameters of a run.json (its family's, whatever the family)."""
    hyper = run.get("hyperparameters", run)
    return {key: value for key, value in hyper.items() if key not in TRAINING_SETTINGS}


def describe_hparams(hparams: dict) -> str:
    """'width 598, depth 3, dropout 0.12': hyperparameters as the summary and the figures
    show them, in their order."""
    def text(value) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{key} {text(value)}" for key, value in hparams.items())


def describe_run(run: dict, path: str | Path = "run.json") -> str:
    """A run's model from its run.json (read from ``path``, which a missing key's
    ``DataError`` names): the RNN as the original study wrote it, 'RNN steps: 6 – State
    size: 10 – no readout layer'; another family as 'mlp: width 598, depth 3, dropout
    0.12'."""
    hyper = run.get("hyperparameters", run)
    model = run.get("model", hyper.get("model", "rnn"))
    if model != "rnn":
        return f"{model}: {describe_hparams(run_hparams(run))}"
    require(hyper, ("steps", "state_size"), path)
    readout = "readout layer" if hyper.get("readout") else "no readout layer"
    return f"RNN steps: {hyper['steps']} – State size: {hyper['state_size']} – {readout}"
