"""Tables read a chunk at a time, and partial aggregates folded as the chunks come.

`ingest` hands an aggregation module every raw source as `Chunks`; the module reads the
tables with one row per entity `whole()` and folds the per-event tables chunk by chunk, so
memory grows with the entities, not with the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import pandas as pd


def stack(chunks: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The chunks as one table: the non-empty ones stacked, else the first (an empty table keeps its header)."""
    frames = list(chunks)
    filled = [frame for frame in frames if not frame.empty] or frames[:1]
    if not filled:
        return pd.DataFrame()
    return pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]


class Chunks:
    """One table as DataFrame chunks, read anew on every pass.

    Iterate over it to aggregate a big table a chunk at a time, or take it `whole()` when it
    fits in memory.
    """

    def __init__(self, read: Callable[[], Iterable[pd.DataFrame]]) -> None:
        self._read = read

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Chunks:
        """A table already in memory, as one chunk."""
        return cls(lambda: [frame])

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter(self._read())

    def whole(self) -> pd.DataFrame:
        """Every chunk stacked: for a table that fits in memory."""
        return stack(self)


def fold(partials: Iterable[pd.DataFrame], how: Mapping[str, str]) -> pd.DataFrame:
    """Per-chunk partial aggregates (indexed by key) combined into one row per key, as they come.

    `how` says how each column's partials combine: "sum" for counts and sums, "max" or "min"
    for extremes; a mean is folded as a sum and a count and divided at the end. Memory holds
    the running result and the partials not yet folded, never the chunks themselves: the
    partials are folded in once they hold as many rows as the result.
    """
    total: pd.DataFrame | None = None
    waiting: list[pd.DataFrame] = []
    rows = 0
    for partial in partials:
        if total is None or total.empty:
            total = partial  # an empty chunk's partial may carry a header's untyped columns: replaced
            continue
        if partial.empty:
            continue
        waiting.append(partial)
        rows += len(partial)
        if rows >= len(total):
            total, waiting, rows = _combine([total, *waiting], how), [], 0
    if total is None:
        return pd.DataFrame(columns=list(how))
    return _combine([total, *waiting], how) if waiting else total


def _combine(partials: list[pd.DataFrame], how: Mapping[str, str]) -> pd.DataFrame:
    return pd.concat(partials).groupby(level=0).agg(dict(how))
