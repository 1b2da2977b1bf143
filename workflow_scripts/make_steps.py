"""Write the per-step segment arrays: inputs as (N, parts, steps, 25).

Example: python workflow_scripts/make_steps.py --dataset results/data/dataset.h5 \
    --steps 6 --out results/data/steps_6.h5
"""

from __future__ import annotations

import argparse
import sys

from msdrnn.cli import run
from msdrnn.steps import make_steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    make_steps(args.dataset, args.steps, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
