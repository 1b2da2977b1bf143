"""Build dataset.h5 from MSD track files, the synthetic tree, or the course's npz files.

Example: python workflow_scripts/prepare_dataset.py --source synthetic \
    --msd-root results/data/synthetic --per-genre 100 --per-genre-test 30 \
    --out results/data/dataset.h5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from msdrnn.cli import names, run
from msdrnn.dataset import DataConfig, prepare_dataset
from msdrnn.study import GENRES
from msdrnn.synthetic import LABEL_FILE


def main(argv: list[str] | None = None) -> int:
    defaults = DataConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["synthetic", "msd_h5", "npz"],
                        default=defaults.source)
    parser.add_argument("--msd-root", default="")
    parser.add_argument("--labels", default="",
                        help="tagtraum .cls file (synthetic: defaults to the tree's own)")
    parser.add_argument("--npz-dir", default="")
    parser.add_argument("--genres", type=names, default=list(GENRES))
    parser.add_argument("--segments", type=int, default=defaults.segments)
    parser.add_argument("--per-genre", type=int, default=defaults.per_genre)
    parser.add_argument("--per-genre-test", type=int, default=defaults.per_genre_test)
    parser.add_argument("--valid-fraction", type=float, default=defaults.valid_fraction)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--on-bad-file", choices=["stop", "skip"], default=defaults.on_bad_file)
    parser.add_argument("--allow-short-genres", action=argparse.BooleanOptionalAction,
                        default=defaults.allow_short_genres)
    parser.add_argument("--standardize-npz", action=argparse.BooleanOptionalAction,
                        default=defaults.standardize_npz)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--out", required=True)
    parser.add_argument("--skipped",
                        help="TSV of the files left out (default: dataset.skipped.tsv beside "
                             "--out)")
    args = parser.parse_args(argv)
    if args.source == "synthetic" and not args.labels:
        args.labels = str(Path(args.msd_root, LABEL_FILE))
    config = DataConfig(
        source=args.source, msd_root=args.msd_root, labels=args.labels, npz_dir=args.npz_dir,
        genres=tuple(args.genres), segments=args.segments, per_genre=args.per_genre,
        per_genre_test=args.per_genre_test, valid_fraction=args.valid_fraction,
        seed=args.seed, on_bad_file=args.on_bad_file,
        allow_short_genres=args.allow_short_genres, standardize_npz=args.standardize_npz,
        workers=args.workers)
    prepare_dataset(config, args.out, args.skipped)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
