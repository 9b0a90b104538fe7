"""One command-line interface for every stage: `python -m {{ cookiecutter.module_name }} <command>`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import config, stages
from .docs import SCHEMA_DOC, refresh_generated_blocks, render_schema_doc
from .optional import optional_module, present

log = logging.getLogger("{{ cookiecutter.module_name }}")

STAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "ingest": stages.run_ingest,
    "validate": stages.run_validate,
    # with a feature store (features/store.py), its stage comes between validation and the training set
    **({"materialize": stages.run_materialize} if present("features.store") else {}),
    "featurize": stages.run_featurize,
    "train": stages.run_train,
    "evaluate": stages.run_evaluate,
}
# the packages that bring commands of their own, each by `add_commands(commands)` (where the project holds it):
# score at every level, drift, feedback and retrain from level 2, promote at level 3
COMMAND_MODULES = ("batch.commands", "monitoring.commands", "gitops")


def cmd_generate(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .data.sample import NoSample, sample_generator

    if args.output == config.RAW_DIR:
        refuse_foreign_raw_data(config.RAW_DIR)
    try:
        generate, write_sources, DriftKnobs = sample_generator()
    except NoSample as missing:
        raise stages.StageFailed(str(missing)) from missing
    frames = generate(
        size=params["data"].get("size", 1.0) if args.size is None else args.size,
        seed=params["seed"] if args.seed is None else args.seed,
        snapshot_date=params["data"]["snapshot_date"],
        drift=DriftKnobs(age_shift=args.age_shift, concept_drift=args.concept_drift),
    )
    for path in write_sources(frames, args.output):
        log.info("wrote %s", path)


def refuse_foreign_raw_data(raw_dir: Path) -> None:
    """The sample is written only into an empty data/raw: never over anyone's files."""
    present = sorted(
        path.name for path in raw_dir.glob("*") if path.is_file() and path.name != ".gitkeep" and path.suffix != ".dvc"
    )
    if present:
        raise stages.StageFailed(
            f"{raw_dir} already holds {', '.join(present)}: the sample is written only into an empty {raw_dir} "
            "(move those files away first if you want the sample back)"
        )


def cmd_raw_files(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .schema import RAW_SOURCES

    for table in RAW_SOURCES:
        for name in table.files:
            print(config.RAW_DIR / name)


def cmd_adopt(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .adopt import AdoptionRefused, adopt

    try:
        adopt(args.data, args.target, args.positive, args.id, args.sensitive, args.drop)
    except AdoptionRefused as refused:
        raise stages.StageFailed(str(refused)) from refused


def cmd_remove_example(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .adopt import AdoptionRefused, remove_example

    try:
        for path in remove_example():
            log.info("removed %s", path)
    except AdoptionRefused as refused:
        raise stages.StageFailed(str(refused)) from refused


def cmd_pipeline(args: argparse.Namespace, params: dict[str, Any]) -> None:
    for name, stage in STAGES.items():
        log.info("stage %s", name)
        stage(params)


def cmd_docs(args: argparse.Namespace, params: dict[str, Any]) -> None:
    SCHEMA_DOC.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_DOC.write_text(render_schema_doc(), encoding="utf-8")
    log.info("wrote %s", SCHEMA_DOC)
    registry = optional_module("models.registry")
    runs = registry.recent_runs() if registry is not None else None
    for page in refresh_generated_blocks(params, runs):
        log.info("refreshed the generated blocks of %s", page)


def cmd_serve(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .serving.server import run
    from .serving.settings import SettingsError

    try:
        run(args.host, args.port, args.access_log)
    except SettingsError as error:
        raise stages.StageFailed(str(error)) from error


def cmd_export(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .serving.model_store import export_model

    version = export_model(args.model_uri, args.output)
    log.info("exported model version %s from %s to %s", version, args.model_uri, args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.module_name }}", description=__doc__)
    parser.add_argument("--params", type=Path, default=config.PARAMS_FILE, help="parameter file (default: params.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write the example's seeded sample raw data")
    gen.add_argument("--size", type=float, default=None, help="1.0 = 20,000 customers (default: params data.size)")
    gen.add_argument("--seed", type=int, default=None, help="random seed (default: params seed)")
    gen.add_argument("--age-shift", type=float, default=0.0, help="years added to every age (data drift)")
    gen.add_argument("--concept-drift", type=float, default=0.0, help="share of premium customers whose label flips")
    gen.add_argument("--output", type=Path, default=config.RAW_DIR, help="folder for the CSV files")
    gen.set_defaults(handler=cmd_generate)
    commands.add_parser("raw-files", help="list the raw files the data contract names").set_defaults(
        handler=cmd_raw_files
    )
    adopt = commands.add_parser("adopt", help="make your own table the project's data: contract, raw data, params")
    adopt.add_argument("data", nargs="+", type=Path, help="CSV or Parquet files of one table (same columns)")
    adopt.add_argument("--target", required=True, help="the column to predict (two classes)")
    adopt.add_argument("--positive", default=None, help="the target value that is the positive class")
    adopt.add_argument("--id", default=None, help="a column identifying each row (unique)")
    adopt.add_argument("--sensitive", nargs="*", default=[], help="columns for fairness only, never features")
    adopt.add_argument("--drop", nargs="*", default=[], help="columns to ignore")
    adopt.set_defaults(handler=cmd_adopt)
    commands.add_parser("remove-example", help="delete the churn example's code and tests").set_defaults(
        handler=cmd_remove_example
    )
    for name, stage in STAGES.items():
        sub = commands.add_parser(name, help=(stage.__doc__ or name).splitlines()[0].rstrip("."))
        sub.set_defaults(handler=lambda args, params, stage=stage: stage(params))
    commands.add_parser("pipeline", help="run every stage in order").set_defaults(handler=cmd_pipeline)
    serve = commands.add_parser("serve", help="run the prediction service (settings from environment variables)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--access-log", action="store_true", help="log every request (slower)")
    serve.set_defaults(handler=cmd_serve)
    export = commands.add_parser("export", help="copy the served model into a folder for the container image")
    export.add_argument(
        "--model-uri", default=config.SERVED_MODEL_URI, help=f"model to export (default: {config.SERVED_MODEL_URI})"
    )
    export.add_argument("--output", type=Path, default=config.EXPORT_DIR)
    export.set_defaults(handler=cmd_export)
    docs = commands.add_parser("docs", help="regenerate docs/data_schema.md and the docs' blocks filled from outputs")
    docs.set_defaults(handler=cmd_docs)
    for name in COMMAND_MODULES:
        module = optional_module(name)
        if module is not None:
            module.add_commands(commands)
    return parser


def configure_logging() -> None:
    """INFO from this package, warnings only from the libraries it uses."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    log.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        # a command that reads no parameters (score) runs where params.yaml is not: the batch image
        args.handler(args, {} if getattr(args, "without_params", False) else config.load_params(args.params))
    except stages.StageFailed as failure:
        print(f"error: {args.command}: {failure}", file=sys.stderr)
        return 1
    except FileNotFoundError as missing:
        print(
            f"error: {args.command}: missing input {missing.filename or missing}; run the earlier stages first",
            file=sys.stderr,
        )
        return 1
    return 0
