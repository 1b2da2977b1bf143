"""The baseline RNN of the original study (its figures 23 and 24): by default state 10,
steps 6, no readout (the `baseline` section of the config), one job that trains every seed
of baseline.seeds one after the other in one process, into
results/baseline/seed_{seed}/."""


rule baseline_train:
    input:
        dataset=DATASET,
        steps=steps_file(config["baseline"]["steps"]),
        code=code_inputs("train.py", "rnn"),
    output:
        **train_outputs(seed_dirs("baseline")),
    log:
        "results/logs/baseline/train.log",
    benchmark:
        "results/benchmarks/baseline/train.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(
            config["baseline"]["epochs"], len(config["baseline"]["seeds"])
        ),
    params:
        steps=config["baseline"]["steps"],
        state_size=config["baseline"]["state_size"],
        readout=readout_flag(config["baseline"]["readout"]),
        epochs=config["baseline"]["epochs"],
        seeds=config["baseline"]["seeds"],
        train=train_params(),
    shell:
        train_command(
            "--steps-file {input.steps} --steps {params.steps}"
            " --state-size {params.state_size} {params.readout}"
        )
