"""The study's answer (results/summary.md and results/summary.json). No TensorFlow.

Every model of the comparison is a ``Model``: its per-seed peak validation accuracies,
its per-seed test metrics (``evaluate.py``'s output) when there is a test split, and its
training budget. The RNN with the best parameters is compared with each other model.

Verdicts come from the held-out test songs only: the difference of mean test accuracies
(best-epoch weights) with msdrnn.stats.test_interval (a t interval over the seeds of each
model and the same test songs), paired by the songs' track IDs (msdrnn.paired). The
primary comparison, the RNN against the strongest non-recurrent model (chosen on
validation), is at 95%; the others form one family, Holm-adjusted (msdrnn.stats.holm,
holm_levels). The validation numbers are shown too, with a t interval across seeds, but
without a verdict: the RNN's parameters and every run's best epoch are chosen on those
same validation songs. The grid's steps values are compared with the best of the others
(Hsu's MCB, msdrnn.stats.mcb), which allows for picking the best on the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from msdrnn import paired, verdicts
from msdrnn.stats import (
    BestComparison,
    Interval,
    holm,
    holm_levels,
    mcb,
    seed_interval,
    test_interval,
)

RNN = "best"  # the model every comparison starts from
# Models without recurrence: the primary comparison is the RNN against the one of these
# with the highest mean peak validation accuracy (chosen on validation, tested on test).
NON_RECURRENT = ("mlp", "cnn", "song_stats")
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

    def correctness(self) -> np.ndarray:
        """(seeds, songs): 1 where a seed's best-epoch weights got a test song right."""
        return paired.correctness(self.tests, [self._path(i) for i in range(len(self.tests))])

    def _path(self, index: int) -> str:
        return self.test_paths[index] if index < len(self.test_paths) else self.label


@dataclass(frozen=True)
class Comparison:
    name: str
    valid: Interval
    test: Interval | None
    family: str = "primary"  # "primary" (95%) or "secondary" (Holm-adjusted)
    holm_p: float | None = None


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


def compare(models: dict[str, Model], other: str) -> Comparison:
    """The RNN with the best parameters against one other model (test interval at 95%)."""
    first, second = models[RNN], models[other]
    valid = seed_interval(first.valid, second.valid)
    test = None
    if first.tests and second.tests:
        paired.check_same_songs(first.tests[0], first._path(0), second.tests[0],
                                second._path(0))
        test = test_interval(first.correctness(), second.correctness())
    return Comparison(f"{first.label} vs {second.label}", valid, test)


def primary_model(models: dict[str, Model]) -> str | None:
    """The non-recurrent model present with the highest mean peak validation accuracy."""
    present = [key for key in NON_RECURRENT if key in models]
    return max(present, key=lambda key: float(np.mean(models[key].valid)), default=None)


def families(models: dict[str, Model], order: Sequence[str]) -> list[Comparison]:
    """Every comparison of the RNN, the primary one first at 95%, then the others as one
    Holm family: Holm-adjusted p-values, each test interval at the level of the Holm step
    that decided it (msdrnn.stats.holm_levels)."""
    primary = primary_model(models)
    keys = [key for key in order if key in models and key != RNN]
    comparisons = {key: compare(models, key) for key in keys}
    others = [key for key in keys if key != primary]
    p_values = [comparisons[key].test.p if comparisons[key].test else None for key in others]
    for key, p, level in zip(others, holm(p_values), holm_levels(p_values), strict=True):
        c = comparisons[key]
        test = c.test.at_level(level) if c.test and level is not None else c.test
        comparisons[key] = Comparison(c.name, c.valid, test, "secondary", p)
    return [comparisons[key] for key in ([primary] if primary else []) + others]


def grid_comparisons(grid: pd.DataFrame) -> tuple[int, list[BestComparison], str]:
    """The grid's best steps value (highest mean max valid accuracy over seeds), and every
    steps value against the best of the others with Hsu's MCB (simultaneous intervals that
    allow for picking the best on these same numbers), or the reason there are none."""
    per_steps = {int(k): list(g["max_valid_acc"]) for k, g in grid.groupby("steps")}
    best = max(per_steps, key=lambda k: (np.mean(per_steps[k]), -k))
    rows, method = mcb(per_steps)
    return best, rows, method


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
                  best_params: dict, models: dict[str, Model],
                  provenance: Provenance | None = None, aa_check: dict | None = None
                  ) -> tuple[str, dict]:
    """Markdown for results/summary.md and the same numbers as a dict (summary.json).

    ``models`` holds ``best`` (the confirmation runs) and any of ``baseline``, ``mlp``,
    ``shuffled_rnn`` and ``song_stats``.
    """
    chance = 1.0 / n_classes
    has_test = bool(models[RNN].tests)
    per_steps = grid.groupby("steps")["max_valid_acc"].agg(["mean", "std", "count"])
    best_steps, steps_rows, steps_method = grid_comparisons(grid)
    trial = trials.loc[trials["objective"].idxmax()]
    grid_values = list(grid.loc[grid["steps"] == best_steps, "max_valid_acc"])
    comparisons = families(models, ("mlp", "cnn", "shuffled_rnn", "song_stats", "baseline"))

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
        f"## Differences from the {rnn}",
        "",
        "| Comparison | Family (level) | Test: difference [interval], points | Verdict (test) "
        "| Validation (selected on these songs): difference [95% interval], points |",
        "|---|---|---|---|---|",
    ]
    for c in comparisons:
        test_verdict = c.test.verdict("RNN") if c.test else "no test split: no verdict"
        lines.append(f"| {c.name} | {verdicts.family_cell(c.family, c.test, c.holm_p)} | "
                     f"{interval_text(c.test)} | {test_verdict} | {interval_text(c.valid)} |")
    methods = sorted({c.valid.method for c in comparisons})
    lines.append("")
    if has_test:
        primary = [c for c in comparisons if c.family == "primary"]
        lines += verdicts.test_lines(
            {m.label: len(m.tests) for m in models.values()},
            primary[0].name if primary else None,
            sum(c.family == "secondary" for c in comparisons))
    lines += [
        "Validation: difference of the mean peak valid accuracies with a t interval across "
        f"seeds ({'; '.join(methods)}), descriptive only: selected on these songs, so no "
        "verdict.",
        "A verdict comes from the test column only, and names a winner only when its "
        "interval excludes 0.",
        "The RNN on shuffled segments uses the parameters the search tuned on ordered songs.",
        *([""] + verdicts.aa_check_lines(aa_check) if aa_check else []),
        "",
        *verdicts.grid_lines(best_steps, steps_rows, steps_method,
                             int(grid.groupby("steps").size().max())),
    ]
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
        "grid_method": steps_method,
        "grid_comparisons": [vars(row) for row in steps_rows],
        "aa_check": aa_check,
    }
    return "\n".join(lines) + "\n", record


def _interval_record(interval: Interval | None, first: str, verdict: bool) -> dict | None:
    if interval is None:
        return None
    return {"difference": interval.difference, "low": interval.low, "high": interval.high,
            "method": interval.method, "p": interval.p, "level": interval.level,
            "df": interval.df, "verdict": interval.verdict(first) if verdict else None}


def _comparison_record(comparison: Comparison) -> dict:
    return {"name": comparison.name, "family": comparison.family,
            "holm_p": comparison.holm_p,
            "valid": _interval_record(comparison.valid, "first", verdict=False),
            "test": _interval_record(comparison.test, "first", verdict=True)}
