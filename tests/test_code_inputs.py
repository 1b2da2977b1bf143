"""Each rule's code inputs are exactly the project files its script loads.

`rules/common.smk` derives a rule's code inputs from its script's import statements
(`msdrnn/code_inputs.py`, no list kept by hand). The end-to-end test runs the smoke study
with a `sitecustomize` that records, when each workflow script exits, which project files
Python actually loaded (lazy imports included, since every job really runs on real data),
and compares them with the inputs Snakemake declares for that rule's jobs. It then edits
each module in turn and checks that a dry run reruns exactly the jobs whose scripts load
it (everything else that reruns does so only because an input was recomputed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
from helpers import ROOT, copy_repo

from msdrnn.code_inputs import project_modules

SMOKE = "configs/smoke.yaml"
SCRIPTS = "workflow_scripts"

# Installed through PYTHONPATH for the study's jobs: at exit, a workflow script appends the
# project files it loaded to $MSDRNN_LOADED_MODULES, one JSON line per process.
RECORDER = textwrap.dedent('''
    import atexit
    import json
    import os
    import sys


    def _record():
        scripts = os.path.realpath(os.environ["MSDRNN_SCRIPTS_DIR"])
        script = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        if os.path.dirname(script) != scripts:
            return
        loaded = sorted({
            os.path.relpath(os.path.realpath(module.__file__), os.path.dirname(scripts))
            for module in list(sys.modules.values())
            if getattr(module, "__file__", None)
            and os.path.realpath(module.__file__).startswith(scripts + os.sep)
        })
        line = json.dumps({"script": os.path.basename(script), "loaded": loaded})
        with open(os.environ["MSDRNN_LOADED_MODULES"], "a") as f:
            f.write(line + "\\n")


    atexit.register(_record)
''')


# ---------------------------------------------------------------- the parser, on its own


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_imports_are_followed_transitively_lazily_and_relatively(tmp_path: Path):
    root = tmp_path / "scripts"
    script = write(root / "job.py", """
        import json
        from typing import TYPE_CHECKING

        import numpy as np

        from pkg import direct
        from pkg.sub import deep

        if TYPE_CHECKING:
            from pkg import typing_only

        def later():
            from pkg import lazy
    """)
    write(root / "pkg/__init__.py", "")
    write(root / "pkg/direct.py", "from . import sibling\n")
    write(root / "pkg/sibling.py", "import pkg.sub\n")
    write(root / "pkg/sub/__init__.py", "")
    write(root / "pkg/sub/deep.py", "from ..direct import *\n")
    write(root / "pkg/lazy.py", "")
    write(root / "pkg/typing_only.py", "")
    write(root / "pkg/unused.py", "")
    found = {path.relative_to(root).as_posix() for path in project_modules(script)}
    assert found == {"job.py", "pkg/__init__.py", "pkg/direct.py", "pkg/sibling.py",
                     "pkg/sub/__init__.py", "pkg/sub/deep.py", "pkg/lazy.py"}


def test_a_module_outside_the_scripts_folder_is_not_followed(tmp_path: Path):
    write(tmp_path / "elsewhere.py", "")
    script = write(tmp_path / "scripts/job.py", "import elsewhere\nimport os.path\n")
    assert project_modules(script) == [script.resolve()]


def test_a_constant_is_read_from_its_one_definition(tmp_path: Path):
    from msdrnn.code_inputs import literal

    module = write(tmp_path / "m.py", """
        import numpy
        OUTPUTS = ("a.npz", "b.csv")
        FORMATS: tuple[str, ...] = ("png",)
    """)
    assert literal(module, "OUTPUTS") == ("a.npz", "b.csv")
    assert literal(module, "FORMATS") == ("png",)
    with pytest.raises(LookupError, match="MISSING"):
        literal(module, "MISSING")


def test_job_sizing_is_no_code_input_of_a_training_or_evaluation_job():
    """msdrnn/resources.py sizes the jobs and imports the model families for their FLOPs;
    nothing a training or evaluation job loads may import it back, for any registered
    family, or every edit of the sizing would rerun those jobs (as rules/common.smk's
    code_inputs(script, model) composes them: the script's imports and the family's)."""
    from msdrnn.models import available, family_path

    scripts = ROOT / SCRIPTS
    sizing = (scripts / "msdrnn/resources.py").resolve()
    assert available(), "no model family registered"
    for model in available():
        for script in ("train.py", "evaluate.py"):
            files = {*project_modules(scripts / script),
                     *project_modules(family_path(model), root=scripts)}
            assert family_path(model).resolve() in files, (script, model)
            assert sizing not in files, (script, model)


# ---------------------------------------------------------------- the smoke study


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> str:
    result = subprocess.run(["snakemake", "--cores", "2", "--configfile", SMOKE, *args],
                            cwd=workdir, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout + result.stderr


def planned(workdir: Path, *args: str) -> list[dict]:
    """The jobs a dry run plans: rule, declared inputs, script and reason of each."""
    jobs = []
    for block in snakemake(workdir, "-n", "-p", *args).split("\n\n"):
        rule = re.search(r"^(?:local)?rule (\w+):$", block, flags=re.M)
        if not rule:
            continue
        inputs = re.search(r"^\s+input: (.*)$", block, flags=re.M)
        outputs = re.search(r"^\s+output: (.*)$", block, flags=re.M)
        script = re.search(rf"python (?:\S*/)?{SCRIPTS}/(\w+\.py)", block)
        reason = re.search(r"^\s+reason: (.*)$", block, flags=re.M)
        jobs.append({
            "rule": rule[1],
            "inputs": inputs[1].split(", ") if inputs else [],
            "outputs": tuple(sorted(outputs[1].split(", "))) if outputs else (),
            "script": script[1] if script else None,
            "reason": reason[1] if reason else "",
        })
    return jobs


def with_dependents(jobs: list[dict], chosen: list[dict]) -> set[tuple]:
    """The outputs of the chosen jobs and of every job that needs their outputs, directly
    or through others (each job named by its outputs)."""
    made_by = {path: job["outputs"] for job in jobs for path in job["outputs"]}
    needs = {job["outputs"]: {made_by[path] for path in job["inputs"] if path in made_by}
             for job in jobs}
    found = {job["outputs"] for job in chosen}
    while True:
        more = {job for job, upstream in needs.items() if upstream & found} - found
        if not more:
            return found
        found |= more


@pytest.fixture(scope="module")
def recorded_study(tmp_path_factory) -> tuple[Path, dict[str, set[str]]]:
    """A completed smoke study, and script -> project files its jobs loaded (union)."""
    workdir = copy_repo(tmp_path_factory.mktemp("code_inputs"))
    recorder = tmp_path_factory.mktemp("recorder")
    (recorder / "sitecustomize.py").write_text(RECORDER)
    record = recorder / "loaded.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
               filter(None, [str(recorder), os.environ.get("PYTHONPATH")])),
           "MSDRNN_SCRIPTS_DIR": str(workdir / SCRIPTS),
           "MSDRNN_LOADED_MODULES": str(record)}
    snakemake(workdir, env=env)
    loaded: dict[str, set[str]] = defaultdict(set)
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        loaded[entry["script"]] |= set(entry["loaded"])
    return workdir, dict(loaded)


@pytest.mark.slow
def test_every_rule_declares_exactly_the_project_files_its_script_loads(recorded_study):
    workdir, loaded = recorded_study
    jobs = [job for job in planned(workdir, "--forceall") if job["script"]]
    assert {job["script"] for job in jobs} == set(loaded), "a script ran without a record"
    for job in jobs:
        declared = {path for path in job["inputs"] if path.startswith(f"{SCRIPTS}/")}
        assert declared == loaded[job["script"]], (job["rule"], declared ^ loaded[job["script"]])


@pytest.mark.slow
def test_editing_a_module_reruns_exactly_the_jobs_whose_scripts_load_it(recorded_study):
    """After an edit of one module, a dry run plans the jobs whose scripts load it and
    what depends on their outputs, nothing else; and every job that reruns for an updated
    input file (not for a recomputed one) names the edited module as that file."""
    workdir, loaded = recorded_study
    assert planned(workdir) == []
    every_job = planned(workdir, "--forceall")
    modules = sorted(path.relative_to(workdir).as_posix()
                     for path in (workdir / SCRIPTS).rglob("*.py"))
    assert f"{SCRIPTS}/msdrnn/models/rnn.py" in modules
    for module in modules:
        path = workdir / module
        original, stat = path.read_text(), path.stat()
        try:
            path.write_text(original + "\n# edited\n")
            jobs = planned(workdir)
        finally:
            path.write_text(original)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        loading = [job for job in every_job
                   if job["script"] and module in loaded[job["script"]]]
        assert {job["outputs"] for job in jobs if job["rule"] != "all"} == (
            with_dependents(every_job, loading) - {()}), module
        for job in jobs:
            if "Updated input files" in job["reason"]:
                assert job["reason"] == f"Updated input files: {module}", (module, job)
                assert job["outputs"] in {j["outputs"] for j in loading}, (module, job)
