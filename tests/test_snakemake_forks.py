"""helpers.snakemake runs Snakemake in forked children of tests/snakemake_forks.py: a run
there must be what a fresh ``python -m snakemake`` process gives, in what the Snakefile
sees (working directory, environment, sys.path[0]), in its output and exit status, and a
run past its timeout must be ended as subprocess.run ends it."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from helpers import SnakemakeForks, snakemake, snakemake_command

# fresh Snakemake processes to compare with, and a timeout to wait for: about 10 s
pytestmark = pytest.mark.slow

# prints, while Snakemake reads it, what a Snakefile can see of the process it runs in
SNAKEFILE = """\
import os, sys
print("seen:", os.getcwd(), os.environ.get("FORKS_CHECK"), sys.path[0], sys.argv[1:3],
      file=sys.stderr)
if os.environ.get("FORKS_SLEEP"):
    import time
    time.sleep(float(os.environ["FORKS_SLEEP"]))
if os.environ.get("FORKS_MEET"):  # wait for the other runs' marks: they run meanwhile
    import time
    from pathlib import Path
    Path(os.environ["FORKS_CHECK"] + ".started").touch()
    others = [Path(name + ".started") for name in os.environ["FORKS_MEET"].split()]
    for _ in range(600):
        if all(other.exists() for other in others):
            break
        time.sleep(0.1)
    else:
        raise RuntimeError("the other runs never started")
if os.environ.get("FORKS_FAIL"):
    raise ValueError("the Snakefile failed on purpose")

rule all:
    output: "done.txt"
    shell: "echo $FORKS_CHECK > {output}"
"""


def both_ways(workdir, *args, env) -> tuple[subprocess.CompletedProcess, ...]:
    """The same command line in a fresh process and through the forks."""
    command = snakemake_command(*args, configfile=None, cores=1)
    fresh = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    forked = snakemake(workdir, *args, configfile=None, cores=1, env=env, check=False)
    return fresh, forked


def seen(result: subprocess.CompletedProcess) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("seen:"))


def test_a_forked_run_sees_and_gives_what_a_fresh_process_does(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    env = {**os.environ, "FORKS_CHECK": "from-the-caller"}
    fresh, forked = both_ways(tmp_path, "-n", env=env)
    assert fresh.returncode == forked.returncode == 0, forked.stderr
    assert seen(forked) == seen(fresh)
    assert "from-the-caller" in seen(forked) and str(tmp_path) in seen(forked)
    assert "rule all:" in forked.stdout + forked.stderr

    # a real run: its job's shell gets the caller's environment
    snakemake(tmp_path, configfile=None, cores=1, env=env)
    assert (tmp_path / "done.txt").read_text() == "from-the-caller\n"


@pytest.mark.parametrize("case", ["bad option", "failing Snakefile"])
def test_a_failed_run_exits_and_explains_as_a_fresh_process_does(tmp_path, case):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    env, args = dict(os.environ), ["-n"]
    if case == "bad option":
        args.append("--no-such-option")
    else:
        env["FORKS_FAIL"] = "1"
    fresh, forked = both_ways(tmp_path, *args, env=env)
    assert forked.returncode == fresh.returncode != 0
    assert forked.stdout == fresh.stdout
    last = fresh.stderr.strip().splitlines()[-1]
    assert last and forked.stderr.strip().splitlines()[-1] == last


def test_a_run_past_its_timeout_is_killed(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    with pytest.raises(subprocess.TimeoutExpired):
        snakemake(tmp_path, "-n", configfile=None, cores=1, timeout=2,
                  env={**os.environ, "FORKS_SLEEP": "600"})
    # and the forks' process goes on serving runs
    assert snakemake(tmp_path, "-n", configfile=None, cores=1).returncode == 0
    assert SnakemakeForks.get().process.poll() is None


def test_runs_from_several_threads_run_side_by_side(tmp_path):
    """Each run waits, while Snakemake reads its Snakefile, until every other run has
    started: runs taken one at a time would never finish."""
    from concurrent.futures import ThreadPoolExecutor

    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    names = ["0", "1", "2"]
    with ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(
            lambda name: snakemake(tmp_path, "-n", configfile=None, cores=1, env={
                **os.environ, "FORKS_CHECK": name, "FORKS_MEET": " ".join(names)}),
            names))
    assert [seen(result).split()[2] for result in results] == names


def test_a_run_whose_forks_process_ends_fails_instead_of_waiting(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    forks = SnakemakeForks.get()
    with ThreadPoolExecutor(1) as pool:
        run = pool.submit(snakemake, tmp_path, "-n", configfile=None, cores=1,
                          env={**os.environ, "FORKS_SLEEP": "5"})
        while not forks.replies:  # the run's request is out
            time.sleep(0.05)
        forks.process.kill()
        with pytest.raises(RuntimeError, match="ended before its run did"):
            run.result(timeout=120)
    # the next run starts a new one
    assert snakemake(tmp_path, "-n", configfile=None, cores=1).returncode == 0
    assert SnakemakeForks.get() is not forks
