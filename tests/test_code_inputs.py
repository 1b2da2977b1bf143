"""Each rule's code inputs are exactly the project files its script loads.

`rules/common.smk` derives a rule's code inputs from its script's import statements
(`msdrnn/code_inputs.py`, no list kept by hand). The session's smoke study (conftest.py)
runs with a `sitecustomize` that records, when each workflow script exits, which project
files Python actually loaded (lazy imports included, since every job really runs on real
data); the end-to-end tests compare them with the inputs Snakemake declares for that
rule's jobs (for train.py and evaluate.py, per --model: each job loads its own family),
then edit each module in turn (in copies of the study) and check that a dry run reruns
exactly the jobs whose scripts load it (everything else that reruns does so only because
an input was recomputed).
"""

from __future__ import annotations

import json
import os
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import (
    JOB_SIZING,
    RNN_FAMILY,
    ROOT,
    SCRIPTS,
    SCRIPTS_FOLDER,
    PlannedJob,
    copy_study,
    dry_run,
)

from msdrnn.code_inputs import ImportsCache, project_modules

EDITING_WORKERS = 2  # copies of the study edited side by side (dry runs are one process)


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


def every_script_modules(cache: ImportsCache | None) -> dict[str, list[Path]]:
    return {script.name: project_modules(script, cache=cache)
            for script in sorted(SCRIPTS.glob("*.py"))}


def test_the_imports_cache_gives_what_parsing_gives_and_parses_nothing_again(tmp_path):
    """What the rules use between Snakemake starts (rules/common.smk's IMPORTS_CACHE)."""
    expected = every_script_modules(None)
    assert len(expected) > 10 and any(len(files) > 5 for files in expected.values())
    file = tmp_path / ".snakemake" / "imports.json"  # a folder that does not exist yet
    first = ImportsCache(file)
    assert every_script_modules(first) == expected and first.parsed > 20
    first.save()
    again = ImportsCache(file)
    assert every_script_modules(again) == expected and again.parsed == 0
    again.save()  # parsed nothing: nothing to write
    assert [p.name for p in file.parent.iterdir()] == ["imports.json"]  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert file.stat().st_mode & 0o777 == 0o666 & ~umask  # as any file Snakemake writes


def test_an_edited_file_is_parsed_again_whatever_its_time_stamps_say(tmp_path):
    root = tmp_path / "scripts"
    script = write(root / "job.py", "import a\n")
    write(root / "a.py", "")
    write(root / "b.py", "")
    file = tmp_path / "imports.json"
    cache = ImportsCache(file)
    assert project_modules(script, cache=cache) == [(root / "a.py").resolve(), script.resolve()]
    cache.save()
    stamps = script.stat()
    script.write_text("import b\n")  # the same size, then the same time stamps
    os.utime(script, ns=(stamps.st_atime_ns, stamps.st_mtime_ns))
    cache = ImportsCache(file)
    assert project_modules(script, cache=cache) == [(root / "b.py").resolve(), script.resolve()]
    assert cache.parsed == 1


def test_the_same_bytes_in_two_packages_are_two_entries(tmp_path):
    """A relative import depends on the file's package, so the cache keys on it too."""
    root = tmp_path / "scripts"
    for package in ("one", "two"):
        write(root / package / "__init__.py", "")
        write(root / package / "m.py", "from . import x\n")
        write(root / package / "x.py", "")
    script = write(root / "job.py", "import one.m\nimport two.m\n")
    cache = ImportsCache()
    found = {path.relative_to(root).as_posix() for path in project_modules(script, cache=cache)}
    assert {"one/x.py", "two/x.py"} <= found
    assert cache.parsed == 5  # job.py; per package m.py, and its empty __init__.py and x.py
    # (one entry: same bytes, same package)


def saved_cache(file: Path) -> dict:
    """The JSON of a cache of every script's imports, saved to ``file``."""
    cache = ImportsCache(file)
    every_script_modules(cache)
    cache.save()
    return json.loads(file.read_text())


def poisoned(data: dict) -> dict:
    """``data`` with every entry's names emptied: a cache that would drop code inputs."""
    return data | {"entries": dict.fromkeys(data["entries"], [])}


MALFORMED = {
    "not json": lambda data: "{not json",
    "a list": lambda data: "[]",
    "nested too deep": lambda data: "[" * 100_000 + "]" * 100_000,
    "another parser version": lambda data: json.dumps(poisoned(data) | {"version": "other"}),
    "version true": lambda data: json.dumps(poisoned(data) | {"version": True}),
    "names not a list": lambda data: json.dumps(
        data | {"entries": dict.fromkeys(data["entries"], "import os")}),
    "a name not dotted identifiers": lambda data: json.dumps(
        data | {"entries": dict.fromkeys(data["entries"], ["x./etc"])}),
    "not utf-8": lambda data: b"\xff\xfe{".decode("latin-1"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_or_foreign_cache_file_is_an_empty_cache_and_is_written_again(
        tmp_path, case):
    file = tmp_path / "imports.json"
    data = saved_cache(file)
    file.write_bytes(MALFORMED[case](data).encode("latin-1"))
    expected = every_script_modules(None)
    cache = ImportsCache(file)
    assert cache.known == {}
    assert every_script_modules(cache) == expected and cache.parsed > 20
    cache.save()
    assert json.loads(file.read_text()) == data  # written again, as a fresh cache writes it
    assert every_script_modules(reread := ImportsCache(file)) == expected
    assert reread.parsed == 0


def test_the_cache_file_stays_where_it_was_named_when_the_directory_changes(
        tmp_path, monkeypatch):
    """As under `snakemake --directory`: the Snakefile is read in the study's folder, and
    the cache saved at exit, back in the folder Snakemake was started from."""
    study, elsewhere = tmp_path / "study", tmp_path / "elsewhere"
    study.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(study)
    cache = ImportsCache(".snakemake/imports.json")
    every_script_modules(cache)
    monkeypatch.chdir(elsewhere)
    cache.save()
    assert (study / ".snakemake" / "imports.json").is_file()
    assert list(elsewhere.iterdir()) == []


def test_a_cache_it_cannot_write_only_costs_time(tmp_path):
    blocker = write(tmp_path / "a-file", "")  # its "folder" is a file: nothing can be made
    cache = ImportsCache(blocker / "imports.json")
    assert every_script_modules(cache) == every_script_modules(None)
    cache.save()
    assert blocker.read_text() == ""
    taken = tmp_path / "imports.json"  # a folder where the file should go: no rename
    taken.mkdir()
    cache = ImportsCache(taken)
    every_script_modules(cache)
    cache.save()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file", "imports.json"]
    assert list(taken.iterdir()) == []


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

    sizing = (ROOT / JOB_SIZING).resolve()
    assert available(), "no model family registered"
    for model in available():
        for script in ("train.py", "evaluate.py"):
            files = {*project_modules(SCRIPTS / script),
                     *project_modules(family_path(model), root=SCRIPTS)}
            assert family_path(model).resolve() in files, (script, model)
            assert sizing not in files, (script, model)


# ---------------------------------------------------------------- the smoke study


def with_dependents(jobs: list[PlannedJob], chosen: list[PlannedJob]) -> set[tuple]:
    """The outputs of the chosen jobs and of every job that needs their outputs, directly
    or through others (each job named by its outputs)."""
    made_by = {path: job.outputs for job in jobs for path in job.outputs}
    needs = {job.outputs: {made_by[path] for path in job.inputs if path in made_by}
             for job in jobs}
    found = {job.outputs for job in chosen}
    while True:
        more = {job for job, upstream in needs.items() if upstream & found} - found
        if not more:
            return found
        found |= more


@pytest.mark.slow
def test_every_rule_declares_exactly_the_project_files_its_script_loads(smoke_study):
    loaded = smoke_study.loaded
    jobs = [job for job in dry_run(smoke_study.workdir, "--forceall") if job.script]
    assert {(job.script, job.model) for job in jobs} == set(loaded), \
        "a script (or a model's run of it) ran without a record"
    assert {job.model for job in jobs if job.script == "train.py"} >= {"rnn", "mlp", "cnn"}
    for job in jobs:
        declared = {path for path in job.inputs if path.startswith(f"{SCRIPTS_FOLDER}/")}
        recorded = loaded[job.script, job.model]
        assert declared == recorded, (job.rule, job.model, declared ^ recorded)


def plans_after_each_edit(copy: Path, modules: list[str]) -> dict[str, list[PlannedJob]]:
    """module -> the jobs a dry run plans after appending a comment to it, one module at a
    time in ``copy`` (each restored, content and mtime, before the next)."""
    plans = {}
    for module in modules:
        path = copy / module
        original, stat = path.read_text(), path.stat()
        path.write_text(original + "\n# edited\n")
        try:
            plans[module] = dry_run(copy)
        finally:
            path.write_text(original)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return plans


@pytest.mark.slow
def test_editing_a_module_reruns_exactly_the_jobs_whose_scripts_load_it(smoke_study,
                                                                        tmp_path: Path):
    """After an edit of one module, a dry run plans the jobs whose scripts load it and
    what depends on their outputs, nothing else; and every job that reruns for an updated
    input file (not for a recomputed one) names the edited module as that file."""
    workdir, loaded = smoke_study.workdir, smoke_study.loaded
    assert dry_run(workdir) == []
    every_job = dry_run(workdir, "--forceall")
    modules = sorted(path.relative_to(workdir).as_posix()
                     for path in (workdir / SCRIPTS_FOLDER).rglob("*.py"))
    assert RNN_FAMILY in modules
    copies = [copy_study(workdir, tmp_path / f"copy_{i}") for i in range(EDITING_WORKERS)]
    with ThreadPoolExecutor(EDITING_WORKERS) as pool:
        plans = {}
        for part in pool.map(plans_after_each_edit, copies,
                             [modules[i::EDITING_WORKERS] for i in range(EDITING_WORKERS)]):
            plans.update(part)
    for module in modules:
        jobs = plans[module]
        loading = [job for job in every_job
                   if job.script and module in loaded[job.script, job.model]]
        assert {job.outputs for job in jobs if job.rule != "all"} == (
            with_dependents(every_job, loading) - {()}), module
        for job in jobs:
            if "Updated input files" in job.reason:
                assert job.reason == f"Updated input files: {module}", (module, job)
                assert job.outputs in {j.outputs for j in loading}, (module, job)
