"""Write results/summary.md: the research question answered in one table.

    python workflow_scripts/write_summary.py --n-classes 10 \
        --baseline results/baseline/history.csv --grid results/grid/summary.csv \
        --trials results/bayes/trials.csv --best-params results/bayes/best.json \
        --best results/best/history.csv --mlp results/mlp/history.csv \
        [--best-test results/best/test_metrics.json --mlp-test results/mlp/test_metrics.json] \
        --out results/summary.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from msdrnn.results import read_history, read_json
from msdrnn.summary import build_summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-classes", type=int, required=True)
    for name in ("baseline", "grid", "trials", "best-params", "best", "mlp", "out"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    parser.add_argument("--best-test", type=Path)
    parser.add_argument("--mlp-test", type=Path)
    args = parser.parse_args(argv)

    text = build_summary(
        n_classes=args.n_classes,
        baseline=read_history(args.baseline),
        baseline_run=read_json(args.baseline.with_name("run.json")),
        grid=pd.read_csv(args.grid),
        trials=pd.read_csv(args.trials),
        best_params=read_json(args.best_params),
        best=read_history(args.best),
        mlp=read_history(args.mlp),
        mlp_run=read_json(args.mlp.with_name("run.json")),
        best_test=read_json(args.best_test) if args.best_test else None,
        mlp_test=read_json(args.mlp_test) if args.mlp_test else None,
    )
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
