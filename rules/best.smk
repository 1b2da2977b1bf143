"""The search's best parameters trained longer (seed plots 36, 37), then one test evaluation."""


rule best_train:
    input:
        dataset=DATASET,
        best="results/bayes/best.json",
        code=code_inputs("train.py"),
    output:
        **train_outputs("results/best"),
    params:
        epochs=config["best"]["epochs"],
        seed=config["best"]["seed"],
        train=train_params(),
    conda:
        "../envs/train.yaml"
    log:
        "results/logs/best/train.log",
    benchmark:
        "results/benchmarks/best/train.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime(config["best"]["epochs"]),
    shell:
        train_command("--hparams {input.best} --readout")


rule evaluate_test:
    """Test accuracy, per-genre accuracy and confusion matrix of a trained model, computed
    with NumPy from its weights.npz (no TensorFlow)."""
    input:
        dataset=DATASET,
        weights="results/{model}/weights.npz",
        code=code_inputs("evaluate.py"),
    output:
        "results/{model}/test_metrics.json",
    wildcard_constraints:
        model="best|mlp",
    conda:
        "../envs/data.yaml"
    log:
        "results/logs/{model}/evaluate.log",
    benchmark:
        "results/benchmarks/{model}/evaluate.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, input: int(1000 + 2 * input.size_mb),
        runtime=20,
    shell:
        logged(
            "python workflow_scripts/evaluate.py --dataset {input.dataset}"
            " --weights {input.weights} --split test --out {output}"
        )
