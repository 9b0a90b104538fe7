"""What monitoring reads back from the log, as Arrow through ADBC: a million rows load in seconds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..schema import FEATURES
from .tables import PRIMARY

# each prediction joined with its newest label (a client may send one twice)
LABELLED = f"""
select p.served_at, p.probability, p.label as predicted, f.label as actual
from predictions p
join (select request_id, row, label, max(received_at) from feedback group by request_id, row) f
  on f.request_id = p.request_id and f.row = p.row
where p.role = '{PRIMARY}'
"""


def _query(log_file: Path, query: str) -> pd.DataFrame:
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(str(log_file)) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetch_arrow_table().to_pandas()


def newest_answers(log_file: Path, rows: int) -> pd.DataFrame:
    """The probability and features of the newest `rows` answers of the primary model (0 = all)."""
    limit = f" order by rowid desc limit {int(rows)}" if rows else ""
    columns = ", ".join(f'"{name}"' for name in FEATURES)
    return _query(log_file, f"select probability, {columns} from predictions where role = '{PRIMARY}'{limit}")


def labelled_answers(log_file: Path) -> pd.DataFrame:
    """Primary answers that have a ground-truth label: when served, probability, predicted and actual label."""
    frame = _query(log_file, LABELLED)
    frame["served_at"] = pd.to_datetime(frame["served_at"], unit="s")
    return frame
