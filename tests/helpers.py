"""What several test files share: the repository root, copies of the workflow, data
builders and script runners. Test files import this module, never each other."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "workflow_scripts", "configs",
                  "schemas", "report", "envs", "profiles")


def copy_repo(dest: Path) -> Path:
    """The workflow's files (no results, no .snakemake) in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest
