"""The fast decoding path accepts only what pydantic accepts, with the same values.

Every body below goes through both paths: msgspec's (serving/decoding.py) and pydantic's
(contract.REQUEST). Whatever the fast path accepts, pydantic must accept with equal records;
whatever it refuses, pydantic decides, so the answers (and every 422) stay those of the contract.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import from_json

from {{ cookiecutter.module_name }}.data.synthetic import records
from {{ cookiecutter.module_name }}.schema import Column
from {{ cookiecutter.module_name }}.serving.contract import INT64, MAX_TEXT, RECORD_COLUMNS, REQUEST
from {{ cookiecutter.module_name }}.serving.decoding import decode_records, record_struct
from {{ cookiecutter.module_name }}.serving.validation import Refused, read_predict_request

MAX_ROWS = 50
HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 30.0, 30.5, -0.0, 1e308, -1e308, 10**20, -(10**20), INT64[1], INT64[1] + 1,
    INT64[0], INT64[0] - 1, "", "30", "1.5", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1), "\u00e9" * MAX_TEXT,
    "\U0001f600" * MAX_TEXT, "\U0001f600" * (MAX_TEXT + 1), "\u0000", [], {}, [1], {"a": 1},
]  # fmt: skip


def pydantic_records(body: bytes) -> list[dict[str, Any]] | None:
    """The records pydantic accepts from this body, or None when it refuses it."""
    try:
        data = from_json(body)
        if isinstance(data, dict) and isinstance(data.get("records"), list) and len(data["records"]) > MAX_ROWS:
            return None  # the service refuses it (413) before validating
        return REQUEST.validate_python(data)["records"]
    except (ValueError, ValidationError):
        return None


def edge_values(column: Any) -> list[Any]:
    """The hostile values, the column's own edges and just beyond them, and its categories."""
    values = list(HOSTILE_VALUES)
    for bound in (column.min, column.max):
        if bound is not None:
            values += [bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5, float(bound)]
    values += list(column.allowed or ()) + [value.upper() for value in column.allowed or ()]
    return values


def bodies() -> Iterator[bytes]:
    """Valid bodies, each field replaced by each edge value, and malformed documents."""
    base = records(RECORD_COLUMNS, 8, seed=3)
    yield json.dumps({"records": base}).encode()
    yield json.dumps({"records": records(RECORD_COLUMNS, 8, seed=4, nulls=False)}).encode()
    for column in RECORD_COLUMNS:
        for value in edge_values(column):
            yield json.dumps({"records": [*base[:2], {**base[2], column.name: value}]}).encode()
        yield json.dumps({"records": [{k: v for k, v in base[0].items() if k != column.name}]}).encode()
        name = json.dumps(column.name).encode()
        yield json.dumps({"records": [base[0]]}).encode().replace(name, name + b": 1, " + name, 1)
        yield json.dumps({"records": [base[0]]}).encode().replace(name + b": ", name + b": 1e400, ", 1)
        yield json.dumps({"records": [base[0]]}).encode().replace(name + b": ", name + b': NaN, "x": ', 1)
    one = json.dumps({"records": [base[0]]}).encode()
    yield from (
        json.dumps({"records": [{**base[0], "unknown": 1}]}).encode(),
        json.dumps({"records": base[:1], "extra": 1}).encode(),
        json.dumps({"records": []}).encode(),
        json.dumps({"records": base[0]}).encode(),
        json.dumps({"records": base * 10}).encode(),
        json.dumps(base).encode(),
        b'{"records": [], "records": ' + json.dumps(base).encode() + b"}",
        b'{"records": ' + json.dumps(base).encode() + b', "records": []}',
        b"\xef\xbb\xbf" + one,
        one + b" x",
        one[:-5],
        one.replace(b'": ', b'": \xff', 1),
        b"",
        b"null",
    )


@pytest.mark.parametrize("body", list(bodies()))
def test_what_the_fast_path_accepts_pydantic_accepts_with_the_same_values(body: bytes) -> None:
    fast = decode_records(body, MAX_ROWS)
    if fast is not None:
        assert fast == pydantic_records(body)


def test_a_valid_batch_takes_the_fast_path_and_reads_as_pydantic_reads_it() -> None:
    body = json.dumps({"records": records(RECORD_COLUMNS, MAX_ROWS, seed=5)}).encode()
    fast = decode_records(body, MAX_ROWS)
    assert fast is not None
    assert fast == pydantic_records(body) == read_predict_request(body, MAX_ROWS)


def test_accepted_records_pickle_as_their_body_and_unpickle_to_the_same_records() -> None:
    body = json.dumps({"records": records(RECORD_COLUMNS, MAX_ROWS, seed=7)}).encode()
    fast = decode_records(body, MAX_ROWS)
    assert fast is not None
    pickled = pickle.dumps(fast, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(pickled) < len(body) + 500  # the body and a reference to the decoder, not a dict per record
    assert pickle.loads(pickled) == fast == pydantic_records(body)


def test_a_body_the_fast_path_refuses_gets_pydantics_answer() -> None:
    lax = records(RECORD_COLUMNS, 2, seed=6, nulls=False)
    numeric = next(column for column in RECORD_COLUMNS if column.numeric and column.allowed is None)
    lax[1][numeric.name] = str(lax[1][numeric.name])  # pydantic reads a number in a string; msgspec does not
    body = json.dumps({"records": lax}).encode()
    assert decode_records(body, MAX_ROWS) is None
    assert read_predict_request(body, MAX_ROWS) == pydantic_records(body)
    with pytest.raises(Refused) as refused:
        read_predict_request(json.dumps({"records": lax * MAX_ROWS}).encode(), MAX_ROWS)
    assert refused.value.status == 413


def test_any_contract_column_decodes_integer_bounds_written_as_floats_and_any_name() -> None:
    columns = [
        Column("year", "int", role="feature", min=2006.0, max=2010.5),  # bounds inferred from data are floats
        Column("class", "float", role="feature", nullable=True, min=0, max=1),
        Column("__dict__", "category", role="feature", allowed=("a", "b")),
    ]
    record = record_struct(columns)

    def decoded(**values: Any) -> list[dict[str, Any]] | None:
        return decode_records(json.dumps({"records": [values]}).encode(), MAX_ROWS, record)

    assert decoded(year=2010, **{"class": 0.5, "__dict__": "a"}) == [{"year": 2010, "class": 0.5, "__dict__": "a"}]
    assert decoded(year=2006, __dict__="b") == [{"year": 2006, "class": None, "__dict__": "b"}]
    for refused in ({"year": 2011}, {"year": 2005}, {"year": 2010.0}, {"class": 2}, {"__dict__": "c"}, {"x": 1}):
        assert decoded(**{"year": 2008, "__dict__": "a", **refused}) is None
