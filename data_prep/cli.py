"""``vpbench prepare`` and ``vpbench smoke-data``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from data_prep.errors import DataPrepError


def parse_size(text: str) -> tuple[int, int]:
    """``"176x352"`` -> ``(176, 352)`` (height x width)."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be HxW (e.g. 176x352), got {text!r}") from None
    if height <= 0 or width <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return height, width


def run_prepare(args: argparse.Namespace) -> int:
    from data_prep.acquire import acquire
    from data_prep.preprocess import prepare

    splits = tuple(args.splits.split(",")) if args.splits else None
    try:
        acquire(args.dataset, args.root, allow_download=not args.no_download, subset=args.subset, list_path=args.list)
        manifest = prepare(args.dataset, args.root, args.out, size=args.size, subset=args.subset, splits=splits, list_path=args.list)
    except (DataPrepError, KeyError, ValueError) as err:
        print(f"vpbench prepare {args.dataset}: {err}", file=sys.stderr)
        return 2
    for split, info in manifest["splits"].items():  # type: ignore[union-attr]
        print(f"{args.dataset}/{split}: {info['windows']} windows, {info['frames']} frames -> {args.out / split}")
    return 0


def run_smoke_data(args: argparse.Namespace) -> int:
    from data_prep.smoke import SMOKE_SIZES, build_smoke_data

    roots = build_smoke_data(args.out, force=args.force)
    table = {name: {"root": str(root), "size": f"{SMOKE_SIZES[name][0]}x{SMOKE_SIZES[name][1]}"} for name, root in roots.items()}
    for name, entry in table.items():
        print(f"{name:16s} {entry['root']}  (prepare with --size {entry['size']} --subset)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from data_prep.catalog import DATASETS

    prep = subparsers.add_parser("prepare", help="acquire (download/verify/extract) and preprocess one dataset")
    prep.add_argument("dataset", choices=sorted(DATASETS))
    prep.add_argument("--root", type=Path, required=True, help="raw folder (archives and their extracted trees; never modified)")
    prep.add_argument("--out", type=Path, required=True, help="prepared tree to (re)write")
    prep.add_argument("--size", type=parse_size, help="HxW overriding the protocol resolution (smoke data); recorded")
    prep.add_argument("--subset", action="store_true", help="the input is deliberately a part of the dataset: skip full-set checks")
    prep.add_argument("--splits", help="comma-separated splits (default: all of the dataset's)")
    prep.add_argument("--no-download", action="store_true", help="never download; fail when something is missing")
    prep.add_argument("--list", type=Path, help="KITTI-A window list (default <root>/kitti_a.txt)")
    prep.set_defaults(func=run_prepare)

    smoke = subparsers.add_parser("smoke-data", help="build the mini raw trees of every dataset from the offline clips")
    smoke.add_argument("--out", type=Path, required=True)
    smoke.add_argument("--force", action="store_true", help="rebuild even when the cached trees are up to date")
    smoke.add_argument("--json", type=Path, help="also write {dataset: {root, size}} to this file")
    smoke.set_defaults(func=run_smoke_data)
