"""The only rule that scores models on the test split: every model's test metrics, from the
weights of its best validation epoch (the primary numbers) and its final weights. Other
rules touch the test split without scoring anything: prepare_dataset writes it,
shuffle_segments rewrites its segments in the shuffled copy, and write_summary reads only
the split sizes dataset.h5 stores."""


rule evaluate_test:
    """Test accuracy, loss, per-genre accuracy, confusion matrix and per-song predictions of
    a trained model, computed with NumPy from its weights files (no TensorFlow)."""
    input:
        unpack(evaluation_inputs),
    output:
        "results/{evaluated}/test_metrics.json",
    log:
        "results/logs/{evaluated}/evaluate.log",
    benchmark:
        "results/benchmarks/{evaluated}/evaluate.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=data_mem_mb("evaluate_test"),
        runtime=20,
    params:
        model=evaluated_model,
    shell:
        logged(
            f"python {script('evaluate.py')} --dataset {{input.dataset}}"
            " --best-weights {input.best_weights} --final-weights {input.final_weights}"
            " --model {params.model} --out {output}"
        )
