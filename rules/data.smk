"""Data preparation: raw MSD files (or the course's npz files, or the embedded
synthetic tree) -> results/data/dataset.h5 -> one per-step array file per steps value.
"""


rule generate_synthetic:
    """The embedded data set: a small MSD-format tree and tagtraum label file (not real music)."""
    input:
        code=code_inputs("generate_synthetic.py"),
    output:
        f"{SYNTHETIC_DIR}/COMPLETE",
    log:
        "results/logs/data/generate_synthetic.log",
    benchmark:
        "results/benchmarks/data/generate_synthetic.tsv"
    conda:
        "../envs/data.yaml"
    threads: 2
    resources:
        mem_mb=data_mem_mb("generate_synthetic"),
        runtime=30,
    params:
        genres=",".join(config["data"]["genres"]),
        tracks_per_genre=config["data"]["synthetic"]["tracks_per_genre"],
        aggregate_files=config["data"]["synthetic"]["aggregate_files"],
        seed=config["data"]["synthetic"]["seed"],
    shell:
        logged(
            f"python {script('generate_synthetic.py')} --out-dir $(dirname {{output}})"
            " --genres {params.genres} --tracks-per-genre {params.tracks_per_genre}"
            " --aggregate-files {params.aggregate_files} --seed {params.seed}"
            " --workers {threads}"
        )


rule prepare_dataset:
    """Crop, filter, split and standardise the songs into results/data/dataset.h5."""
    input:
        unpack(dataset_inputs),
    output:
        dataset=DATASET,
        skipped="results/data/dataset.skipped.tsv",
    log:
        "results/logs/data/prepare_dataset.log",
    benchmark:
        "results/benchmarks/data/prepare_dataset.tsv"
    conda:
        "../envs/data.yaml"
    threads: 2
    resources:
        mem_mb=data_mem_mb("prepare_dataset"),
        runtime=120,
    params:
        source=dataset_args,
        genres=",".join(config["data"]["genres"]),
        segments=config["data"]["segments"],
        per_genre=config["data"]["per_genre"],
        per_genre_test=config["data"]["per_genre_test"],
        valid_fraction=config["data"]["valid_fraction"],
        seed=config["data"]["seed"],
        on_bad_file=config["data"]["on_bad_file"],
        short_genres=(
            "--allow-short-genres"
            if config["data"]["allow_short_genres"]
            else "--no-allow-short-genres"
        ),
        standardize=(
            "--standardize-npz"
            if config["data"]["standardize_npz"]
            else "--no-standardize-npz"
        ),
    shell:
        logged(
            f"python {script('prepare_dataset.py')} {{params.source}}"
            " --genres {params.genres}"
            " --segments {params.segments} --per-genre {params.per_genre}"
            " --per-genre-test {params.per_genre_test} --valid-fraction {params.valid_fraction}"
            " --seed {params.seed} --on-bad-file {params.on_bad_file} {params.short_genres}"
            " {params.standardize} --workers {threads} --out {output.dataset}"
            " --skipped {output.skipped}"
        )


rule make_steps:
    """The songs cut into parts of `steps` segments, (N, parts, steps, 25), as a virtual
    dataset over dataset.h5: a few kB, so a 14-value grid never keeps 14 copies of the data.
    """
    input:
        dataset=DATASET,
        code=code_inputs("make_steps.py"),
    output:
        steps_file("{steps}"),
    log:
        "results/logs/data/make_steps_{steps}.log",
    benchmark:
        "results/benchmarks/data/make_steps_{steps}.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=data_mem_mb("make_steps"),
        runtime=30,
    shell:
        logged(
            f"python {script('make_steps.py')} --dataset {{input.dataset}}"
            " --steps {wildcards.steps} --out {output}"
        )
