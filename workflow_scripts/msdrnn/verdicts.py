"""The summary's words about its statistics: what the test intervals cover at the seed
counts the config ran, the families of verdicts, the grid's comparison with the best, and
the A/A check. No TensorFlow; text only (the numbers come from msdrnn.stats).
"""

from __future__ import annotations

from msdrnn.stats import BestComparison, Interval

ALPHA = 0.05


def family_cell(family: str, test: Interval | None, holm_p: float | None) -> str:
    """'primary (95%)' or 'Holm family (98.33%; adjusted p 0.041)'."""
    if family == "primary":
        return "primary (95%)"
    if test is None or holm_p is None:
        return "Holm family"
    return f"Holm family ({100 * test.level:.2f}%; adjusted p {p_text(holm_p)})"


def p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def test_lines(seed_counts: dict[str, int], primary: str | None, secondary: int) -> list[str]:
    """What the test intervals are, what they cover at these seed counts (model label ->
    runs on test), and how the comparisons are grouped into families (``primary``: the
    primary comparison's name; ``secondary``: how many comparisons the Holm family has)."""
    counts = ", ".join(f"{label} {n}" for label, n in seed_counts.items())
    single = [label for label, n in seed_counts.items() if n == 1]
    lines = [
        "Test: difference of mean test accuracies (best-epoch weights), the songs paired by "
        "track ID. Interval: a t interval whose variance adds, for each model with two or "
        "more seeds, how much its accuracy moves between seeds beyond the seed-by-song "
        "noise, and the spread of the paired per-song differences over the test songs "
        "(Satterthwaite degrees of freedom; docs/statistics.md).",
        "It covers the expected test accuracy of each training procedure over seeds and "
        "over songs like these test songs, for this fixed data split and the parameters "
        "the one search chose (neither is redrawn). Seeds (runs on test) per model: "
        f"{counts}."
        + (f" A model with one run ({', '.join(single)}) adds no seed spread: a comparison "
           "with one run on both sides covers the test songs only, not other seeds."
           if single else ""),
    ]
    if 2 in seed_counts.values():
        lines.append(
            "With 2 seeds a model's seed spread rests on 1 degree of freedom: when its seeds "
            "differ, the interval widens a lot (a t multiplier up to 12.7) to keep its "
            "coverage; docs/statistics.md measures it at 2, 3, 5 and 10 seeds per side.")
    if primary:
        lines.append(
            f"Families: the primary comparison is {primary}, the study's model "
            "(summary.primary) against the other listed model with the highest mean peak "
            "validation accuracy (chosen on validation, tested on test), at the full 95%."
            + (f" The other {secondary} comparisons are one family: Holm-adjusted p-values "
               "(family-wise error at most 5%), each interval shown at the level of the Holm "
               "step that decided it (the first step's is Bonferroni's, "
               f"{100 * (1 - ALPHA / secondary):.2f}%), so that an interval excludes 0 "
               "exactly when its adjusted p is below 0.05." if secondary else ""))
    return lines


def grid_lines(best: int, rows: list[BestComparison], method: str, seeds: int) -> list[str]:
    """The grid section: every steps value against the best of the others (Hsu's MCB), or
    why no comparison is possible."""
    lines = [f"## The grid's steps values against the best of the others ({best} selected)",
             ""]
    if not rows:
        return lines + [
            f"No comparison is possible: {method} (grid.seeds has {seeds}). The grid's "
            "numbers (first table, figure) are descriptive: the selected value is only the "
            "highest on these validation songs."]
    lines += [
        "Max valid accuracy over the grid's seeds, on the validation songs the best value "
        "is picked on. For each steps value: its mean minus the highest mean of the other "
        f"values, with intervals that hold together at 95% for all {len(rows)} values "
        "whichever one the data make look best (Hsu's multiple comparisons with the best, "
        "MCB), so picking the best on these same numbers is allowed for. Descriptive of "
        "the grid; no verdict on the study's question.",
        "",
        "| Steps | Mean max valid accuracy | Minus the best of the others [simultaneous "
        "95% interval], points | MCB p | Reading |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row.key}{' (selected)' if row.key == best else ''} | "
                     f"{100 * row.mean:.2f}% | {100 * row.difference:+.2f} "
                     f"[{100 * row.low:+.2f}, {100 * row.high:+.2f}] | {p_text(row.p)} | "
                     f"{row.reading()} |")
    return lines + [
        "",
        f"Method: {method}. MCB p: how surely a value behind is not the best, or the "
        "leader is the best; its interval ends at 0 (below it for a value behind, above "
        "it for the leader) exactly when its p is below 0.05."]


def aa_check_lines(record: dict, label: str, primary: str) -> list[str]:
    """The A/A check's result (aa_check.py's JSON) in one paragraph: runs of the primary
    model (key ``primary``, shown as ``label``) under extra seeds."""
    return [
        f"A/A check ({record['path']}): {record['runs']} runs of the {label} under "
        f"calibration.seeds, split {record['splits']:,} ways "
        f"({'all of them' if record['all_splits'] else 'drawn at random'}) into two groups "
        f"of {record['group']} runs, as many as models.{primary}.seeds: "
        f"{100 * record['verdict_share']:.1f}% of the splits gave a verdict where there is "
        "no difference (the rule allows 5%); the seed sd of test accuracy is "
        f"{100 * record['seed_sd']:.2f} points."]
