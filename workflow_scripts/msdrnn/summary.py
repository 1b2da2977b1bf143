"""The study's answer (results/summary.md and results/summary.json). No TensorFlow.

Every model of the comparison is a ``Model``: its per-seed peak validation accuracies,
its per-seed test metrics (``evaluate.py``'s output) when there is a test split, and its
training budget. The RNN with the best parameters is compared with each other model.

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
from msdrnn.stats import Interval, bootstrap_interval, holm, seed_interval, song_correctness

RNN = "best"  # the model every comparison starts from
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


def compare(models: dict[str, Model], other: str, resamples: int, seed: int) -> Comparison:
    """The RNN with the best parameters against one other model."""
    first, second = models[RNN], models[other]
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


def build_summary(*, n_classes: int, grid: pd.DataFrame, trials: pd.DataFrame,
                  best_params: dict, models: dict[str, Model], resamples: int,
                  bootstrap_seed: int, provenance: Provenance | None = None
                  ) -> tuple[str, dict]:
    """Markdown for results/summary.md and the same numbers as a dict (summary.json).

    ``models`` holds ``best`` (the confirmation runs) and any of ``baseline``, ``mlp``,
    ``shuffled_rnn`` and ``song_stats``.
    """
    chance = 1.0 / n_classes
    has_test = bool(models[RNN].tests)
    per_steps = grid.groupby("steps")["max_valid_acc"].agg(["mean", "std", "count"])
    best_steps, steps_comparisons, steps_holm = grid_comparisons(grid)
    trial = trials.loc[trials["objective"].idxmax()]
    grid_values = list(grid.loc[grid["steps"] == best_steps, "max_valid_acc"])
    comparisons = [compare(models, key, resamples, bootstrap_seed)
                   for key in ("mlp", "shuffled_rnn", "song_stats", "baseline")
                   if key in models]

    def test_cell(model: Model, section: str) -> str:
        return spread(model.test_accuracies(section)) if model.tests else "–"

    rows = [
        ("Chance level", f"{n_classes} genres", pct(chance), pct(chance), pct(chance)),
        ("Best steps of the grid (selected on these validation numbers)",
         f"steps {best_steps} of {len(per_steps)} values", spread(grid_values), "–", "–"),
        ("Bayesian search best (selected on these validation numbers, not a confirmation)",
         f"state {best_params['state_size']}, steps {best_params['steps']}, readout "
         f"(trial {int(trial['trial'])} of {len(trials)})",
         f"{pct(trial['max_valid_acc'])} (objective {pct(trial['objective'])})", "–", "–"),
        *[(m.label, m.parameters, spread(m.valid), test_cell(m, "best_epoch"),
           test_cell(m, "final")) for m in models.values()],
    ]
    rnn = models[RNN].label
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
        "Trainable parameters: counted from the weights file. Adam updates per epoch: the "
        "RNN makes one per part of a batch (batches x parts), the feedforward network one "
        "per batch (from run.json). The RNN on shuffled segments has no search of its own: "
        "its parameters were tuned on ordered songs.",
        "",
        f"## Differences from the {rnn}, with 95% intervals",
        "",
        "| Comparison | Test: difference [95% interval], points | Verdict (test) | "
        "Validation (selected on these songs): difference [95% interval], points |",
        "|---|---|---|---|",
    ]
    for c in comparisons:
        test_verdict = c.test.verdict("RNN") if c.test else "no test split: no verdict"
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
                  if key != RNN and len(models[key].tests) == 1]
        if len(models[RNN].tests) == 1 and single:
            lines.append(
                f"Here the {rnn} ran under one seed, as did the {', '.join(single)}: those "
                "intervals cover the test songs only and leave out the seeds' spread, so "
                "they are too narrow for the procedure.")
        few = sorted({len(model.tests) for model in models.values()} - {0, 1})
        if few and few[0] < 5:
            lines.append(
                f"With {few[0]} seeds per model the seed level is thin: resampling n seeds "
                "keeps about (n - 1) / n of their spread, so the intervals lean narrow; more "
                "seeds (baseline.seeds, best.seeds, mlp.seeds) make them sharper.")
    lines += [
        "Validation: difference of the mean peak valid accuracies with a t interval across "
        f"seeds ({'; '.join(methods)}), descriptive only: selected on these songs, so no "
        "verdict.",
        "A verdict comes from the test column only, and names a winner only when its "
        "interval excludes 0.",
        "The RNN on shuffled segments uses the parameters the search tuned on ordered songs.",
        "",
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
        "comparisons": [_comparison_record(c) for c in comparisons],
        "grid_best_steps": best_steps,
        "grid_comparisons": [{**_comparison_record(c), "holm_p": p}
                             for c, p in zip(steps_comparisons, steps_holm, strict=True)],
    }
    return "\n".join(lines) + "\n", record


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
