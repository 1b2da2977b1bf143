"""Only training imports TensorFlow, and training imports none of Keras' baggage.

Every workflow script but the trainer is imported in a fresh interpreter, found by listing
``workflow_scripts/`` so that a new script is covered without editing this test; none may
load TensorFlow or Keras. The trainer's own path (``msdrnn.tensorflow_setup`` then the
training modules) may load TensorFlow but not Keras, scikit-learn, pandas or matplotlib,
whose import cost seconds per job and built matplotlib's font cache inside a training job
(docs/performance.md).
"""

from __future__ import annotations

import ast
import subprocess
import sys

from helpers import SCRIPTS

TRAINING_SCRIPTS = {"train.py"}
HEAVY = ("tensorflow", "keras")
NOT_FOR_TRAINING = ("keras", "sklearn", "pandas", "matplotlib")


def loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}}))"
    result = subprocess.run([sys.executable, "-c", script], cwd=SCRIPTS, check=True,
                            capture_output=True, text=True, env={"TF_CPP_MIN_LOG_LEVEL": "2",
                                                                 "PATH": "/usr/bin:/bin"})
    return set(ast.literal_eval(result.stdout.strip().splitlines()[-1]))


# the library modules of data, evaluation, search, statistics and plots (the scripts import
# them too; listed so that one no script imports yet is covered)
LIBRARY = ("msdrnn.msd", "msdrnn.synthetic", "msdrnn.dataset", "msdrnn.dataset_io",
           "msdrnn.reference", "msdrnn.search", "msdrnn.plots", "msdrnn.summary",
           "msdrnn.stats", "msdrnn.controls")


def test_no_workflow_script_but_training_imports_tensorflow():
    scripts = sorted(p.stem for p in SCRIPTS.glob("*.py") if p.name not in TRAINING_SCRIPTS)
    assert len(scripts) > 10  # the listing found the scripts
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n"
                                          for m in (*LIBRARY, *scripts))
    # a search builds skopt's dimensions of every kind without TensorFlow
    code += ("import msdrnn.search as s\n"
             "s.SearchSpace(tuple(s.space_from_config({'n': {'int': [1, 2]}, 'r': "
             "{'real': [0, 1]}, 'c': {'categories': [1]}}))).skopt_dimensions()\n")
    loaded = loaded_after(code)
    assert "skopt" in loaded  # the check itself can fail
    assert loaded & set(HEAVY) == set()


def test_training_imports_tensorflow_without_keras_or_plotting():
    code = ("import train\nfrom msdrnn.tensorflow_setup import import_tensorflow\n"
            "import_tensorflow()\nimport msdrnn.training, msdrnn.updates\n"
            "from msdrnn.models import available, family\n"
            "for name in available():\n    family(name).build(family(name).DEFAULTS, 0)")
    loaded = loaded_after(code)
    assert "tensorflow" in loaded  # the check itself can fail
    assert loaded & set(NOT_FOR_TRAINING) == set()
