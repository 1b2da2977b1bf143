"""The study's answer in one Markdown table (results/summary.md). No TensorFlow."""

from __future__ import annotations

import pandas as pd

from msdrnn.results import describe_run, peak

NOISE_FACTOR = 2.0  # a difference under 2 seed standard deviations counts as noise


def seed_noise(grid: pd.DataFrame) -> float | None:
    """Pooled standard deviation over seeds of the grid's max valid accuracy, or None with
    a single seed (then noise cannot be told from signal)."""
    spread = grid.groupby("steps")["max_valid_acc"].std(ddof=1).dropna()
    return float((spread**2).mean() ** 0.5) if len(spread) else None


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def build_summary(
    *,
    n_classes: int,
    baseline: pd.DataFrame,
    baseline_run: dict,
    grid: pd.DataFrame,
    trials: pd.DataFrame,
    best_params: dict,
    best: pd.DataFrame,
    mlp: pd.DataFrame,
    mlp_run: dict,
    best_test: dict | None = None,
    mlp_test: dict | None = None,
) -> str:
    """Markdown: the table of every experiment, then which differences are within noise."""
    noise = seed_noise(grid)
    per_steps = grid.groupby("steps")["max_valid_acc"].agg(["mean", "std", "count"])
    best_steps = per_steps["mean"].idxmax()
    grid_best = per_steps.loc[best_steps]
    spread = f" ± {_pct(grid_best['std'])} (sd, {int(grid_best['count'])} seeds)" \
        if grid_best["count"] > 1 else " (1 seed)"
    base_acc, base_epoch = peak(baseline)
    best_acc, best_epoch = peak(best)
    mlp_acc, mlp_epoch = peak(mlp)
    trial = trials.loc[trials["objective"].idxmax()]
    chance = 1.0 / n_classes

    def test(metrics: dict | None) -> str:
        return _pct(metrics["accuracy"]) if metrics else "–"

    rows = [
        ("Chance level", f"{n_classes} genres", _pct(chance), _pct(chance)),
        ("Baseline RNN", f"{describe_run(baseline_run)}, {len(baseline)} epochs",
         f"{_pct(base_acc)} (epoch {base_epoch})", "–"),
        ("Best steps of the grid", f"steps {best_steps} of {len(per_steps)} values",
         _pct(grid_best["mean"]) + spread, "–"),
        ("Bayesian search best", f"state {best_params['state_size']}, steps "
         f"{best_params['steps']}, readout (trial {int(trial['trial'])} of {len(trials)})",
         f"{_pct(trial['max_valid_acc'])} (objective {_pct(trial['objective'])})", "–"),
        ("RNN with the best parameters", f"state {best_params['state_size']}, steps "
         f"{best_params['steps']}, readout, {len(best)} epochs",
         f"{_pct(best_acc)} (epoch {best_epoch})", test(best_test)),
        ("Feedforward network (non-recurrent)", f"{describe_run(mlp_run)}, {len(mlp)} epochs",
         f"{_pct(mlp_acc)} (epoch {mlp_epoch})", test(mlp_test)),
    ]
    lines = [
        "# Can a basic RNN classify MSD-10 genres better than non-recurrent models?",
        "",
        "| Experiment | Parameters | Peak valid accuracy | Test accuracy |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        "## Which differences are within seed noise",
        "",
    ]
    if noise is None:
        lines.append(
            "The grid ran one seed, so seed noise is unknown: set `grid.seeds` to several "
            "seeds to tell differences from noise."
        )
    else:
        lines.append(
            f"Seed noise: pooled standard deviation of the grid's max valid accuracy over "
            f"seeds = {_pct(noise)}; differences under {NOISE_FACTOR:g} sd "
            f"({_pct(NOISE_FACTOR * noise)}) count as noise."
        )
        lines.append("")
        comparisons = [
            ("best run vs feedforward", best_acc - mlp_acc),
            ("best run vs baseline", best_acc - base_acc),
            ("best grid steps vs baseline", grid_best["mean"] - base_acc),
            ("feedforward vs chance", mlp_acc - chance),
        ]
        close = per_steps.index[per_steps["mean"] >= grid_best["mean"] - NOISE_FACTOR * noise]
        for name, diff in comparisons:
            verdict = "within noise" if abs(diff) < NOISE_FACTOR * noise else "beyond noise"
            lines.append(f"- {name}: {100 * diff:+.2f} points, {verdict}")
        lines.append(
            f"- grid steps values within noise of the best ({best_steps}): "
            + ", ".join(str(k) for k in close)
        )
    return "\n".join(lines) + "\n"
