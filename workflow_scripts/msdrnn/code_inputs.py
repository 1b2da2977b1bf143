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

``literal`` reads a constant such as ``training.OUTPUTS`` the same way, so that the rules
use the library's one definition without importing the library (and with it TensorFlow's
neighbours, pandas or matplotlib) every time Snakemake starts.
"""

from __future__ import annotations

import ast
import functools
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


def _imported_names(path: Path, root: Path) -> tuple[str, ...]:
    """Dotted names of the modules that ``path`` may import, packages included.

    Parsed once per file version: Snakemake asks for some thirty scripts' inputs at every
    start, and they share most of their modules (parsing each again took most of a no-op
    dry run, docs/performance.md)."""
    stat = path.stat()
    return _parsed_imports(path, root, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _parsed_imports(path: Path, root: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    """``_imported_names`` of one version of the file (``mtime_ns``, ``size`` key the cache)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    relative = path.relative_to(root).with_suffix("")
    package = list(relative.parts[:-1])  # the package a relative import starts from
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


def project_modules(script: str | Path, root: str | Path | None = None) -> list[Path]:
    """``script`` and every project file it loads, transitively, sorted.

    The project is the folder ``root``, by default the folder of ``script`` (the first
    entry of ``sys.path`` when Python runs it): a module counts when its file is in that
    folder or below. A module that a script imports by name at run time (a model family)
    is followed by calling this with the module's file and the scripts' folder as ``root``.
    """
    script = Path(script).resolve()
    root = Path(root).resolve() if root else script.parent
    seen = {script}
    todo = [script]
    while todo:
        for name in _imported_names(todo.pop(), root):
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
