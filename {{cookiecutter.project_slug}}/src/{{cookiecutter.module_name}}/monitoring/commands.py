"""The monitoring commands of the CLI: drift, feedback and retrain (the CLI adds them where this package exists)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_drift(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .run import run_drift

    run_drift(params, args.current_raw)


def cmd_feedback(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .run import run_feedback

    run_feedback(params, args.current_raw)


def cmd_retrain(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from .run import run_retrain

    decision = run_retrain(params, args.new_data, args.decide_only, args.strategy)
    print(f"retrain={'true' if decision['retrain'] else 'false'}")


def add_commands(commands: Any) -> None:
    batch_help = "a raw batch folder (the files data/raw holds, by the same names) instead of the prediction log"
    drift = commands.add_parser("drift", help="compare the training data with the newest predictions or a raw batch")
    drift.add_argument("--current-raw", type=Path, default=None, help=batch_help)
    drift.set_defaults(handler=cmd_drift)
    feedback = commands.add_parser("feedback", help="judge the champion against ground truth, per time window")
    feedback.add_argument("--current-raw", type=Path, default=None, help="a labelled " + batch_help)
    feedback.set_defaults(handler=cmd_feedback)
    retrain = commands.add_parser("retrain", help="decide on retraining; train, compare and promote a challenger")
    retrain.add_argument("--new-data", type=Path, default=None, help="labelled raw batch to retrain with")
    retrain.add_argument("--decide-only", action="store_true", help="write the decision without training")
    retrain.add_argument("--strategy", choices=("separate", "combined"), default=None, help="default: params")
    retrain.set_defaults(handler=cmd_retrain)
