"""The `score` command of the CLI: batch scoring with pandas (every level) or Spark (where the project has it)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..optional import present

log = logging.getLogger(__name__)

ENGINES = ("pandas", "spark") if present("batch.spark") else ("pandas",)


def cmd_score(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from ..serving.model_store import load_served_model
    from ..stages import StageFailed
    from .rows import BatchRefused

    try:
        if args.engine == "spark":
            from .spark import score_with_spark

            counts = score_with_spark(args.input, args.output, args.model_uri, args.master)
        else:
            from .score import score_files

            served = load_served_model(args.model_uri)
            counts = score_files(
                args.input, args.output, served.model, served.version, served.threshold, args.chunk_rows
            )
    except BatchRefused as refused:
        raise StageFailed(str(refused)) from refused
    log.info("wrote %s: %d rows scored, %d rejected", args.output, counts.scored, counts.rejected)
    if counts.rejected:
        log.warning("%d rows were not scored: the `rejected` column of %s says why", counts.rejected, args.output)


def add_commands(commands: Any) -> None:
    from ..config import SERVED_MODEL_URI
    from .score import DEFAULT_CHUNK_ROWS

    score = commands.add_parser("score", help="score a file or folder of model-input rows (CSV or Parquet)")
    score.add_argument("input", type=Path, help="CSV or Parquet file, or a folder of them")
    score.add_argument("output", type=Path, help="Parquet output: every input row with its score or rejection")
    score.add_argument("--engine", choices=ENGINES, default="pandas", help="default: pandas, in chunks")
    score.add_argument("--model-uri", default=SERVED_MODEL_URI, help=f"default: {SERVED_MODEL_URI}")
    score.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="pandas: rows in memory at once")
    if "spark" in ENGINES:
        score.add_argument("--master", default="local[*,4]", help="Spark master (default: this machine, 4 attempts)")
    score.set_defaults(handler=cmd_score, without_params=True)
