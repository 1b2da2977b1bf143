"""Write the synthetic MSD-format tree and tagtraum label file (not real music).

Example: python workflow_scripts/generate_synthetic.py --out-dir results/data/synthetic \
    --genres Rap,Rock,RnB,Electronic,Metal,Blues,Pop,Jazz,Country,Reggae \
    --tracks-per-genre 150 --seed 0
"""

from __future__ import annotations

import argparse
import sys

from msdrnn.cli import names, run
from msdrnn.synthetic import generate_tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--genres", type=names, required=True)
    parser.add_argument("--tracks-per-genre", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--aggregate-files", type=int, default=1)
    parser.add_argument("--extra-genres", type=names, default=["Folk", "Latin"],
                        help="labels outside --genres given to a few tracks")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    generate_tree(args.out_dir, args.genres, args.tracks_per_genre, args.seed,
                  aggregate_files=args.aggregate_files, extra_genres=args.extra_genres,
                  workers=args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
