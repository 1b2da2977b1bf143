"""What a job declares (memory, time) and what it used. No TensorFlow here.

Two halves, both read by the workflow and by the benchmarks:

* The sizing formulas (``train_mem_mb``, ``train_runtime_minutes``, ``data_job_mem_mb``):
  a training job's memory from the dataset it loads and what its model family says its
  memory grows with (``memory_terms``), its time from the matrix FLOPs of an epoch (the
  family's ``flops_per_song``) at a measured rate; a data job's memory from its data's
  size. ``rules/common.smk`` feeds them the config's ``resources:`` coefficients, measured
  by ``perf/bench_resources.py``. The sizing imports the model families, never the
  reverse, and no workflow script imports this module: editing it reruns no job.
* The reader of a finished run (``job_usage``): each job's benchmark file
  (``results/benchmarks/X.tsv``, written by Snakemake: ``max_rss`` in MB, ``s``; it samples
  memory every 30 s after the first 15 s, so the peak also comes from the script's own last
  log line, ``peak_rss_mb=``, written by ``msdrnn.cli.run``) paired with
  its log (``results/logs/X.log``), whose header line records what Snakemake passed the
  job (``resources: mem_mb=M runtime=T``, written by ``JOB_HEADER``), and its rule from
  Snakemake's own logs (``.snakemake/log/``, the ``benchmark:`` line of each job).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from msdrnn.errors import ConfigError, DataError
from msdrnn.models import complete, family
from msdrnn.study import CLASSES, FEATURES, SEGMENTS

BYTES_PER_SONG = SEGMENTS * FEATURES * 4  # float32 features of one song
HEADER = re.compile(r"^resources: (?:.* )?mem_mb=(?P<mem_mb>\S+) runtime=(?P<runtime>\S+)$",
                    re.MULTILINE)
PEAK = re.compile(r"\bpeak_rss_mb=(\d+)")
SNAKEMAKE_JOB = re.compile(r"^(?:local)?rule (\w+):\n((?:    .*\n)+)", re.MULTILINE)


# ---------------------------------------------------------------- sizing formulas


def flops_per_song(model: str, hparams: dict, classes: int = CLASSES) -> dict[str, float]:
    """Matrix-product FLOPs of one song through a model of family ``model``, ``forward``
    and ``train``: the family's own count (``msdrnn/models/NAME.py``), the one the
    benchmarks use too."""
    return family(model).flops_per_song(complete(model, hparams), classes)


def songs_in(dataset_mb: float) -> int:
    """Songs a dataset file of this size holds at most (float32 features, 120 x 25 each)."""
    return math.ceil(dataset_mb * 1024 * 1024 / BYTES_PER_SONG)


def train_mem_mb(dataset_mb: float, model: str, hparams: dict, coefficients: dict) -> int:
    """Memory (MB) to ask for a training job of family ``model``.

    Measured peak RSS (``perf/bench_resources.py``) = a fixed part (the interpreter,
    TensorFlow) + MB per MB of the dataset file (the train and valid songs are read into
    memory) + for each of the family's ``memory_terms`` (the RNN: state size and steps, as
    the traced graph grows with the steps of a part) its amount times the coefficient
    ``train_mem_per_<term>_mb``, times ``1 + mem_margin``.
    """
    terms = family(model).memory_terms(complete(model, hparams))
    missing = [f"train_mem_per_{term}_mb" for term in terms
               if f"train_mem_per_{term}_mb" not in coefficients]
    if missing:
        raise ConfigError(f"resources: no coefficient {missing} for the memory of model "
                          f"'{model}' (measure it with perf/bench_resources.py --fit)")
    peak = (
        coefficients["train_mem_base_mb"]
        + coefficients["train_mem_per_data_mb"] * dataset_mb
        + sum(coefficients[f"train_mem_per_{term}_mb"] * amount
              for term, amount in terms.items())
    )
    return math.ceil(peak * (1 + coefficients["mem_margin"]))


# Peak RSS of the other heavy jobs, measured by perf/bench_resources.py at the smoke and
# paper scales (docs/performance.md): (MB without data, MB per MB of data). The data is
# the input files' size, or for the jobs that make the data set (BUILDS_DATA) the MB of
# float32 songs they make (``built_data_mb``). generate_synthetic's fixed part is the smoke
# study's peak (130 MB at 40 tracks per genre, the memory guard of tests/test_workflow.py),
# above the 96 MB measured at 150 per genre; its slope from 1,500 and 6,150 per genre.
DATA_JOB_MEMORY = {
    "generate_synthetic": (130, 0.46),
    "prepare_dataset": (150, 1.5),
    "make_steps": (100, 0.0),
    "shuffle_segments": (100, 0.2),
    "song_stats": (220, 3.6),
    "evaluate_test": (150, 1.0),
}
BUILDS_DATA = {"generate_synthetic", "prepare_dataset"}


def built_data_mb(job: str, data: dict) -> float:
    """MB of float32 songs a job of BUILDS_DATA makes, from the config's ``data`` section:
    every generated track for ``generate_synthetic`` (its peak grows with the track count,
    not with the songs kept), the songs the config keeps for ``prepare_dataset``."""
    if job == "generate_synthetic":
        songs = len(data["genres"]) * data["synthetic"]["tracks_per_genre"]
    else:
        songs = len(data["genres"]) * (data["per_genre"] + data["per_genre_test"])
    return songs * BYTES_PER_SONG / 2**20


def data_job_mem_mb(job: str, data_mb: float, margin: float) -> int:
    """Memory (MB) to ask for a data, control or evaluation job (DATA_JOB_MEMORY)."""
    base, per_mb = DATA_JOB_MEMORY[job]
    return math.ceil((base + per_mb * data_mb) * (1 + margin))


def epoch_seconds(flops: dict[str, float], songs: int, valid_fraction: float,
                  threads: int, coefficients: dict) -> float:
    """Seconds of one epoch: the FLOPs of ``songs`` (a ``valid_fraction`` of them only
    forward) at the measured rate for ``threads`` threads, plus a cost per song."""
    rates = coefficients["train_gflops"]
    rate = rates[min(threads, len(rates)) - 1] * 1e9
    valid = songs * valid_fraction
    work = (songs - valid) * flops["train"] + valid * flops["forward"]
    return work / rate + songs * coefficients["train_seconds_per_song"]


def train_runtime_minutes(epoch_s: float, epochs: int, coefficients: dict,
                          runs: int = 1) -> int:
    """Minutes to ask for a training job of ``runs`` runs (seeds) of ``epochs`` epochs,
    trained one after the other in one process: start-up once plus every run's epochs,
    times ``1 + margin``."""
    seconds = coefficients["train_startup_s"] + runs * epochs * epoch_s
    return max(1, math.ceil(seconds * (1 + coefficients["runtime_margin"]) / 60))


# ---------------------------------------------------------------- reading a run


@dataclass(frozen=True)
class JobUsage:
    """One finished job: what it declared and what its benchmark measured."""

    name: str  # the benchmark's path under benchmarks/, without .tsv
    rule: str  # the rule (or, without Snakemake's logs, the name with numbers as *)
    mem_mb: int | None  # declared (None: the job declared none)
    runtime: int | None  # declared minutes
    max_rss: float | None  # measured peak MB: the benchmark's or the logged one, the larger
    seconds: float

    @property
    def mem_ratio(self) -> float | None:
        """Peak over declared memory (above 1: the job used more than it asked for)."""
        if self.mem_mb is None or self.max_rss is None:
            return None
        return self.max_rss / self.mem_mb


def read_log(log: Path) -> str:
    try:
        return log.read_text(errors="replace")
    except OSError as err:
        raise DataError(f"{log}: cannot read the job's log ({err})") from None


def logged_peak_mb(log: Path) -> float | None:
    """The largest ``peak_rss_mb=`` a job's scripts logged (None: none logged one)."""
    peaks = [float(m) for m in PEAK.findall(read_log(log))]
    return max(peaks) if peaks else None


def read_declared(log: Path) -> tuple[int | None, int | None]:
    """``(mem_mb, runtime)`` Snakemake passed a job, from its log's header line."""
    text = read_log(log)
    match = HEADER.search(text[:2000])
    if not match:
        raise DataError(f"{log}: no 'resources: mem_mb=... runtime=...' line at the top; "
                        "was the job run through logged() in rules/common.smk?")

    def number(field: str) -> int | None:
        value = match[field]
        if value in ("None", "<TBD>", ""):
            return None
        try:
            return int(float(value))
        except ValueError:
            raise DataError(f"{log}: {field} is {value!r}, expected a number") from None

    return number("mem_mb"), number("runtime")


def read_benchmark(path: Path) -> tuple[float | None, float]:
    """``(max_rss MB, seconds)`` of a Snakemake benchmark file (the last repeat)."""
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as err:
        raise DataError(f"{path}: cannot read the benchmark file ({err})") from None
    if not rows or "max_rss" not in rows[-1] or "s" not in rows[-1]:
        raise DataError(f"{path}: expected a Snakemake benchmark table with the columns "
                        "s and max_rss")
    row = rows[-1]
    try:
        seconds = float(row["s"])
        rss = None if row["max_rss"] in ("NA", "-", "") else float(row["max_rss"])
    except ValueError:
        raise DataError(f"{path}: s={row['s']!r}, max_rss={row['max_rss']!r} are not "
                        "numbers") from None
    return rss, seconds


def benchmark_rules(workdir: Path) -> dict[str, str]:
    """Benchmark file (as the rule names it) -> rule, from Snakemake's logs in ``workdir``."""
    rules = {}
    for log in sorted((workdir / ".snakemake" / "log").glob("*.snakemake.log")):
        for match in SNAKEMAKE_JOB.finditer(log.read_text(errors="replace")):
            bench = re.search(r"^    benchmark: (\S+)$", match[2], re.MULTILINE)
            if bench:
                rules[bench[1]] = match[1]
    return rules


def job_usage(results: Path) -> list[JobUsage]:
    """Every job of a finished run under ``results`` (benchmarks/X.tsv with logs/X.log)."""
    bench_dir, log_dir = results / "benchmarks", results / "logs"
    rules = benchmark_rules(results.parent)
    jobs = []
    for bench in sorted(bench_dir.rglob("*.tsv")):
        name = bench.relative_to(bench_dir).with_suffix("").as_posix()
        log = log_dir / f"{name}.log"
        if not log.exists():
            raise DataError(f"{bench}: no log {log} beside it; every rule's log and benchmark "
                            "must share their name (results/logs/X.log, "
                            "results/benchmarks/X.tsv)")
        mem_mb, runtime = read_declared(log)
        rss, seconds = read_benchmark(bench)
        peaks = [peak for peak in (rss, logged_peak_mb(log)) if peak is not None]
        rss = max(peaks) if peaks else None
        rule = rules.get(f"{results.name}/benchmarks/{name}.tsv") or re.sub(r"\d+", "*", name)
        jobs.append(JobUsage(name, rule, mem_mb, runtime, rss, seconds))
    if not jobs:
        raise DataError(f"{bench_dir}: no benchmark files; has the workflow run here?")
    return jobs
