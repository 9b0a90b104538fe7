"""What monitoring reads back from the log, as Arrow through ADBC: a million rows load in seconds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..schema import FEATURES
from .store import LogUnavailable, describe, is_url
from .tables import PRIMARY, column_list

# each prediction joined with its newest label (a client may send one twice)
LABELLED = f"""
select p.served_at, p.probability, p.label as predicted, f.label as actual
from predictions p
join (
  select request_id, row, label, row_number() over (partition by request_id, row order by received_at desc) as nth
  from feedback
) f on f.request_id = p.request_id and f.row = p.row and f.nth = 1
where p.role = '{PRIMARY}'
"""


def missing(target: str | Path) -> bool:
    """No log file yet (a database says so when it is read)."""
    return not is_url(target) and not Path(target).exists()


def _query(target: str | Path, query: str) -> pd.DataFrame:
    if is_url(target):
        import adbc_driver_postgresql.dbapi as adbc
    else:
        import adbc_driver_sqlite.dbapi as adbc  # type: ignore[no-redef]
    try:
        with adbc.connect(str(target)) as connection, connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetch_arrow_table().to_pandas()
    except adbc.Error as error:
        raise LogUnavailable(f"{describe(target)}: the prediction log cannot be read ({error})") from error


def newest_answers(target: str | Path, rows: int) -> pd.DataFrame:
    """The probability and features of the newest `rows` answers of the primary model (0 = all)."""
    limit = f" order by served_at desc limit {int(rows)}" if rows else ""
    return _query(
        target, f"select probability, {column_list(FEATURES)} from predictions where role = '{PRIMARY}'{limit}"
    )


def labelled_answers(target: str | Path) -> pd.DataFrame:
    """Primary answers that have a ground-truth label: when served, probability, predicted and actual label."""
    frame = _query(target, LABELLED)
    frame["served_at"] = pd.to_datetime(frame["served_at"], unit="s")
    return frame
