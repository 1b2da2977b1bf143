"""Grid search over the number of RNN steps (seed plot 25): one job per steps value and seed."""


rule grid_train:
    input:
        dataset=DATASET,
        steps="results/data/steps_{steps}.h5",
        code=TRAIN_CODE,
    output:
        **train_outputs("results/grid/steps_{steps}/seed_{seed}"),
    wildcard_constraints:
        steps=r"\d+",
        seed=r"\d+",
    params:
        state_size=config["grid"]["state_size"],
        readout=readout_flag(config["grid"]["readout"]),
        epochs=config["grid"]["epochs"],
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    conda:
        "../envs/train.yaml"
    log:
        "results/logs/grid/steps_{steps}_seed_{seed}.log",
    benchmark:
        "results/benchmarks/grid/steps_{steps}_seed_{seed}.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["grid"]["epochs"]),
    shell:
        train_command(
            "--steps-file {input.steps} --steps {wildcards.steps}"
            " --state-size {params.state_size} {params.readout}"
        )


rule grid_summary:
    """One row per steps value and seed: max valid accuracy and the epoch it was reached."""
    input:
        histories=grid_histories(),
        code="workflow_scripts/summarize_grid.py",
    output:
        "results/grid/summary.csv",
    conda:
        "../envs/plot.yaml"
    log:
        "results/logs/grid/summary.log",
    benchmark:
        "results/benchmarks/grid/summary.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    shell:
        "python workflow_scripts/summarize_grid.py --out {output} {input.histories} > {log} 2>&1"
