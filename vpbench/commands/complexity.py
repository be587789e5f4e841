"""``vpbench complexity <method> --size HxW [--json out.json]``: parameters and GFLOPs under written conventions.

The method and the counters (torch, fvcore, ptflops) are imported when the command runs, not when the parser is
built, so that ``vpbench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vpbench.argtypes import float_list
from vpbench.cli import CommandLineError
from vpbench.utils import atomic_write, size_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "complexity",
        help="count parameters and GFLOPs (fvcore and ptflops; paper / full / routed-expected conventions)",
        description=(
            "Count parameters and GFLOPs of a method for one frame. fvcore counts a multiply-add as one FLOP. "
            "paper_convention: the blocks' convolutions and interpolations (no warps, no routing head); full: all "
            "that runs with every block on; routed_expected_*: weighted by per-block usage rates."
        ),
    )
    p.add_argument("method", help="registered method name (dmvfn, dvf, prednet, copy_last, ...) or module:factory")
    p.add_argument("--size", required=True, action="append", type=size_argument,
                   help="HEIGHTxWIDTH, e.g. 512x1024 (repeatable)")
    p.add_argument("--options", default="{}", help="method options as JSON, e.g. '{\"routing\": \"none\"}'")
    p.add_argument("--usage", type=float_list(0.0, 1.0, "usage rate"), help="per-block usage rates, comma-separated (default: beta for STEBS)")
    p.add_argument("--usage-from", type=Path, help="score parquet(s) directory or file to take usage rates from")
    p.add_argument("--no-ptflops", action="store_true", help="skip the ptflops cross-count")
    p.add_argument("--json", type=Path, help="write the report(s) here (one size: an object; several: a list)")
    p.set_defaults(func=run)


def _usage_from_scores(path: Path) -> tuple[list[float], str]:
    import pandas as pd

    from vpbench.reporting.aggregate import block_usage
    from vpbench.evaluation.scores import read_scores

    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise CommandLineError(f"--usage-from {path}: no .parquet score files there")
    usage = block_usage(pd.concat([read_scores(f, expect={}) for f in files], ignore_index=True))  # each one whole
    rates = usage.groupby("block")["usage_rate"].mean().sort_index().tolist()
    return [float(r) for r in rates], f"measured in {', '.join(str(f) for f in files)}"


def run(args: argparse.Namespace) -> int:
    try:
        options: dict[str, Any] = json.loads(args.options)
    except json.JSONDecodeError as err:
        raise CommandLineError(f"--options is not valid JSON: {err}") from None
    from models.registry import check_method, create_method
    from vpbench.evaluation.complexity import analyse

    check_method(args.method, options)  # a bad name or option: one line, exit 2
    method = create_method(args.method, **options)
    usage, source = None, None
    if args.usage:
        usage, source = args.usage, "given on the command line"
    elif args.usage_from:
        usage, source = _usage_from_scores(args.usage_from)
    reports = []
    for h, w in args.size:
        report = analyse(method, h, w, args.method, options, usage, source, with_ptflops=not args.no_ptflops)
        reports.append(report.to_dict())
        print(f"{args.method} at {h}x{w}: {report.params:,} parameters ({report.params_routing:,} in the routing head)")
        for key, value in report.gflops.items():
            print(f"  {key:<34} {value:10.3f} GFLOPs (fvcore, multiply-add = 1)")
        if report.usage_source:
            print(f"  usage rates: {report.usage_source}")
        ptf = report.counters.get("ptflops") or {}
        for key, value in ptf.items():
            if isinstance(value, float):
                print(f"  ptflops {key:<26} {value:10.3f} GMACs")
    if args.json:
        atomic_write(args.json, json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    return 0
