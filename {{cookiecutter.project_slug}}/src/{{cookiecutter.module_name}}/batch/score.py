"""Score files of model-input rows with a registered or saved model, in bounded memory.

The input (a CSV or Parquet file, or a folder of them) is read in chunks of `chunk_rows` rows; each
chunk is checked against the contract, scored by the model's fitted pipeline (the one serving
uses) and appended to the output. The output holds every input row as it came, plus:

- `probability`: the model's probability of the positive class (null for a rejected row);
- `label`: 1 when the probability reaches the decision threshold, else 0 (null when rejected);
- `model_version`: the version of the model that scored it;
- `rejected`: why the row was not scored (null when it was), so no row is dropped silently.

The output replaces OUTPUT only when the whole batch is scored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..config import replacing
from ..schema import FEATURES
from .rows import BatchRefused, check_rows

log = logging.getLogger(__name__)

SCORE_COLUMNS = pa.schema(
    [
        ("probability", pa.float64()),
        ("label", pa.int8()),
        ("model_version", pa.string()),
        ("rejected", pa.string()),
    ]
)
DEFAULT_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class Counts:
    """What a batch run did with the rows it read."""

    scored: int
    rejected: int


def predictions(frame: pd.DataFrame, model: Any, version: str, threshold: float) -> pd.DataFrame:
    """The four score columns for the rows of `frame`, in its order."""
    typed, reasons = check_rows(frame)
    valid = reasons.isna().to_numpy()
    probability = np.full(len(frame), np.nan)
    if valid.any():
        probability[valid] = model.predict_proba(typed.loc[valid, FEATURES])[:, 1]
    label = pd.array(np.where(valid, probability >= threshold, False).astype("int8"), dtype="Int8")
    label[~valid] = pd.NA
    return pd.DataFrame(
        {
            "probability": probability,
            "label": label,
            "model_version": pd.array([version] * len(frame), dtype="string"),
            "rejected": reasons,
        },
        index=frame.index,
    )


def input_files(source: Path) -> tuple[list[Path], str]:
    """The files of `source` (a file, or a folder of them) and their format: "csv" or "parquet"."""
    found = sorted(path for path in source.rglob("*") if path.is_file()) if source.is_dir() else [source]
    files = [path for path in found if not path.name.startswith((".", "_"))]
    suffixes = {path.suffix.lower() for path in files}
    if not files:
        raise BatchRefused(f"{source}: no file to score")
    if len(suffixes) > 1 or not suffixes <= {".csv", ".parquet"}:
        raise BatchRefused(f"{source}: expected CSV or Parquet files of one kind, found {', '.join(sorted(suffixes))}")
    return files, suffixes.pop().lstrip(".")


def input_dataset(source: Path) -> ds.Dataset:
    """The rows of `source`; CSV columns are read as text and typed by the contract, as the service types JSON."""
    files, kind = input_files(source)
    if kind == "parquet":
        return ds.dataset([str(path) for path in files], format="parquet")
    header = ds.dataset(str(files[0]), format="csv").schema
    text = ds.CsvFileFormat(
        convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(header.names, pa.string()))
    )
    return ds.dataset([str(path) for path in files], format=text)


def chunks(dataset: ds.Dataset, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    # no read-ahead: one chunk in memory at a time, whatever the number and size of the files
    for batch in dataset.to_batches(batch_size=chunk_rows, batch_readahead=0, fragment_readahead=0):
        if batch.num_rows:
            yield batch


def scored_schema(schema: pa.Schema) -> pa.Schema:
    """The output's schema: the input's columns, then the score columns."""
    return pa.schema([*schema, *SCORE_COLUMNS])


def scored_batch(batch: pa.RecordBatch, model: Any, version: str, threshold: float) -> pa.RecordBatch:
    """`batch` as it came (its columns untouched, in Arrow), with the score columns appended."""
    scores = predictions(batch.to_pandas(), model, version, threshold)
    added = [pa.array(scores[field.name], type=field.type, from_pandas=True) for field in SCORE_COLUMNS]
    return pa.RecordBatch.from_arrays([*batch.columns, *added], schema=scored_schema(batch.schema))


def count(output: Path) -> Counts:
    """Rows scored and rejected in a written output (a Parquet file or folder)."""
    rejected = ds.dataset(str(output), format="parquet").to_table(columns=["rejected"]).column("rejected")
    return Counts(scored=rejected.null_count, rejected=len(rejected) - rejected.null_count)


def score_files(
    source: Path,
    output: Path,
    model: Any,
    version: str,
    threshold: float,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Counts:
    """Score `source` into the Parquet file `output`, one chunk in memory at a time."""
    dataset = input_dataset(source)
    schema = scored_schema(dataset.schema)
    rows = 0
    with replacing(output) as temporary, pq.ParquetWriter(temporary, schema) as writer:
        for batch in chunks(dataset, chunk_rows):
            writer.write_batch(scored_batch(batch, model, version, threshold).cast(schema))
            rows += batch.num_rows
            log.info("scored %d rows so far", rows)
    return count(output)
