"""The ``vpbench`` command line (also ``python -m vpbench``).

Each sub-command lives in its own module with a ``register(subparsers)`` function; this file only collects
them, so each area of the harness keeps its commands beside its code. Every workflow job starts this process, so
building the parser imports nothing heavy: a ``register`` only builds argparse (its ``type=``/``choices=`` facts
come from torch-free modules) and a command's ``run`` imports torch, pandas and the engine when it is called
(tests/test_cli_startup.py).

Errors: a command lets its errors rise, and :func:`main` prints each as one line, ``vpbench <command>: error:
<message>``, without a traceback (``--debug`` or ``VPBENCH_DEBUG=1`` print it). Exit codes: 0 success, 1 a failure
(a diverged run, a missing or partial result file of an earlier step, an unexpected error), 2 an error of the
user's input (config, spec, method options, placed weights or data, command-line arguments).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

EXIT_FAILURE = 1
EXIT_USER_ERROR = 2
DEBUG_ENV = "VPBENCH_DEBUG"
#: exception classes (module.qualname, matched along the MRO, so that nothing heavy is imported to classify)
USER_ERRORS = frozenset({
    "vpbench.cli.CommandLineError",
    "vpbench.pipeline.config.ConfigError",
    "vpbench.pipeline.spec.SpecError",
    "vpbench.evaluation.rollout.EvaluationError",
    "vpbench.evaluation.metrics.MetricInputError",
    "vpbench.training.losses.PerceptualWeightsMissing",
    "vpbench.evaluation.lpips_offline.LpipsWeightsError",
    "vpbench.evaluation.official.OfficialWeightsError",
    "vpbench.assets.AssetError",
    "models.checkpoint.CheckpointError",
    "models.registry.MethodOptionError",
    "models.contract.FrameContractError",
    "data_prep.errors.DataPrepError",
    "builtins.FileNotFoundError",
})
FAILURES = frozenset({
    "vpbench.training.trainer.TrainingDiverged",
    "vpbench.evaluation.rollout.NonFinitePrediction",
    "vpbench.evaluation.scores.ScoreFileError",
    "vpbench.reporting.errors.TableError",
    "vpbench.reporting.errors.FigureError",
    "vpbench.reporting.aggregate.AggregationError",
    "vpbench.evaluation.predictions.PredictionError",
    "vpbench.reporting.intervals.IntervalError",
    "vpbench.reporting.comparison.ComparisonError",
    "vpbench.outputs.OutputError",
    "vpbench.reporting.page.PageError",
})


class CommandLineError(ValueError):
    """A command-line value that parses but cannot be used (bad JSON in --options, an empty --usage-from folder)."""


def classify(error: BaseException) -> int | None:
    """EXIT_USER_ERROR or EXIT_FAILURE for a known error (the most specific class decides), None if unknown."""
    for cls in type(error).__mro__:
        name = f"{cls.__module__}.{cls.__qualname__}"
        if name in FAILURES:
            return EXIT_FAILURE
        if name in USER_ERRORS:
            return EXIT_USER_ERROR
    return None


def one_line(error: BaseException) -> str:
    text = str(error.args[0]) if len(error.args) == 1 and isinstance(error.args[0], str) else str(error)
    return " ".join(part.strip() for part in text.splitlines() if part.strip()) or type(error).__name__


def debug_enabled(args: argparse.Namespace | None = None) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")

# module -> registers one or more sub-commands
COMMAND_MODULES = (
    "vpbench.commands.complexity",
    "vpbench.commands.train",
    "vpbench.commands.evaluate",
    "vpbench.commands.render",
    "vpbench.commands.plan",
    "vpbench.commands.official",
    "vpbench.commands.compare",
    "data_prep.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpbench", description="Video prediction benchmark harness (DMVFN, CVPR 2023).")
    parser.add_argument("--debug", action="store_true", help=f"show tracebacks of errors (also {DEBUG_ENV}=1)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: argparse's one line and exit code 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"vpbench {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - every error ends as one line (traceback on demand)
        return report_error(args, err)


def report_error(args: argparse.Namespace, error: BaseException) -> int:
    code = classify(error)
    if debug_enabled(args):
        traceback.print_exception(error, file=sys.stderr)
    message = one_line(error)
    if code is None:
        code = EXIT_FAILURE
        message = f"{type(error).__name__}: {message}"
        if not debug_enabled(args):
            message += f" (unexpected: rerun with --debug or {DEBUG_ENV}=1 for the traceback)"
    print(f"vpbench {args.command}: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
