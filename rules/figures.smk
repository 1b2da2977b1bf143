"""Figures (PNG for the report, PDF for print) and the summary table. Plotting jobs read
CSV/JSON results only and never import TensorFlow."""

rule plot_run:
    """Training and validation error and accuracy of one run (the original study's figures
    23-24 and 36-37)."""
    input:
        history="results/{run}/history.csv",
        run="results/{run}/run.json",
        code=code_inputs("plot_run.py"),
    output:
        error=figure("{run}_error", "run_curves", "Single runs", "{run}"),
        accuracy=figure("{run}_accuracy", "run_curves", "Single runs", "{run}"),
    params:
        dpi=config["plots"]["dpi"],
        title=lambda wildcards: RUN_TITLES[wildcards.run],
    conda:
        "../envs/plot.yaml"
    log:
        "results/logs/figures/{run}.log",
    benchmark:
        "results/benchmarks/figures/{run}.tsv"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    localrule: True
    shell:
        logged(
            f"python {script('plot_run.py')} --history {{input.history}} --run {{input.run}}"
            " --title '{params.title}' --dpi {params.dpi}"
            " --error {output.error} --accuracy {output.accuracy}"
        )


rule plot_grid:
    """Max valid accuracy per steps value (the original study's figure 25) and curves of the
    best steps values (its figures 26-29)."""
    input:
        summary="results/grid/summary.csv",
        histories=grid_histories(),
        code=code_inputs("plot_grid.py"),
    output:
        max_valid_accuracy=figure("grid_max_valid_accuracy", "grid_bar", "Steps grid"),
        train_error=figure("grid_train_error", "grid_curves", "Steps grid"),
        valid_error=figure("grid_valid_error", "grid_curves", "Steps grid"),
        train_accuracy=figure("grid_train_accuracy", "grid_curves", "Steps grid"),
        valid_accuracy=figure("grid_valid_accuracy", "grid_curves", "Steps grid"),
    params:
        dpi=config["plots"]["dpi"],
        top_steps=config["plots"]["top_steps"],
        state_size=config["grid"]["state_size"],
        epochs=config["grid"]["epochs"],
    conda:
        "../envs/plot.yaml"
    log:
        "results/logs/figures/grid.log",
    benchmark:
        "results/benchmarks/figures/grid.tsv"
    threads: LIGHT_THREADS
    resources:
        **LIGHT_RESOURCES,
    localrule: True
    shell:
        logged(
            f"python {script('plot_grid.py')} --summary {{input.summary}}"
            " --histories {input.histories}"
            " --top-steps {params.top_steps} --state-size {params.state_size}"
            " --epochs {params.epochs} --dpi {params.dpi}"
            " --max-valid-accuracy {output.max_valid_accuracy}"
            " --train-error {output.train_error} --valid-error {output.valid_error}"
            " --train-accuracy {output.train_accuracy}"
            " --valid-accuracy {output.valid_accuracy}"
        )


rule plot_bayes:
    """Objective per trial and its running best (the original study's figure 31),
    curves of every trial (its figures 32-35)."""
    input:
        trials="results/bayes/trials.csv",
        histories=expand("results/bayes/trial_{trial}/history.csv", trial=trial_ids()),
        code=code_inputs("plot_bayes.py"),
    output:
        *figure("bayes_objective", "bayes_objective", "Bayesian search"),
        *curve_figures("bayes", "Bayesian search"),
    params:
        dpi=config["plots"]["dpi"],
        epochs=config["bayes"]["epochs"],
        top_fraction=config["bayes"]["top_fraction"],
    conda:
        "../envs/plot.yaml"
    log:
        "results/logs/figures/bayes.log",
    benchmark:
        "results/benchmarks/figures/bayes.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    shell:
        "python workflow_scripts/plot_bayes.py --trials {input.trials}"
        " --epochs {params.epochs} --top-fraction {params.top_fraction}"
        " --dpi {params.dpi} --out-dir results/figures > {log} 2>&1"


rule plot_confusion:
    """Confusion matrix of the best run on the test split."""
    input:
        metrics="results/best/test_metrics.json",
        run="results/best/run.json",
        code=code_inputs("plot_confusion.py"),
    output:
        *figure("best_test_confusion", "confusion", "Best parameters"),
    params:
        dpi=config["plots"]["dpi"],
    conda:
        "../envs/plot.yaml"
    log:
        "results/logs/figures/confusion.log",
    benchmark:
        "results/benchmarks/figures/confusion.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    shell:
        "python workflow_scripts/plot_confusion.py --metrics {input.metrics} --run {input.run}"
        " --dpi {params.dpi} --out-prefix results/figures/best_test > {log} 2>&1"


rule summary:
    """The answer to the research question in one table: results/summary.md."""
    input:
        unpack(summary_inputs),
    output:
        report("results/summary.md", caption="../report/summary.rst", category="Summary"),
    params:
        n_classes=len(config["data"]["genres"]),
        test=lambda wildcards, input: (
            f"--best-test {input.best_test} --mlp-test {input.mlp_test}"
            if has_test_split() else ""
        ),
    conda:
        "../envs/plot.yaml"
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    shell:
        "python workflow_scripts/write_summary.py --n-classes {params.n_classes}"
        " --baseline {input.baseline} --grid {input.grid} --trials {input.trials}"
        " --best-params {input.best_params} --best {input.best} --mlp {input.mlp}"
        " {params.test} --out {output} > {log} 2>&1"
