"""The baseline RNN of the original study (its figures 23 and 24): by default state 10,
steps 6, no readout (the `baseline` section of the config), one job per seed of
baseline.seeds in results/baseline/seed_{seed}/."""


rule baseline_train:
    input:
        dataset=DATASET,
        steps=steps_file(config["baseline"]["steps"]),
        code=code_inputs("train.py", "rnn"),
    output:
        **train_outputs(seed_dir("baseline")),
    log:
        "results/logs/baseline/train_seed_{seed}.log",
    benchmark:
        "results/benchmarks/baseline/train_seed_{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["baseline"]["epochs"]),
    params:
        steps=config["baseline"]["steps"],
        state_size=config["baseline"]["state_size"],
        readout=readout_flag(config["baseline"]["readout"]),
        epochs=config["baseline"]["epochs"],
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    shell:
        train_command(
            "--steps-file {input.steps} --steps {params.steps}"
            " --state-size {params.state_size} {params.readout}"
        )
