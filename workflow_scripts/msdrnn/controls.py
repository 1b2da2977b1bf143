"""The two controls of the study's answer. No TensorFlow here.

- **Shuffled segments**: every song's segments in a fixed random order, one permutation
  per song drawn from a seed. A recurrent model that uses the order of the segments must
  lose accuracy on such songs; one that uses only what the segments are does not.
- **Song statistics**: multinomial logistic regression on the per-song mean and standard
  deviation of the features (no order, no recurrence), its inverse regularisation ``C``
  chosen on the validation split. Its weights (``feature_mean``, ``feature_std``, ``coef``,
  ``intercept``) are framework-independent like the networks' ``weights.npz``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from msdrnn.reference import accuracy

SONG_STATS_KEYS = ("feature_mean", "feature_std", "coef", "intercept")


def segment_permutations(songs: int, segments: int, seed: int, split_index: int) -> np.ndarray:
    """One permutation of the segments per song, (songs, segments); fixed by the seed and
    the split, so a song keeps its order whatever is computed alongside."""
    rng = np.random.default_rng([seed, split_index])
    return rng.permuted(np.tile(np.arange(segments), (songs, 1)), axis=1)


def shuffle_segments(inputs: np.ndarray, permutations: np.ndarray) -> np.ndarray:
    """Songs (N, segments, features) with each song's segments in its permuted order."""
    return np.take_along_axis(inputs, permutations[:, :, None], axis=1)


def song_features(inputs: np.ndarray) -> np.ndarray:
    """Per song the mean and the standard deviation of every feature over its segments:
    (N, segments, features) -> (N, 2 x features)."""
    songs = np.asarray(inputs, dtype=np.float64)
    if songs.ndim != 3:
        raise ValueError(f"inputs must be (N, segments, features); got shape {songs.shape}")
    return np.concatenate([songs.mean(axis=1), songs.std(axis=1)], axis=1)


def is_song_stats(weights: Mapping[str, np.ndarray]) -> bool:
    """Whether a weights file holds the song-statistics model."""
    return all(key in weights for key in SONG_STATS_KEYS)


def song_stats_logits(inputs: np.ndarray, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """Class scores (N, classes) of the song-statistics model on songs (N, segments, features)."""
    features = (song_features(inputs) - weights["feature_mean"]) / weights["feature_std"]
    return features @ np.asarray(weights["coef"]).T + np.asarray(weights["intercept"])


def fit_song_stats(train_inputs: np.ndarray, train_targets: np.ndarray,
                   valid_inputs: np.ndarray, valid_targets: np.ndarray,
                   c_values: Sequence[float], classes: int) -> tuple[dict, dict]:
    """Fit one logistic regression per ``C`` on train, keep the best on validation (the
    smallest ``C`` on a tie: the strongest regularisation that does as well).

    Returns the weights of the kept model and a record of the choice (every ``C`` with its
    train and valid accuracy). The features are standardised with the train split's mean
    and standard deviation, kept in the weights.
    """
    from sklearn.linear_model import LogisticRegression

    train_features = song_features(train_inputs)
    mean = train_features.mean(axis=0)
    std = train_features.std(axis=0)
    std[std == 0] = 1.0
    train_x = (train_features - mean) / std
    valid_x = (song_features(valid_inputs) - mean) / std
    tried, fitted = [], []
    for c in sorted(c_values):
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(train_x, train_targets)
        coef = np.zeros((classes, train_x.shape[1]))
        intercept = np.full(classes, -1e9)  # a genre absent from train is never predicted
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
        fitted.append({"feature_mean": mean, "feature_std": std, "coef": coef,
                       "intercept": intercept})
        tried.append({"C": float(c),
                      "train_acc": accuracy(train_x @ coef.T + intercept, train_targets),
                      "valid_acc": accuracy(valid_x @ coef.T + intercept, valid_targets)})
    if not tried:
        raise ValueError("no C values to try")
    # the smallest C among the best on validation (tried holds the C values in order)
    kept = max(range(len(tried)), key=lambda i: (tried[i]["valid_acc"], -i))
    record = {"model": "song_stats", "features": int(train_x.shape[1]),
              "C": tried[kept]["C"], "train_acc": tried[kept]["train_acc"],
              "valid_acc": tried[kept]["valid_acc"], "tried": tried}
    return fitted[kept], record
