"""The baseline RNN of the seed (plots 23, 24): state 10, steps 6, no readout."""


rule baseline:
    input:
        dataset=DATASET,
        steps=steps_file(config["baseline"]["steps"]),
        code=TRAIN_CODE,
    output:
        **train_outputs("results/baseline"),
    params:
        steps=config["baseline"]["steps"],
        state_size=config["baseline"]["state_size"],
        readout=readout_flag(config["baseline"]["readout"]),
        epochs=config["baseline"]["epochs"],
        seed=config["baseline"]["seed"],
        train=train_params(),
    conda:
        "../envs/train.yaml"
    log:
        "results/logs/baseline/train.log",
    benchmark:
        "results/benchmarks/baseline/train.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["baseline"]["epochs"]),
    shell:
        train_command(
            "--steps-file {input.steps} --steps {params.steps}"
            " --state-size {params.state_size} {params.readout}"
        )
