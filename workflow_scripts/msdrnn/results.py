"""Read the training results the trainer writes (history.csv, run.json). No TensorFlow."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

# history.csv, as the trainer writes it
HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "seconds")


def read_history(path: str | Path) -> pd.DataFrame:
    """One row per epoch, checked for the columns every consumer relies on."""
    history = pd.read_csv(path)
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(HISTORY_COLUMNS)}")
    if history.empty:
        raise ValueError(f"{path}: no epochs recorded")
    return history


def read_json(path: str | Path) -> dict:
    with open(path) as f:
        return json.load(f)


def peak(history: pd.DataFrame, column: str = "valid_acc") -> tuple[float, int]:
    """The best value of a column and the (1-based) epoch where it was first reached."""
    row = history.loc[history[column].idxmax()]
    return float(row[column]), int(row["epoch"])


def describe_run(run: dict) -> str:
    """'RNN steps: 6 – State size: 10 – no readout layer' from a run.json."""
    run = run.get("hyperparameters", run)
    if run.get("model") == "mlp":
        hidden = ", ".join(str(h) for h in run.get("hidden", []))
        return f"Feedforward network – hidden layers: {hidden}"
    readout = "readout layer" if run.get("readout") else "no readout layer"
    return f"RNN steps: {run['steps']} – State size: {run['state_size']} – {readout}"
