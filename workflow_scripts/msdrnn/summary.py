"""The study's answer (results/summary.md and results/summary.json). No TensorFlow.

Every model of the comparison is a ``Model``: its per-seed peak validation accuracies and,
when there is a test split, its per-seed test metrics (``evaluate.py``'s two sections).
The RNN with the best parameters is compared with each other model; each difference gets
a 95% interval across seeds (validation) and a paired bootstrap interval over the test
songs (test, best-epoch weights), and the verdict in plain words follows from the interval
(``msdrnn.stats``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from msdrnn.errors import DataError
from msdrnn.stats import Interval, bootstrap_interval, seed_interval, song_correctness

RNN = "best"  # the model every comparison starts from


@dataclass
class Model:
    """One model of the comparison: what it is, and its numbers per seed."""

    key: str
    label: str
    parameters: str
    valid: list[float]
    tests: list[dict] = field(default_factory=list)  # evaluate.py outputs, one per seed

    def test_accuracies(self, section: str = "best_epoch") -> list[float]:
        return [metrics[section]["accuracy"] for metrics in self.tests]

    def correctness(self) -> np.ndarray:
        """Per test song, the fraction of seeds whose best-epoch weights got it right."""
        targets = self.tests[0]["targets"]
        for metrics in self.tests[1:]:
            if metrics["targets"] != targets:
                raise DataError(f"{self.label}: test metrics of different seeds are for "
                                "different test songs")
        return song_correctness([m["best_epoch"]["predicted"] for m in self.tests], targets)


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
        a, b = first.correctness(), second.correctness()
        if first.tests[0]["targets"] != second.tests[0]["targets"]:
            raise DataError(f"{first.label} and {second.label} were tested on different "
                            "songs: a paired comparison needs the same test songs")
        test = bootstrap_interval(a, b, resamples, seed)
    return Comparison(f"{first.label} vs {second.label}", valid, test)


def grid_comparisons(grid: pd.DataFrame) -> tuple[int, list[Comparison]]:
    """The grid's best steps value (highest mean max valid accuracy over seeds) against
    every other steps value, across seeds."""
    per_steps = {int(k): list(g["max_valid_acc"]) for k, g in grid.groupby("steps")}
    best = max(per_steps, key=lambda k: (np.mean(per_steps[k]), -k))
    return best, [Comparison(f"steps {best} vs steps {k}",
                             seed_interval(per_steps[best], values), None)
                  for k, values in per_steps.items() if k != best]


def build_summary(*, n_classes: int, grid: pd.DataFrame, trials: pd.DataFrame,
                  best_params: dict, models: dict[str, Model], resamples: int,
                  bootstrap_seed: int) -> tuple[str, dict]:
    """Markdown for results/summary.md and the same numbers as a dict (summary.json).

    ``models`` holds ``best`` (the confirmation runs) and any of ``baseline``, ``mlp``,
    ``shuffled_rnn`` and ``song_stats``.
    """
    chance = 1.0 / n_classes
    has_test = bool(models[RNN].tests)
    per_steps = grid.groupby("steps")["max_valid_acc"].agg(["mean", "std", "count"])
    best_steps, steps_comparisons = grid_comparisons(grid)
    trial = trials.loc[trials["objective"].idxmax()]
    grid_values = list(grid.loc[grid["steps"] == best_steps, "max_valid_acc"])
    comparisons = [compare(models, key, resamples, bootstrap_seed)
                   for key in ("mlp", "shuffled_rnn", "song_stats", "baseline")
                   if key in models]

    def test_cell(model: Model, section: str) -> str:
        return spread(model.test_accuracies(section)) if model.tests else "–"

    rows = [
        ("Chance level", f"{n_classes} genres", pct(chance), pct(chance), pct(chance)),
        ("Best steps of the grid", f"steps {best_steps} of {len(per_steps)} values",
         spread(grid_values), "–", "–"),
        ("Bayesian search best (selected, not a confirmation)",
         f"state {best_params['state_size']}, steps {best_params['steps']}, readout "
         f"(trial {int(trial['trial'])} of {len(trials)})",
         f"{pct(trial['max_valid_acc'])} (objective {pct(trial['objective'])})", "–", "–"),
        *[(m.label, m.parameters, spread(m.valid), test_cell(m, "best_epoch"),
           test_cell(m, "final")) for m in models.values()],
    ]
    rnn = models[RNN].label
    lines = [
        "# Can a basic RNN classify MSD-10 genres better than non-recurrent models?",
        "",
        "| Experiment | Parameters | Peak valid accuracy | Test accuracy (best-epoch "
        "weights) | Test accuracy (final weights) |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
        "",
        "Several seeds: mean ± sd over seeds. Peak valid accuracy: the highest validation "
        "accuracy of a run's epochs (for the song-statistics control, the validation "
        "accuracy of the C it kept). Test accuracy: the weights of the best validation epoch "
        "(the earliest on a tie; the primary number) and the final weights.",
        "",
        f"## Differences from the {rnn}, with 95% intervals",
        "",
        "| Comparison | Validation: difference [95% interval], points | Verdict | "
        "Test: difference [95% interval], points | Verdict |",
        "|---|---|---|---|---|",
    ]
    for c in comparisons:
        test_verdict = c.test.verdict("RNN") if c.test else "no test split"
        lines.append(f"| {c.name} | {interval_text(c.valid)} | {c.valid.verdict('RNN')} | "
                     f"{interval_text(c.test)} | {test_verdict} |")
    methods = sorted({c.valid.method for c in comparisons})
    lines += [
        "",
        "Validation: difference of the mean peak valid accuracies, with a t interval across "
        f"seeds ({'; '.join(methods)}). A single run counts as a fixed value, so the "
        "interval leaves out that run's own seed noise.",
    ]
    if has_test:
        lines.append(
            f"Test: difference of test accuracies (best-epoch weights) with a paired "
            f"bootstrap over the same test songs ({resamples} resamples, seed "
            f"{bootstrap_seed}, percentile interval); with several seeds a song counts as the "
            "fraction of seeds that classified it right.")
    lines.append("A verdict names a winner only when its interval excludes 0.")
    lines += [
        "",
        f"## The grid's best steps value ({best_steps}) against the others",
        "",
        "Max valid accuracy over the grid's seeds; the best value is picked on these same "
        "numbers, so its lead is optimistic.",
        "",
        "| Comparison | Difference [95% interval], points | Verdict |",
        "|---|---|---|",
        *[f"| {c.name} | {interval_text(c.valid)} | {c.valid.verdict(f'steps {best_steps}')} |"
          for c in steps_comparisons],
    ]
    if steps_comparisons:
        lines += ["", f"Interval: {steps_comparisons[0].valid.method}."]
    record = {
        "chance": chance,
        "models": [{"key": m.key, "label": m.label, "parameters": m.parameters,
                    "valid": m.valid, "test_best_epoch": m.test_accuracies("best_epoch"),
                    "test_final": m.test_accuracies("final")} for m in models.values()],
        "comparisons": [_comparison_record(c) for c in comparisons],
        "grid_best_steps": best_steps,
        "grid_comparisons": [_comparison_record(c) for c in steps_comparisons],
    }
    return "\n".join(lines) + "\n", record


def _interval_record(interval: Interval | None, first: str) -> dict | None:
    if interval is None:
        return None
    return {"difference": interval.difference, "low": interval.low, "high": interval.high,
            "method": interval.method, "verdict": interval.verdict(first)}


def _comparison_record(comparison: Comparison) -> dict:
    return {"name": comparison.name, "valid": _interval_record(comparison.valid, "first"),
            "test": _interval_record(comparison.test, "first")}
