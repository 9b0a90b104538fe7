"""Find the modules a higher maturity level adds, at run time.

A feature that exists from a level on (the MLflow registry, monitoring, shadow and canary
serving, GitOps promotion) lives in modules of its own that only that level's project holds.
The shared code asks here whether they are present instead of being generated differently,
so it reads the same at every level and moving up a level adds files without editing it.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def present(name: str) -> bool:
    """Whether this project holds the module `name` of this package (e.g. "models.registry")."""
    try:
        return importlib.util.find_spec(f"{__package__}.{name}") is not None
    except ModuleNotFoundError:  # its parent package is absent as well
        return False


def optional_module(name: str) -> ModuleType | None:
    """The module `name` of this package, imported, or None where this project does not hold it."""
    return importlib.import_module(f"{__package__}.{name}") if present(name) else None
