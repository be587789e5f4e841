"""``vpbench official-weights {fetch,verify,where}``: the authors' released checkpoints as a result source."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpbench.evaluation.official import DEFAULT_DIR, OFFICIAL_WEIGHTS, OfficialWeightsError, fetch, placement_message, verify


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "official-weights",
        help="download or verify the authors' released DMVFN checkpoints",
        description="Download (Google Drive links of the official README) or verify placed dmvfn_*.pkl files; "
        "the first verified file's sha256 is recorded and enforced afterwards.",
    )
    p.add_argument("action", choices=["fetch", "verify", "where"])
    p.add_argument("names", nargs="*", help=f"default: all of {', '.join(OFFICIAL_WEIGHTS)}")
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where the files live (default: %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    names = args.names or list(OFFICIAL_WEIGHTS)
    unknown = sorted(set(names) - set(OFFICIAL_WEIGHTS))
    if unknown:
        print(f"vpbench official-weights: error: unknown official weights {unknown}; known: {sorted(OFFICIAL_WEIGHTS)}",
              file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        if args.action == "where":
            print(placement_message(OFFICIAL_WEIGHTS[name], args.dir).split(". ", 1)[1])
            continue
        try:
            path = fetch(name, args.dir) if args.action == "fetch" else verify(name, args.dir)
            print(f"ok  {path}")
        except OfficialWeightsError as err:
            failed += 1
            print(f"error  {err}")
    return 1 if failed else 0
