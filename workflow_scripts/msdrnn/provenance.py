"""Where and with what a run was computed: device, package versions, the code it ran.

For ``run.json`` and for the fingerprint that a training checkpoint must match.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description() -> str:
    """What ran the computation: the GPU TensorFlow uses, or the CPU model."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return f"CPU: {cpu_model()}"


def package_versions() -> dict[str, str]:
    """Versions of Python and of every package that decides a training run's numbers."""
    import h5py
    import numpy as np
    import tensorflow as tf

    # Keras' version from its metadata: importing it costs seconds (msdrnn.tensorflow_setup)
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": metadata.version("keras"), "numpy": np.__version__,
            "h5py": h5py.__version__}


# The packages whose versions decide a training run's numbers (a checkpoint must match).
NUMERIC_PACKAGES = ("tensorflow", "keras", "numpy", "h5py")


def code_fingerprint(root: str | Path | None = None) -> dict[str, str]:
    """Content hash of every project source file loaded in this process.

    Every module imported from below ``root`` (default: the folder that holds the
    ``msdrnn`` package, ``workflow_scripts/``) counts, the running script included, so the
    fingerprint covers exactly the code the computation ran. Keys are paths relative to
    ``root``; values are SHA-256 hex digests of the file contents.
    """
    root = Path(root or Path(__file__).resolve().parents[1]).resolve()
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and path.endswith(".py"):
            resolved = Path(path).resolve()
            if resolved.is_relative_to(root):
                files.add(resolved)
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(files)}
