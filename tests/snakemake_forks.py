"""Snakemake's command line, run in forked children of one process that imported it once.

A Snakemake process spends about 1 s of a 2 s dry run importing Snakemake (and its
executor plugins, and pandas with them). The tests run Snakemake about 150 times, so
helpers.snakemake sends each run here instead: this process imports ``snakemake.cli``
once, then forks a child per run, which does what ``python -m snakemake ARGS`` would do
in a fresh process (working directory, environment, sys.path[0], stdin from /dev/null,
stdout and stderr to files, exit handlers), with the modules already in memory. Nothing
of the project is imported here, so every run loads the Snakefile and the workflow's
modules of its own copy of the repo.

Protocol, one JSON object per line. Request on stdin:
    {"id": N, "args": [...], "cwd": DIR, "env": {...}, "stdout": FILE, "stderr": FILE}
Replies on stdout: {"id": N, "pid": PID} when the child started (the caller may kill it
on a timeout), then {"id": N, "returncode": RC} when it ended (negative: the signal that
ended it, as subprocess reports it). Runs may overlap. The process ends at end of input.
This process is single-threaded, so a child never inherits a lock another thread held.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import sys
import traceback

# Snakemake's command line, and what Snakemake imports only once a run starts, in every run
# of this workflow: smart_open (with boto3 where installed) to open the Snakefile, yte for
# the config file, jsonschema for its validation, the report's modules for `report()`
# outputs, the profiles' and the storage's. Imported here once, they shorten every forked
# dry run by about a quarter of a second (docs/performance.md). The project's own modules
# are never imported here.
import jsonschema  # noqa: F401
import smart_open  # noqa: F401
import snakemake.cli
import snakemake.profiles  # noqa: F401
import snakemake.report.html_reporter  # noqa: F401
import snakemake.storage  # noqa: F401
import yte  # noqa: F401

POLL_S = 0.02  # how often finished children are collected while some run
MAIN = os.path.join(os.path.dirname(snakemake.__file__), "__main__.py")  # argv[0] of -m


def run_child(request: dict) -> int:
    """In the forked child: one ``snakemake`` command line; its exit status."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = os.getcwd()  # as `python -m snakemake` has it
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    os.close(stdin)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        out = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, fd)
        os.close(out)
    # fresh file objects: the parent's may have been mid-write (and locked) at the fork
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    sys.argv = [MAIN, *request["args"]]
    try:
        snakemake.cli.main(request["args"])
        status = 0
    except SystemExit as end:
        status = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
        if not isinstance(end.code, int | None):
            print(end.code, file=sys.stderr)
    except BaseException:  # as the interpreter would: traceback, exit status 1
        traceback.print_exc()
        status = 1
    atexit._run_exitfuncs()  # what a normal interpreter exit runs (logging's flush, ...)
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def main() -> None:
    def reply(message: dict) -> None:
        os.write(1, (json.dumps(message) + "\n").encode())

    running: dict[int, int] = {}  # child pid -> request id
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    pending, open_input = b"", True
    while open_input or running:
        ready = selector.select(timeout=POLL_S if running else None) if open_input else []
        for _ in ready:
            chunk = os.read(0, 1 << 16)
            if not chunk:
                open_input = False
                selector.unregister(0)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    try:
                        status = run_child(request)
                    except BaseException:  # before Snakemake started: say why, in the log
                        traceback.print_exc()
                        status = 1
                    os._exit(status)
                running[pid] = request["id"]
                reply({"id": request["id"], "pid": pid})
        while running:  # collect the children that ended (all of them at end of input)
            pid, status = os.waitpid(-1, os.WNOHANG if open_input else 0)
            if pid == 0:
                break
            reply({"id": running.pop(pid), "returncode": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    main()
