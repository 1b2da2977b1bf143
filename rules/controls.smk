"""The controls: does the RNN use the order of the segments (the best parameters on songs
with shuffled segments), and what do per-song statistics alone reach (logistic
regression)? Neither reads the test split; evaluate.smk does."""


rule shuffle_segments:
    """A copy of dataset.h5 (all splits) with every song's segments in a fixed random order."""
    input:
        dataset=DATASET,
        code=["workflow_scripts/shuffle_segments.py", "workflow_scripts/msdrnn/controls.py",
              "workflow_scripts/msdrnn/files.py"],
    output:
        SHUFFLED_DATASET,
    params:
        seed=config["controls"]["shuffle_seed"],
    conda:
        "../envs/data.yaml"
    log:
        "results/logs/controls/shuffle_segments.log",
    benchmark:
        "results/benchmarks/controls/shuffle_segments.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: int(1000 + 0.2 * input.size_mb),
        runtime=30,
    shell:
        logged(
            "python workflow_scripts/shuffle_segments.py --dataset {input.dataset}"
            " --seed {params.seed} --out {output}"
        )


rule shuffled_rnn_train:
    """The best parameters trained on the shuffled songs, under the seeds of best.seeds:
    the same runs as the confirmation runs, only the order of the segments gone."""
    input:
        dataset=SHUFFLED_DATASET,
        best="results/bayes/best.json",
        code=TRAIN_CODE,
    output:
        **train_outputs("results/controls/shuffled_rnn/seed_{seed}"),
    wildcard_constraints:
        seed=r"\d+",
    params:
        epochs=config["best"]["epochs"],
        seed=lambda wildcards: int(wildcards.seed),
        train=train_params(),
    conda:
        "../envs/train.yaml"
    log:
        "results/logs/controls/shuffled_rnn_seed_{seed}.log",
    benchmark:
        "results/benchmarks/controls/shuffled_rnn_seed_{seed}.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["best"]["epochs"]),
    shell:
        train_command("--hparams {input.best} --readout")


rule song_stats:
    """Logistic regression on per-song means and standard deviations, C chosen on valid."""
    input:
        dataset=DATASET,
        code=["workflow_scripts/song_stats.py", "workflow_scripts/msdrnn/controls.py",
              "workflow_scripts/msdrnn/dataset_io.py"],
    output:
        weights="results/controls/song_stats/weights.npz",
        fit="results/controls/song_stats/fit.json",
    params:
        c_values=",".join(str(c) for c in config["controls"]["song_stats_c"]),
    conda:
        "../envs/search.yaml"
    log:
        "results/logs/controls/song_stats.log",
    benchmark:
        "results/benchmarks/controls/song_stats.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: int(1000 + 2 * input.size_mb),
        runtime=30,
    shell:
        logged(
            "python workflow_scripts/song_stats.py --dataset {input.dataset}"
            " --c-values {params.c_values} --weights {output.weights} --fit {output.fit}"
        )
