"""The sample data of the contract's aggregation, when it ships one (the example does).

A contract whose `aggregate` module also offers `generate`, `write_sources` and
`DriftKnobs` has a sample generator: `make data`, the drift demo and the test fixtures
use it. A contract for your own table has none, and says so.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..schema import CONTRACT, Contract


class NoSample(RuntimeError):
    """The data contract describes a table that has no generator."""


def aggregate_module(contract: Contract = CONTRACT) -> ModuleType | None:
    """The module of this package that the contract names as `aggregate`, if any."""
    if not contract.aggregate:
        return None
    return importlib.import_module(f"{__package__.rpartition('.')[0]}.{contract.aggregate}")


def uses_example(contract: Contract = CONTRACT) -> bool:
    """Whether the contract still reads through the churn example's package."""
    return bool(contract.aggregate) and contract.aggregate.split(".")[0] == "example"


def sample_generator() -> tuple[Any, Any, Any]:
    """(generate, write_sources, DriftKnobs) of the contract's aggregation."""
    module = aggregate_module()
    if module is None or not hasattr(module, "generate"):
        raise NoSample(
            "this project's data contract describes your own data, which has no sample generator: "
            "put the files that contract.yaml names into data/raw (the raw-files command lists them)"
        )
    return module.generate, module.write_sources, module.DriftKnobs
