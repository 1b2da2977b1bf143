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
(best-epoch weights) with msdrnn.stats.test_interval (a t interval over the seeds of each
model and the same test songs), paired by the songs' track IDs (msdrnn.paired). The
primary comparison, the primary model against its strongest opponent (chosen on
validation), is at 95%; every other comparison, in both tables, belongs to one family,
Holm-adjusted (msdrnn.stats.holm, holm_levels). The validation numbers are shown too,
with a t interval across seeds, but without a verdict: the RNN's parameters and every
run's best epoch are chosen on those same validation songs. The grid's steps values are
compared with the best of the others (Hsu's MCB, msdrnn.stats.mcb), which allows for
picking the best on the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from msdrnn import paired, verdicts
from msdrnn.results import describe_hparams
from msdrnn.stats import (
    BestComparison,
    Interval,
    holm,
    holm_levels,
    mcb,
    seed_interval,
    test_interval,
)

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


def compare(models: dict[str, Model], first_key: str, second_key: str) -> Comparison:
    """One model against another: validation and test intervals of first minus second (the
    test interval at 95%; ``families`` sets the level of a Holm family's member)."""
    first, second = models[first_key], models[second_key]
    valid = seed_interval(first.valid, second.valid)
    test = None
    if first.tests and second.tests:
        paired.check_same_songs(first.tests[0], first._path(0), second.tests[0],
                                second._path(0))
        test = test_interval(first.correctness(), second.correctness())
    return Comparison(f"{first.label} vs {second.label}", valid, test)


def families(models: dict[str, Model], pairs: Sequence[tuple[str, str]],
             primary: tuple[str, str] | None) -> dict[tuple[str, str], Comparison]:
    """Every comparison of the summary (first key, second key) -> Comparison: the primary
    one (the primary model against its strongest opponent on validation) at 95%, every
    other one, in both tables, in one Holm family: Holm-adjusted p-values, each test
    interval at the level of the Holm step that decided it (msdrnn.stats.holm_levels)."""
    unique = list(dict.fromkeys(pairs))
    comparisons = {pair: compare(models, *pair) for pair in unique}
    others = [pair for pair in unique if pair != primary]
    p_values = [comparisons[pair].test.p if comparisons[pair].test else None
                for pair in others]
    for pair, p, level in zip(others, holm(p_values), holm_levels(p_values), strict=True):
        c = comparisons[pair]
        test = c.test.at_level(level) if c.test and level is not None else c.test
        comparisons[pair] = Comparison(c.name, c.valid, test, "secondary", p)
    return comparisons


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


def strongest(models: dict[str, Model], keys: Sequence[str]) -> str | None:
    """The key with the highest mean peak valid accuracy (the first on a tie), or None: the
    primary model's opponent in the primary comparison, chosen on validation."""
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
                  shuffled: dict[str, str], provenance: Provenance | None = None,
                  aa_check: dict | None = None) -> tuple[str, dict]:
    """Markdown for results/summary.md and the same numbers as a dict (summary.json).

    ``models`` holds every run group by key, in the table's order: the compared models
    (``compared``, the config's order, ``primary`` among them), ``shuffled`` (model key ->
    the key of its shuffled-segment runs), ``baseline`` and ``song_stats`` if present.
    """
    chance = 1.0 / n_classes
    rnn = models[primary].label
    has_test = bool(models[primary].tests)
    per_steps = grid.groupby("steps")["max_valid_acc"].agg(["mean", "std", "count"])
    best_steps, steps_rows, steps_method = grid_comparisons(grid)
    grid_values = list(grid.loc[grid["steps"] == best_steps, "max_valid_acc"])
    opponents = [key for key in compared if key != primary]
    rival = strongest(models, opponents)
    others = ([rival] if rival else []) + [k for k in opponents if k != rival] + [
        key for key in (shuffled.get(primary), "song_stats", "baseline")
        if key in models]
    main_pairs = [(primary, key) for key in others]
    order_pairs = [(primary, ORDER_MODEL)] if ORDER_MODEL in opponents else []
    order_pairs += list(shuffled.items())
    family = families(models, [*main_pairs, *order_pairs],
                      (primary, rival) if rival else None)
    comparisons = [family[pair] for pair in main_pairs]
    order_comparisons = [family[pair] for pair in order_pairs]
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
        f"## Differences from the {rnn}",
        "",
        "| Comparison | Family (level) | Test: difference [interval], points | Verdict (test) "
        "| Validation (selected on these songs): difference [95% interval], points |",
        "|---|---|---|---|---|",
    ]
    for c in comparisons:
        test_verdict = c.test.verdict(rnn) if c.test else "no test split: no verdict"
        lines.append(f"| {c.name} | {verdicts.family_cell(c.family, c.test, c.holm_p)} | "
                     f"{interval_text(c.test)} | {test_verdict} | {interval_text(c.valid)} |")
    methods = sorted({c.valid.method for c in comparisons})
    lines.append("")
    if has_test:
        lines += verdicts.test_lines(
            {m.label: len(m.tests) for m in models.values()},
            comparisons[0].name if rival else None,
            sum(c.family == "secondary" for c in family.values()))
    lines += [
        "Validation: difference of the mean peak valid accuracies with a t interval across "
        f"seeds ({'; '.join(methods)}), descriptive only: selected on these songs, so no "
        "verdict.",
        "A verdict comes from the test column only, and names a winner only when its "
        "interval excludes 0.",
        "A model on shuffled segments uses the parameters its search tuned on ordered songs.",
        *([""] + verdicts.aa_check_lines(aa_check, rnn, primary) if aa_check else []),
        "",
        *order_lines(models, primary, order_pairs, order_comparisons),
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
        "primary": primary,
        "primary_comparison": None if rival is None else rival,
        "comparisons": [_comparison_record(c) for c in comparisons],
        "order_comparisons": [_comparison_record(c) for c in order_comparisons],
        "searches": {key: {"best": search.best, "names": list(search.names),
                           "trials": len(search.trials)} for key, search in searches.items()},
        "grid_best_steps": best_steps,
        "grid_method": steps_method,
        "grid_comparisons": [vars(row) for row in steps_rows],
        "aa_check": aa_check,
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
    lines += ["", "| Comparison | Family (level) | Test: difference [interval], points | "
              "Verdict (test) | Validation (selected on these songs): difference [95% "
              "interval], points |",
              "|---|---|---|---|---|"]
    for (first, _), c in zip(pairs, comparisons, strict=True):
        verdict = (c.test.verdict(models[first].label) if c.test
                   else "no test split: no verdict")
        lines.append(f"| {c.name} | {verdicts.family_cell(c.family, c.test, c.holm_p)} | "
                     f"{interval_text(c.test)} | {verdict} | {interval_text(c.valid)} |")
    return [*lines, "", "The same families as above: a comparison of both tables is "
            "one comparison, at the same level.", ""]


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
