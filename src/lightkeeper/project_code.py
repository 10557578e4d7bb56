"""A project's own Python: which files it is, and importing from it without stale modules."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType


def project_code(project_dir: Path) -> list[str]:
    """The project's own Python: top-level modules and packages (data files stay out)."""
    modules = sorted(str(p) for p in project_dir.glob("*.py"))
    packages = sorted(
        str(p.parent)
        for p in project_dir.glob("*/__init__.py")
        if not p.parent.name.startswith(".")
    )
    return modules + packages


@contextmanager
def on_path(project_dir: Path) -> Iterator[None]:
    """The project folder first on ``sys.path`` while its code runs."""
    entry = str(project_dir)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)  # the first occurrence: the one inserted above


def fresh_import(project_dir: Path, module_name: str) -> ModuleType:
    """Import ``module_name`` from the project folder, never a same-named module of before.

    Every module the project defines is imported afresh: a long-lived process (notebook,
    API) must not reuse a same-named module of another project.
    """
    own = {module_name.split(".")[0]} | {Path(path).stem for path in project_code(project_dir)}
    own -= set(sys.stdlib_module_names)
    for name in list(sys.modules):
        if name.split(".")[0] in own:
            del sys.modules[name]
    with on_path(project_dir):
        return importlib.import_module(module_name)
