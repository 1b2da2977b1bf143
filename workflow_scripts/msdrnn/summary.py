"""The study's answer (results/summary.md and results/summary.json). No TensorFlow.

Every run group of the comparison is a ``Model``: its per-seed peak validation
accuracies, its per-seed test metrics (``evaluate.py``'s output) when there is a test
split, and its training budget. The compared models are the config's ``models:`` (the
primary one, the RNN, and its opponents), each model's shuffled-segment runs when it has
them, the baseline and the song-statistics control. The primary model is compared with
each other one; the strongest opponent on validation (mean peak valid accuracy of its
runs) is the primary comparison. "Recurrence or only order?" is answered by the RNN
against the temporal convolutional network (``ORDER_MODEL``, when listed), a
non-recurrent model that can use order, and by each model against its own runs on
shuffled segments.

Verdicts come from the held-out test songs only: the difference of mean test accuracies
(best-epoch weights) with a two-level bootstrap interval over the seeds of each model and
the same test songs (``msdrnn.stats``), paired by the songs' track IDs. The validation
numbers are shown too, with a t interval across seeds, but without a verdict: the RNN's
parameters and every run's best epoch are chosen on those same validation songs. The
grid's best steps value, picked on the grid's own validation numbers, is set against the
other steps values with Holm-adjusted p-values and no verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from msdrnn.errors import DataError
from msdrnn.results import describe_hparams
from msdrnn.stats import Interval, bootstrap_interval, holm, seed_interval, song_correctness

# The non-recurrent model that sees the order of the segments (1-D convolutions over them):
# the RNN against it asks whether recurrence matters beyond order
ORDER_MODEL = "cnn"
SYNTHETIC_NOTE = ("The synthetic data is generated so that the order of a song's segments "
                  "carries its genre; it is not real music, and its numbers show that the "
                  "pipeline works, not the original study's findings.")


@dataclass(frozen=True)
class Provenance:
    """Which data the study ran on: the source and the songs per split (dataset.h5)."""

    source: str
    songs: dict[str, int]
    path: str = "results/data/dataset.h5"

    def lines(self) -> list[str]:
        splits = ", ".join(f"{count} {name}" for name, count in self.songs.items())
        text = [f"Data: source `{self.source}` ({self.path}): {splits} songs."]
        if self.source == "synthetic":
            text.append(SYNTHETIC_NOTE)
        return text


@dataclass(frozen=True)
class Search:
    """A model's Bayesian search: its trials (trials.csv), the best trial's hyperparameters
    (best.json without the search's record), the dimensions it searched, and its file."""

    model: str
    trials: pd.DataFrame
    best: dict
    names: tuple[str, ...]
    path: str


@dataclass(frozen=True)
class Budget:
    """What a model's training cost: trainable parameters, Adam updates per epoch, epochs,
    and the search trials that chose its settings (words, as the summary shows them)."""

    parameters: int
    updates: str
    epochs: str
    search: str


@dataclass
class Model:
    """One model of the comparison: what it is, and its numbers per seed."""

    key: str
    label: str
    parameters: str
    valid: list[float]
    tests: list[dict] = field(default_factory=list)  # evaluate.py outputs, one per seed
    test_paths: list[str] = field(default_factory=list)  # the files ``tests`` came from
    budget: Budget | None = None

    def test_accuracies(self, section: str = "best_epoch") -> list[float]:
        return [metrics[section]["accuracy"] for metrics in self.tests]

    def track_ids(self, index: int = 0) -> list[str]:
        """The test songs' track IDs of one seed's metrics, or DataError naming its file."""
        metrics = self.tests[index]
        if "track_ids" not in metrics:
            raise DataError(f"{self._path(index)}: no 'track_ids' (expected the test songs' "
                            "IDs that evaluate.py writes; evaluate this run again)")
        return metrics["track_ids"]

    def correctness(self) -> np.ndarray:
        """(seeds, songs): 1 where a seed's best-epoch weights got a test song right."""
        for index in range(1, len(self.tests)):
            check_pairing(self, 0, self, index)
        targets = self.tests[0]["targets"]
        return song_correctness([m["best_epoch"]["predicted"] for m in self.tests], targets)

    def _path(self, index: int) -> str:
        return self.test_paths[index] if index < len(self.test_paths) else self.label


def check_pairing(first: Model, i: int, second: Model, j: int) -> None:
    """DataError naming both files unless the two test metrics are for the same songs, in
    the same order (track IDs and labels)."""
    songs_a = list(zip(first.track_ids(i), first.tests[i]["targets"], strict=False))
    songs_b = list(zip(second.track_ids(j), second.tests[j]["targets"], strict=False))
    if songs_a != songs_b:
        ids_a, ids_b = songs_a, songs_b
        where = next((k for k, (x, y) in enumerate(zip(ids_a, ids_b, strict=False)) if x != y),
                     min(len(ids_a), len(ids_b)))
        raise DataError(
            f"{first._path(i)} and {second._path(j)} are for different test songs "
            f"({len(ids_a)} and {len(ids_b)} songs, first difference at song {where}): a "
            "paired comparison needs the same songs in the same order")


@dataclass(frozen=True)
class Comparison:
    name: str
    valid: Interval
    test: Interval | None


def pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def points(value: float) -> str:
    return f"{100 * value:+.2f}"


def spread(values: Sequence[float]) -> str:
    """'54.50% ± 0.71% (2 seeds)' (mean ± sd), or the value of a single run."""
    if len(values) == 0:
        return "–"
    if len(values) == 1:
        return pct(values[0])
    return f"{pct(float(np.mean(values)))} ± {pct(float(np.std(values, ddof=1)))} " \
           f"({len(values)} seeds)"


def interval_text(interval: Interval | None) -> str:
    if interval is None:
        return "–"
    if not interval.known:
        return f"{points(interval.difference)} (no interval: {interval.method})"
    return (f"{points(interval.difference)} [{points(interval.low)}, "
            f"{points(interval.high)}]")


def compare(models: dict[str, Model], first_key: str, second_key: str, resamples: int,
            seed: int) -> Comparison:
    """One model against another: validation and test intervals of first minus second."""
    first, second = models[first_key], models[second_key]
    valid = seed_interval(first.valid, second.valid)
    test = None
    if first.tests and second.tests:
        check_pairing(first, 0, second, 0)
        test = bootstrap_interval(first.correctness(), second.correctness(), resamples, seed)
    return Comparison(f"{first.label} vs {second.label}", valid, test)


def grid_comparisons(grid: pd.DataFrame) -> tuple[int, list[Comparison], list[float | None]]:
    """The grid's best steps value (highest mean max valid accuracy over seeds) against
    every other steps value, across seeds, with Holm-adjusted p-values (the best value is
    one selection against all the others)."""
    per_steps = {int(k): list(g["max_valid_acc"]) for k, g in grid.groupby("steps")}
    best = max(per_steps, key=lambda k: (np.mean(per_steps[k]), -k))
    comparisons = [Comparison(f"steps {best} (selected) vs steps {k}",
                              seed_interval(per_steps[best], values), None)
                   for k, values in per_steps.items() if k != best]
    return best, comparisons, holm([c.valid.p for c in comparisons])


def budget_rows(models: dict[str, Model]) -> list[str]:
    rows = ["| Model | Trainable parameters | Adam updates per epoch | Epochs | "
            "Search trials that chose its settings |", "|---|---|---|---|---|"]
    for m in models.values():
        if m.budget is not None:
            b = m.budget
            rows.append(f"| {m.label} | {b.parameters:,} | {b.updates} | {b.epochs} | "
                        f"{b.search} |")
    return rows


def strongest(models: dict[str, Model], keys: Sequence[str]) -> str | None:
    """The key with the highest mean peak valid accuracy (the first on a tie), or None."""
    return max(keys, key=lambda key: (float(np.mean(models[key].valid)), -keys.index(key)),
               default=None)


def extra_knobs(searches: dict[str, Search], primary: str, opponents: Sequence[str]
                ) -> dict[str, list[str]]:
    """Per opponent, the hyperparameters its search tunes that the primary's does not."""
    own = set(searches[primary].names) if primary in searches else set()
    return {key: [n for n in searches[key].names if n not in own]
            for key in opponents if key in searches}


def build_summary(*, n_classes: int, grid: pd.DataFrame, searches: dict[str, Search],
                  models: dict[str, Model], primary: str, compared: Sequence[str],
                  shuffled: dict[str, str], resamples: int, bootstrap_seed: int,
                  provenance: Provenance | None = None) -> tuple[str, dict]:
    """Markdown for results/summary.md and the same numbers as a dict (summary.json).

    ``models`` holds every run group by key, in the table's order: the compared models
    (``compared``, the config's order, ``primary`` among them), ``shuffled`` (model key ->
    the key of its shuffled-segment runs), ``baseline`` and ``song_stats`` if present.
    """
    chance = 1.0 / n_classes
    rnn = models[primary].label
    has_test = bool(models[primary].tests)
    per_steps = grid.groupby("steps")["max_valid_acc"].agg(["mean", "std", "count"])
    best_steps, steps_comparisons, steps_holm = grid_comparisons(grid)
    grid_values = list(grid.loc[grid["steps"] == best_steps, "max_valid_acc"])
    opponents = [key for key in compared if key != primary]
    rival = strongest(models, opponents)
    others = ([rival] if rival else []) + [k for k in opponents if k != rival] + [
        key for key in (shuffled.get(primary), "song_stats", "baseline")
        if key in models]
    comparisons = [compare(models, primary, key, resamples, bootstrap_seed)
                   for key in others]
    order_pairs = [(primary, ORDER_MODEL)] if ORDER_MODEL in opponents else []
    order_pairs += list(shuffled.items())
    order_comparisons = [compare(models, first, second, resamples, bootstrap_seed)
                         for first, second in order_pairs]
    knobs = extra_knobs(searches, primary, opponents)

    def search_row(search: Search) -> tuple[str, ...]:
        trial = search.trials.loc[search.trials["objective"].idxmax()]
        return (f"{models[search.model].label}: search best (selected on these validation "
                "numbers, not a confirmation)",
                f"{describe_hparams(search.best)} (trial {int(trial['trial'])} of "
                f"{len(search.trials)})",
                f"{pct(trial['max_valid_acc'])} (objective {pct(trial['objective'])})",
                "–", "–")

    def test_cell(model: Model, section: str) -> str:
        return spread(model.test_accuracies(section)) if model.tests else "–"

    rows = [
        ("Chance level", f"{n_classes} genres", pct(chance), pct(chance), pct(chance)),
        ("Best steps of the grid (selected on these validation numbers)",
         f"steps {best_steps} of {len(per_steps)} values", spread(grid_values), "–", "–"),
        *[search_row(search) for search in searches.values()],
        *[(m.label, m.parameters, spread(m.valid), test_cell(m, "best_epoch"),
           test_cell(m, "final")) for m in models.values()],
    ]
    fixed = "song_stats" in models
    lines = [
        "# Can a basic RNN classify MSD-10 genres better than non-recurrent models?",
        "",
        *(provenance.lines() + [""] if provenance else []),
        "| Experiment | Parameters | Peak valid accuracy (selected on these songs) | Test "
        "accuracy (best-epoch weights) | Test accuracy (final weights) |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
        "",
        "Several seeds: mean ± sd over seeds. Peak valid accuracy: the highest validation "
        "accuracy of a run's epochs (for the song-statistics control, the validation "
        "accuracy of the C it kept); the search's parameters and every run's best epoch are "
        "chosen on these same validation songs, so these numbers are descriptive. Test "
        "accuracy: the weights of the best validation epoch (the earliest on a tie; the "
        "primary number) and the final weights."
        + (" Every trained model runs under each seed its config lists; only the "
           "song-statistics control is a deterministic fit, fitted once, and counts as a "
           "fixed value." if fixed else ""),
        "",
        "## Training budget per model",
        "",
        *budget_rows(models),
        "",
        "Trainable parameters: counted from the weights file. Adam updates per epoch (from "
        "run.json): the RNN makes one per part of a batch (batches x parts), every other "
        "model one per batch. A model's runs on shuffled segments have no search of their "
        "own: their parameters were tuned on ordered songs.",
        "",
        *primary_lines(models, primary, rival, comparisons, knobs),
        f"## Differences from the {rnn}, with 95% intervals",
        "",
        "| Comparison | Test: difference [95% interval], points | Verdict (test) | "
        "Validation (selected on these songs): difference [95% interval], points |",
        "|---|---|---|---|",
    ]
    for c in comparisons:
        test_verdict = c.test.verdict(rnn) if c.test else "no test split: no verdict"
        lines.append(f"| {c.name} | {interval_text(c.test)} | {test_verdict} | "
                     f"{interval_text(c.valid)} |")
    methods = sorted({c.valid.method for c in comparisons})
    lines.append("")
    if has_test:
        lines.append(
            "Test: difference of mean test accuracies (best-epoch weights). Interval: a "
            "two-level bootstrap that resamples the seeds of each model (with replacement, "
            "independently per model: the seeds each model ran under, as in the first "
            "table) and then the test songs (the same resampled songs for both sides: "
            "paired, checked by track ID), and recomputes the difference of the mean "
            f"accuracies ({resamples} resamples, seed {bootstrap_seed}, percentile interval; "
            "each comparison's method in summary.json), so it covers what other seeds would "
            "give, not only these runs. A single run (such as the deterministic "
            "song-statistics fit) adds no seed spread of its own.")
        single = [models[key].label for key in models
                  if key != primary and len(models[key].tests) == 1]
        if len(models[primary].tests) == 1 and single:
            lines.append(
                f"Here the {rnn} ran under one seed, as did the {', '.join(single)}: those "
                "intervals cover the test songs only and leave out the seeds' spread, so "
                "they are too narrow for the procedure.")
        few = sorted({len(model.tests) for model in models.values()} - {0, 1})
        if few and few[0] < 5:
            lines.append(
                f"With {few[0]} seeds per model the seed level is thin: resampling n seeds "
                "keeps about (n - 1) / n of their spread, so the intervals lean narrow; more "
                "seeds (baseline.seeds, models.NAME.seeds) make them sharper.")
    lines += [
        "Validation: difference of the mean peak valid accuracies with a t interval across "
        f"seeds ({'; '.join(methods)}), descriptive only: selected on these songs, so no "
        "verdict.",
        "A verdict comes from the test column only, and names a winner only when its "
        "interval excludes 0.",
        "A model on shuffled segments uses the parameters its search tuned on ordered songs.",
        "",
        *order_lines(models, primary, order_pairs, order_comparisons),
        f"## The grid's best steps value ({best_steps}, selected) against the others",
        "",
        "Max valid accuracy over the grid's seeds. The best value is picked on these same "
        "validation numbers, so its lead is optimistic and no verdict is drawn; the p-values "
        f"are Holm-adjusted for the {len(steps_comparisons)} comparisons.",
        "",
        "| Comparison | Difference [95% interval], points | Holm-adjusted p |",
        "|---|---|---|",
        *[f"| {c.name} | {interval_text(c.valid)} | "
          f"{'–' if p is None else f'{p:.3f}'} |"
          for c, p in zip(steps_comparisons, steps_holm, strict=True)],
    ]
    if steps_comparisons:
        lines += ["", f"Interval: {steps_comparisons[0].valid.method}."]
    record = {
        "chance": chance,
        "data": None if provenance is None else {"source": provenance.source,
                                                 "songs": provenance.songs},
        "models": [{"key": m.key, "label": m.label, "parameters": m.parameters,
                    "valid": m.valid, "test_best_epoch": m.test_accuracies("best_epoch"),
                    "test_final": m.test_accuracies("final"),
                    "budget": None if m.budget is None else vars(m.budget)}
                   for m in models.values()],
        "primary": primary,
        "primary_comparison": None if rival is None else rival,
        "comparisons": [_comparison_record(c) for c in comparisons],
        "order_comparisons": [_comparison_record(c) for c in order_comparisons],
        "searches": {key: {"best": search.best, "names": list(search.names),
                           "trials": len(search.trials)} for key, search in searches.items()},
        "grid_best_steps": best_steps,
        "grid_comparisons": [{**_comparison_record(c), "holm_p": p}
                             for c, p in zip(steps_comparisons, steps_holm, strict=True)],
    }
    return "\n".join(lines) + "\n", record


def primary_lines(models: dict[str, Model], primary: str, rival: str | None,
                  comparisons: Sequence[Comparison], knobs: dict[str, list[str]]
                  ) -> list[str]:
    """The primary comparison: the study's model against its strongest opponent, chosen on
    validation, and what the opponents' searches tune that the primary's does not."""
    rnn = models[primary].label
    if rival is None:
        return ["## The primary comparison", "",
                f"No other model is listed (config models:): the {rnn} is compared with "
                "its controls only.", ""]
    chosen = models[rival]
    lines = ["## The primary comparison", "",
             f"The strongest opponent, chosen on validation (the highest mean peak valid "
             f"accuracy of its runs, {pct(float(np.mean(chosen.valid)))} over "
             f"{len(chosen.valid)} seed{'s' if len(chosen.valid) != 1 else ''}), is the "
             f"{chosen.label}; the {rnn} against it is the primary comparison, tested on "
             "the test songs (its row first in the table below). Every other model is "
             "still listed."]
    first = comparisons[0]
    if first.test is not None:
        lines.append(f"Primary comparison, test: {interval_text(first.test)} points, "
                     f"{first.test.verdict(rnn)}.")
    extra = {key: names for key, names in knobs.items() if names}
    if extra:
        listed = "; ".join(f"{models[key].label}: {', '.join(names)}"
                           for key, names in extra.items())
        lines.append(f"The opponents' searches tune knobs that the search of the {rnn} lacks "
                     f"({listed}). A regulariser such as dropout can only help an "
                     "opponent on held-out songs, so these knobs only make an 'RNN higher' "
                     "verdict harder to earn.")
    return [*lines, ""]


def order_lines(models: dict[str, Model], primary: str, pairs: Sequence[tuple[str, str]],
                comparisons: Sequence[Comparison]) -> list[str]:
    """'Recurrence or only order?': the RNN against a non-recurrent model that can use the
    order of the segments, and each model against its runs on shuffled segments."""
    rnn = models[primary].label
    lines = ["## Recurrence or only order?", "",
             "The shuffled-segment runs ask whether order matters to a model; the "
             f"{rnn} against a non-recurrent model that sees the order (a temporal "
             "convolutional network, models." + ORDER_MODEL + ") asks whether recurrence "
             "adds anything beyond order."]
    if ORDER_MODEL not in models:
        lines.append(f"No such model is listed (models.{ORDER_MODEL}), so this study "
                     "answers the first question only.")
    if not pairs:
        return [*lines, "No model ran on shuffled segments (models.NAME.shuffled).", ""]
    lines += ["", "| Comparison | Test: difference [95% interval], points | Verdict (test) | "
              "Validation (selected on these songs): difference [95% interval], points |",
              "|---|---|---|---|"]
    for (first, _), c in zip(pairs, comparisons, strict=True):
        verdict = (c.test.verdict(models[first].label) if c.test
                   else "no test split: no verdict")
        lines.append(f"| {c.name} | {interval_text(c.test)} | {verdict} | "
                     f"{interval_text(c.valid)} |")
    return [*lines, ""]


def _interval_record(interval: Interval | None, first: str, verdict: bool) -> dict | None:
    if interval is None:
        return None
    return {"difference": interval.difference, "low": interval.low, "high": interval.high,
            "method": interval.method, "p": interval.p,
            "verdict": interval.verdict(first) if verdict else None}


def _comparison_record(comparison: Comparison) -> dict:
    return {"name": comparison.name,
            "valid": _interval_record(comparison.valid, "first", verdict=False),
            "test": _interval_record(comparison.test, "first", verdict=True)}
