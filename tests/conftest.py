"""Make ``workflow_scripts`` importable the way the rule scripts import it; the session's
shared studies: the smoke study (run once, read by every end-to-end test) and, with
MSDRNN_SLURM_TEST=1, the smoke study through a one-node SLURM cluster, started before the
first test so that it runs beside the others (its jobs mostly wait for status checks).

The tests run in pytest-xdist workers (pyproject.toml's addopts): the first worker to ask
for the smoke study builds it, under a lock, in the folder the workers share; the others
wait for it and read it. The SLURM tests are one xdist group (tests/test_slurm.py), so one
worker starts the cluster and the study through it.
"""

import fcntl
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow_scripts"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers import (  # noqa: E402
    SLURM_FIXTURE,
    SLURM_GROUP,
    SmokeStudy,
    make_smoke_study,
    slurm_enabled,
    start_slurm_study,
    study_state,
    with_local_slurm,
)


@pytest.fixture(scope="session")
def smoke_study(tmp_path_factory) -> SmokeStudy:
    """The smoke study, finished, run once per session. Tests only read it (dry runs
    included); a test that changes a study works on ``helpers.copy_study`` of it. At the
    end of the session, a changed file of the shared study is an error naming it."""
    study = shared_smoke_study(tmp_path_factory)
    yield study
    now = study_state(study.workdir)
    changed = sorted(name for name in study.state.keys() | now.keys()
                     if study.state.get(name) != now.get(name))
    assert not changed, f"a test changed the shared smoke study (use copy_study): {changed}"


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A running one-node cluster (tools/local_slurm.sh); started, and stopped again at the
    end, here unless one is up already."""
    if not slurm_enabled():
        pytest.skip("set MSDRNN_SLURM_TEST=1 to start a SLURM cluster on localhost")
    with with_local_slurm() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def slurm_study_started(slurm_cluster, tmp_path_factory):
    """The smoke study through ``--profile profiles/slurm``, running in the background
    (``.result()`` waits for it); stopped at the end of the session if still running."""
    run = start_slurm_study(tmp_path_factory.mktemp("on-slurm"), slurm_cluster)
    yield run
    run.stop()


def in_xdist_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def start_slurm_study_if_selected(request) -> None:
    """Start the SLURM study if a selected test needs it. An error here (no root, a
    cluster that does not start) is reported by those tests: pytest raises a failed
    session fixture's error again for each test that asks for it."""
    if slurm_enabled() and any(SLURM_FIXTURE in item.fixturenames
                               for item in request.session.items):
        try:
            request.getfixturevalue(SLURM_FIXTURE)
        except (Exception, pytest.skip.Exception, pytest.fail.Exception):
            pass


@pytest.fixture(scope="session", autouse=True)
def _start_the_slurm_study_first(request):
    """In one process, start the SLURM study before the first test. Under xdist every
    worker collects every test, so only the worker that runs the SLURM group may start
    it: ``_start_the_slurm_study_with_its_group`` does, at the group's first test."""
    if not in_xdist_worker():
        start_slurm_study_if_selected(request)


@pytest.fixture(scope="module", autouse=True)
def _start_the_slurm_study_with_its_group(request):
    group = request.node.get_closest_marker("xdist_group")
    if in_xdist_worker() and group is not None and group.args[0] == SLURM_GROUP:
        start_slurm_study_if_selected(request)


def pytest_collection_modifyitems(config, items):
    """Under xdist, the SLURM group first (so its worker starts the study at once, and the
    study runs beside everything else), and in it the tests that wait for the study last
    (its fast tests run meanwhile); then the slow tests, and the fast ones last, so that
    the workers end together instead of one waiting for the other's last long test."""
    if not in_xdist_worker():
        return

    def rank(item) -> int:
        group = item.get_closest_marker("xdist_group")
        if group is None or group.args[0] != SLURM_GROUP:
            return 2 if item.get_closest_marker("slow") else 3
        return 1 if SLURM_FIXTURE in item.fixturenames or "slurm_study" in item.fixturenames else 0

    items.sort(key=rank)  # stable: the order within each rank is kept


def shared_smoke_study(tmp_path_factory) -> SmokeStudy:
    """The session's smoke study, built once whatever the number of xdist workers: in the
    workers' shared folder under an exclusive lock, its ``SmokeStudy`` kept as JSON beside
    it for the workers that come later. Without xdist, in the session's own folder."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    record, failed = shared / "smoke_study.json", shared / "smoke_study.failed"
    with open(shared / "smoke_study.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if failed.exists():  # a worker's build failed: not again, with its message
            pytest.fail(f"the smoke study failed in another worker: {failed.read_text()}")
        if not record.exists():
            try:
                study = make_smoke_study(shared / "smoke_study", shared / "recorder")
            except BaseException as error:
                failed.write_text(str(error)[-4000:])
                raise
            record.write_text(json.dumps({
                "workdir": str(study.workdir),
                "loaded": [[*key, sorted(files)] for key, files in study.loaded.items()],
                "state": study.state}))
    saved = json.loads(record.read_text())
    return SmokeStudy(Path(saved["workdir"]),
                      {(script, model): frozenset(files)
                       for script, model, files in saved["loaded"]},
                      {name: tuple(value) for name, value in saved["state"].items()})
