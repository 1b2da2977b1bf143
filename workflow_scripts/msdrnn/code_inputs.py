"""The project source files a workflow script loads, read from its import statements.

``rules/common.smk`` declares these files as a rule's ``code`` inputs, so that editing a
module reruns exactly the jobs whose scripts load it, and no list is kept by hand. The
imports are parsed with ``ast``, never executed: this module depends on the standard
library only and works before any package of the study is installed.

Every ``import`` counts, also one inside a function (a lazy import runs when the function
does), except those under ``if TYPE_CHECKING:``, which never run. A module is a project
module when it lives beside the script: ``import msdrnn.x`` from ``workflow_scripts/s.py``
names ``workflow_scripts/msdrnn/__init__.py`` and ``workflow_scripts/msdrnn/x.py``, as
Python itself loads both. Anything else (numpy, the standard library) is not followed.

The parsed imports are kept per file content (``ImportsCache``): in this process by
default, and in ``.snakemake/`` between Snakemake starts when the rules ask for it.

``literal`` reads a constant such as ``training.OUTPUTS`` the same way, so that the rules
use the library's one definition without importing the library (and with it TensorFlow's
neighbours, pandas or matplotlib) every time Snakemake starts.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import os
import secrets
import sys
from pathlib import Path


@functools.cache
def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of module ``dotted`` under ``root``: ``a/b.py`` or ``a/b/__init__.py``."""
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _with_parents(dotted: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: importing a module loads its packages too."""
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that can run: all of them but those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr):  # imports are statements: skip expressions
                visit(child)

    visit(tree)
    return found


def _parsed_imports(source: bytes, path: Path, package: tuple[str, ...]) -> tuple[str, ...]:
    """Dotted names of the modules that ``source`` (the file ``path``, in ``package``, where
    a relative import starts from) may import, packages included."""
    tree = ast.parse(source, filename=str(path))
    names: list[str] = []
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names += _with_parents(alias.name)
            continue
        if node.level:
            anchor = package[: len(package) - (node.level - 1)]
            base = ".".join([*anchor, node.module] if node.module else anchor)
        else:
            base = node.module or ""
        if not base:
            continue
        names += _with_parents(base)
        # `from package import name` loads package.name when it is a submodule
        names += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return tuple(names)


def _parser_version() -> str:
    """What the cached names depend on besides a file's bytes: this module's code (the
    parsing rules) and the Python that parses (its grammar)."""
    code = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=10).hexdigest()
    return f"{code}-python{sys.version_info[0]}.{sys.version_info[1]}"


def _valid_entries(data: object, version: str) -> dict[str, tuple[str, ...]]:
    """The entries of a cache file's JSON ``data``: {} unless it is of ``version`` and
    every entry maps a key to a list of dotted module names."""
    if not (isinstance(data, dict) and data.get("version") == version
            and isinstance(data.get("entries"), dict)):
        return {}
    entries = data["entries"]
    if not all(isinstance(names, list) and all(
            isinstance(name, str) and all(part.isidentifier() for part in name.split("."))
            for name in names) for names in entries.values()):
        return {}
    return {key: tuple(names) for key, names in entries.items()}


class ImportsCache:
    """The imported names of every file version parsed, by content, optionally kept in a
    JSON file between processes.

    Snakemake reads the Snakefile at every start (a dry run, each SLURM job), and the
    rules' code inputs then need the imports of the fifty-odd project files: parsing them
    took 0.09 s of a 2 s no-op (docs/performance.md). An entry's key is the digest of the
    file's bytes and its package, so an edited file is parsed again whatever its time
    stamps say; the file's version is the digest of this module and the Python version,
    so a cache written by other parsing rules is never used. A missing, unreadable or
    malformed ``file`` starts an empty cache. ``save`` writes the entries this process
    used, atomically, when it parsed something, and gives up silently where it cannot
    write: the cache saves time and never changes a result.

    ``file`` is made absolute when the cache is made: Snakemake's ``--directory`` changes
    the working directory only while it reads the Snakefile and plans the jobs, and
    ``save`` runs at exit."""

    def __init__(self, file: str | Path | None = None) -> None:
        self.file = Path(file).absolute() if file is not None else None
        self.version = _parser_version()
        self.known: dict[str, tuple[str, ...]] = self._load()
        self.used: dict[str, tuple[str, ...]] = {}
        self.parsed = 0  # files parsed by this process (not found in the cache)

    def _load(self) -> dict[str, tuple[str, ...]]:
        if self.file is None:
            return {}
        try:
            return _valid_entries(json.loads(self.file.read_bytes()), self.version)
        except (OSError, ValueError, RecursionError):
            return {}

    def names(self, path: Path, root: Path) -> tuple[str, ...]:
        """Dotted names of the modules that ``path`` may import, packages included."""
        source = path.read_bytes()
        package = path.relative_to(root).parent.parts
        key = hashlib.blake2b("/".join(package).encode() + b"\0" + source,
                              digest_size=20).hexdigest()
        names = self.known.get(key)
        if names is None:
            names = self.known[key] = _parsed_imports(source, path, package)
            self.parsed += 1
        self.used[key] = names
        return names

    def save(self) -> None:
        if self.file is None or not self.parsed:
            return
        data = {"version": self.version,
                "entries": {key: list(names) for key, names in sorted(self.used.items())}}
        # written whole under a name of its own (with the umask's permissions, as any file
        # Snakemake writes), then renamed: a reader sees the old file or the new one
        temporary = self.file.with_name(f".{self.file.name}.{os.getpid()}."
                                        f"{secrets.token_hex(4)}")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "x") as out:
                json.dump(data, out)
            os.replace(temporary, self.file)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()


_IN_MEMORY = ImportsCache()  # the default: this process's parses only


def project_modules(script: str | Path, root: str | Path | None = None,
                    cache: ImportsCache | None = None) -> list[Path]:
    """``script`` and every project file it loads, transitively, sorted.

    The project is the folder ``root``, by default the folder of ``script`` (the first
    entry of ``sys.path`` when Python runs it): a module counts when its file is in that
    folder or below. A module that a script imports by name at run time (a model family)
    is followed by calling this with the module's file and the scripts' folder as ``root``.
    ``cache`` keeps the files' parsed imports (by default in this process only).
    """
    cache = _IN_MEMORY if cache is None else cache
    script = Path(script).resolve()
    root = Path(root).resolve() if root else script.parent
    seen = {script}
    todo = [script]
    while todo:
        for name in cache.names(todo.pop(), root):
            found = _module_file(root, name)
            if found is not None and found not in seen:
                seen.add(found)
                todo.append(found)
    return sorted(seen)


def literal(module: str | Path, name: str):
    """The value of the top-level assignment ``name = <literal>`` in the file ``module``."""
    module = Path(module)
    tree = ast.parse(module.read_text(), filename=str(module))
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{module}: no top-level assignment to {name}")
