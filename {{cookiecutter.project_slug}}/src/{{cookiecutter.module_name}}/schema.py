"""The data contract: the one definition of every column this project reads or serves.

The contract itself is data, `contract.yaml` beside this module, so that `adopt` can write
it for a new table. Validation (Great Expectations suites), the service's request model,
the prediction log, drift, fairness, the test fixtures and docs/data_schema.md all derive
from the objects below; a column changes in one place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

DType = Literal["int", "float", "category", "datetime"]
Role = Literal["id", "key", "feature", "sensitive", "label", "attribute"]

CONTRACT_FILE = Path(__file__).with_name("contract.yaml")


@dataclass(frozen=True)
class Column:
    """One column: its type, the values it may take and what it is for.

    `source` is the column's header in the raw file when it differs from `name`
    (raw headers are kept as they are; model-input names are Python identifiers).
    """

    name: str
    dtype: DType
    description: str = ""
    role: Role = "attribute"
    nullable: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    source: str | None = None

    @property
    def numeric(self) -> bool:
        return self.dtype in ("int", "float")


@dataclass(frozen=True)
class Table:
    """A table of the contract: a raw source (one or more files) or the model-input table."""

    name: str
    description: str
    columns: tuple[Column, ...]
    files: tuple[str, ...] = ()
    min_rows: int = 1  # the row bounds validation checks: the contract is their one home
    max_rows: int = 50_000_000

    @property
    def file(self) -> str:
        """The files as one label, for reports and docs."""
        return ", ".join(self.files) if self.files else f"{self.name}.parquet"

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def by_role(self, *roles: Role) -> list[Column]:
        return [column for column in self.columns if column.role in roles]


@dataclass(frozen=True)
class Contract:
    """The raw sources, the model-input table, the target and how sources become model input."""

    sources: tuple[Table, ...]
    model_input: Table
    target: str
    positive: Any = 1
    aggregate: str | None = None  # module of this package with build_model_input(); None: pass-through

    def fingerprint(self) -> str:
        """Identity of what a model consumes: model-input columns, types, categories and target.

        Models trained on contracts with different fingerprints are never compared: their
        inputs are not the same thing.
        """
        consumed = [
            (c.name, c.dtype, c.role, list(c.allowed or ()))
            for c in self.model_input.columns
            if c.role in ("id", "feature", "label")
        ]
        payload = json.dumps([consumed, self.target, str(self.positive)], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _column(spec: dict[str, Any]) -> Column:
    values = dict(spec)
    if values.get("allowed") is not None:
        values["allowed"] = tuple(str(value) for value in values["allowed"])
    return Column(**values)


def _table(spec: dict[str, Any]) -> Table:
    values = dict(spec)
    values["columns"] = tuple(_column(column) for column in values["columns"])
    values["files"] = tuple(values.get("files") or ())
    return Table(**values)


def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    """Read contract.yaml; a broken contract stops everything, with the file named."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return Contract(
            sources=tuple(_table(table) for table in spec["sources"]),
            model_input=_table(spec["model_input"]),
            target=spec["target"]["column"],
            positive=spec["target"].get("positive", 1),
            aggregate=spec.get("aggregate"),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a valid data contract ({type(error).__name__}: {error})") from error


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key; one flow mapping per column."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _mapping(dumper: yaml.SafeDumper, data: dict[str, Any]) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style="dtype" in data)


def _sequence(dumper: yaml.SafeDumper, data: list[Any]) -> Any:
    flow = all(isinstance(item, (str, int, float)) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _mapping)
_Dumper.add_representer(list, _sequence)


def _column_spec(column: Column) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": column.name, "dtype": column.dtype}
    defaults = Column(name="", dtype="int")
    for key, value in asdict(column).items():
        if key in ("name", "dtype", "description") or value == getattr(defaults, key):
            continue
        spec[key] = list(value) if isinstance(value, tuple) else value
    spec["description"] = column.description
    return spec


def _table_spec(table: Table) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": table.name}
    if table.files:
        spec["files"] = list(table.files)
    spec.update(description=table.description, min_rows=table.min_rows)
    if table.max_rows != Table.max_rows:
        spec["max_rows"] = table.max_rows
    spec["columns"] = [_column_spec(column) for column in table.columns]
    return spec


def dump_contract(contract: Contract, header: str) -> str:
    """contract.yaml's text: `header` (comment lines), then the contract."""
    body = {
        "target": {"column": contract.target, "positive": contract.positive},
        "aggregate": contract.aggregate,
        "sources": [_table_spec(table) for table in contract.sources],
        "model_input": _table_spec(contract.model_input),
    }
    return header + yaml.dump(body, Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True)


CONTRACT = load_contract()
RAW_SOURCES = CONTRACT.sources
MODEL_INPUT = CONTRACT.model_input
LABEL = CONTRACT.target
ID: str | None = next((column.name for column in MODEL_INPUT.by_role("id")), None)
SENSITIVE = [column.name for column in MODEL_INPUT.by_role("sensitive")]
FEATURES = [column.name for column in MODEL_INPUT.by_role("feature")]
NUMERIC_FEATURES = [c.name for c in MODEL_INPUT.by_role("feature") if c.numeric]
CATEGORICAL_FEATURES = [c.name for c in MODEL_INPUT.by_role("feature") if c.dtype == "category"]
NULLABLE_FEATURES = [c.name for c in MODEL_INPUT.by_role("feature") if c.nullable]
