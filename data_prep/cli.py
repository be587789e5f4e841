"""``vpbench prepare`` and ``vpbench smoke-data``.

``register`` only reads the registry (torch-free, light); the heavy modules are imported by the run functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from data_prep.errors import DataPrepError
from vpbench.argtypes import POSITIVE_INT
from vpbench.utils import atomic_write, size_argument


def forget_hash(name: str) -> int:
    from data_prep.integrity import HashLock

    lock = HashLock()
    key = Path(name).name  # a path to the archive works as well as its file name
    previous = lock.forget(key)
    if previous is None:
        pinned = ", ".join(lock.names()) or "none"
        print(f"vpbench prepare: {key} is not pinned in {lock.path} (pinned: {pinned}); nothing changed", file=sys.stderr)
        return 1
    print(f"un-pinned {key} (sha256 {previous}) from {lock.path}; the next prepare that uses it checks the archive "
          "again and pins its new hash")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from data_prep.acquire import acquire
    from data_prep.preprocess import available_cores, prepare

    if args.forget_hash:
        return forget_hash(args.forget_hash)
    missing = [flag for flag, value in (("dataset", args.dataset), ("--root", args.root), ("--out", args.out)) if value is None]
    if missing:
        print(f"vpbench prepare: {', '.join(missing)} required (or --forget-hash FILE)", file=sys.stderr)
        return 2
    splits = tuple(args.splits.split(",")) if args.splits else None
    try:
        acquire(args.dataset, args.root, allow_download=not args.no_download, subset=args.subset, list_path=args.list,
                splits=splits, source=args.source)
        manifest = prepare(args.dataset, args.root, args.out, size=args.size, subset=args.subset, splits=splits,
                           list_path=args.list, source=args.source, codec=args.codec,
                           jobs=args.jobs or available_cores())
    except (DataPrepError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"vpbench prepare {args.dataset}: {message}", file=sys.stderr)
        return 2
    print(f"{args.dataset}: source format {manifest['source']['format']}")  # type: ignore[index]
    for split, info in manifest["splits"].items():  # type: ignore[union-attr]
        print(f"{args.dataset}/{split}: {info['windows']} windows, {info['frames']} frames -> {args.out / split}")
        dropped = info["dropped_sequences"]
        if dropped["count"]:
            shown = ", ".join(dropped["names"][:5]) + (", ..." if dropped["count"] > 5 else "")
            print(f"{args.dataset}/{split}: {dropped['count']} sequence(s) shorter than one window dropped: {shown}")
    return 0


def run_smoke_data(args: argparse.Namespace) -> int:
    from data_prep.smoke import SMOKE_SIZES, build_smoke_data

    roots = build_smoke_data(args.out, force=args.force)
    table = {name: {"root": str(root), "size": f"{SMOKE_SIZES[name][0]}x{SMOKE_SIZES[name][1]}"} for name, root in roots.items()}
    for name, entry in table.items():
        print(f"{name:16s} {entry['root']}  (prepare with --size {entry['size']} --subset)")
    if args.json:
        atomic_write(args.json, json.dumps(table, indent=2, sort_keys=True) + "\n")
    return 0



def register(subparsers: argparse._SubParsersAction) -> None:
    from data_prep.codecs import CODECS
    from data_prep.registry import datasets

    known = datasets()
    prep = subparsers.add_parser(
        "prepare", help="acquire (download/verify/extract) and preprocess one dataset",
        description="Acquire one dataset under --root (download what is public, resumable and hash-checked; say what "
        "to place where for login-walled data) and write a fresh, checked prepared tree to --out (frames resized as the "
        "official preparation does, a manifest with counts, hashes and tool versions). Raw files are never modified.",
    )
    prep.add_argument("dataset", nargs="?", choices=sorted(known))
    prep.add_argument("--root", type=Path, help="raw folder (archives and their extracted trees; only read by preprocessing)")
    prep.add_argument("--out", type=Path, help="prepared tree to (re)write")
    formats = sorted({f.name for spec in known.values() for f in spec.formats})
    prep.add_argument("--source", choices=formats, help="source format of the raw data (default: the one found under --root)")
    prep.add_argument("--size", type=size_argument, help="HxW overriding the protocol resolution (explicit resize or a "
                      "source's own size); recorded")
    prep.add_argument("--subset", action="store_true", help="the input is deliberately a part of the dataset: skip full-set checks")
    prep.add_argument("--splits", help="comma-separated splits (default: all of the dataset's)")
    prep.add_argument("--no-download", action="store_true", help="never download; fail when something is missing")
    prep.add_argument("--list", type=Path, help="KITTI-A window list (default <root>/kitti_a.txt)")
    prep.add_argument("--codec", choices=CODECS, help="how frames are stored (default: the dataset's; docs/data.md, "
                      "'Disk per codec'); recorded in the manifest")
    prep.add_argument("--jobs", type=POSITIVE_INT, help="worker processes that decode, resize and encode (default: the "
                      "cores this process may use); the output is the same for every value")
    prep.add_argument("--forget-hash", metavar="FILE", help="un-pin FILE's trust-on-first-use sha256 and exit")
    prep.set_defaults(func=run_prepare)

    smoke = subparsers.add_parser(
        "smoke-data", help="build the mini raw trees of every dataset from the offline clips",
        description="Build a mini version of every dataset, in its real raw layout, from the real video clips of the "
        "pinned offline assets (what `make smoke` prepares and evaluates on).",
    )
    smoke.add_argument("--out", type=Path, required=True, help="folder of the raw trees (the smoke config's paths.raw)")
    smoke.add_argument("--force", action="store_true", help="rebuild even when the cached trees are up to date")
    smoke.add_argument("--json", type=Path, help="also write {dataset: {root, size}} to this file")
    smoke.set_defaults(func=run_smoke_data)
