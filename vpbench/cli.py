"""The ``vpbench`` command line (also ``python -m vpbench``).

Each sub-command lives in its own module with a ``register(subparsers)`` function; this file only collects
them, so each area of the harness keeps its commands beside its code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# module -> registers one or more sub-commands
COMMAND_MODULES = (
    "vpbench.commands.complexity",
    "vpbench.commands.train",
    "vpbench.commands.evaluate",
    "vpbench.commands.render",
    "vpbench.commands.official",
    "data_prep.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpbench", description="Video prediction benchmark harness (DMVFN, CVPR 2023).")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
