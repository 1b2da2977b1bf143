"""Grid search over the number of RNN steps (the original study's figure 25): one job per
steps value, which trains every seed of grid.seeds one after the other in one process
(results/grid/steps_{steps}/seed_{S}/)."""


rule grid_train:
    input:
        dataset=DATASET,
        steps=steps_file("{steps}"),
        code=code_inputs("train.py", "rnn"),
    output:
        **train_outputs(grid_dirs()),
    log:
        "results/logs/grid/steps_{steps}.log",
    benchmark:
        "results/benchmarks/grid/steps_{steps}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["grid"]["epochs"], len(config["grid"]["seeds"])),
    params:
        state_size=config["grid"]["state_size"],
        readout=readout_flag(config["grid"]["readout"]),
        epochs=config["grid"]["epochs"],
        seeds=config["grid"]["seeds"],
        train=train_params(),
    shell:
        train_command(
            "--steps-file {input.steps} --steps {wildcards.steps}"
            " --state-size {params.state_size} {params.readout}"
        )


rule summarize_grid:
    """One row per steps value and seed: max valid accuracy and the epoch it was reached."""
    input:
        histories=grid_histories(),
        code=code_inputs("summarize_grid.py"),
    output:
        "results/grid/summary.csv",
    log:
        "results/logs/grid/summary.log",
    benchmark:
        "results/benchmarks/grid/summary.tsv"
    localrule: True
    conda:
        "../envs/plot.yaml"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    shell:
        logged(
            f"python {script('summarize_grid.py')} --out {{output}} {{input.histories}}"
        )
