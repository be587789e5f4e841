"""``vpbench plan``, ``vpbench spec`` and ``vpbench official-standin``: the planning end of the pipeline.

* ``vpbench plan --config ...`` lists the experiments and estimates GPU-hours from the config's assumptions.
* ``vpbench spec <experiment> --config ... --out results/specs/<experiment>.json`` resolves one experiment.
* ``vpbench official-standin --checkpoint final.pt --out x.pkl`` writes a trained DMVFN as the authors' files are
  laid out (the smoke run's stand-in for the released weights).

Registering these imports nothing heavy; ``plan`` and ``spec`` stay torch-free unless they check methods.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpbench.pipeline.config import OVERRIDE_HELP, parse_overrides

CONFIG_HELP = "pipeline config file(s), merged in order like snakemake --configfile (default config/config.yaml)"


def register(subparsers: argparse._SubParsersAction) -> None:
    spec = subparsers.add_parser(
        "spec", help="write the experiment spec JSON of one experiment of the config",
        description="Resolve one experiment of the pipeline config (method, options, recipe, seed, protocols) and write "
        "its spec, the file `vpbench train` and `vpbench evaluate` read.",
    )
    spec.add_argument("experiment", help="experiment id, e.g. dmvfn-routing_none-city")
    spec.add_argument("--config", action="append", help=CONFIG_HELP)
    spec.add_argument("--override", type=parse_overrides, help=OVERRIDE_HELP)
    spec.add_argument("--out", type=Path, required=True, help="spec file to write")
    spec.add_argument("--no-method-checks", action="store_true",
                      help="skip building every planned method on the meta device (the workflow's main process did)")
    spec.set_defaults(func=run_spec)

    plan = subparsers.add_parser(
        "plan", help="list the experiments of a config and estimate their GPU-hours",
        description="List every experiment of the pipeline config (trained here, official weights or untrained, and "
        "its protocols) and the GPU-hours estimate from the config's stated assumptions (`snakemake -n <target>` "
        "prints the estimate of one target's jobs).",
    )
    plan.add_argument("--config", action="append", help=CONFIG_HELP)
    plan.add_argument("--override", type=parse_overrides, help=OVERRIDE_HELP)
    plan.add_argument("--json", type=Path, help="also write the experiments and the estimate as JSON")
    plan.set_defaults(func=run_plan)

    standin = subparsers.add_parser(
        "official-standin",
        help="write a trained DMVFN checkpoint in the authors' .pkl layout (smoke runs: a stand-in, not the released weights)",
        description="Write the DMVFN of a vpbench checkpoint in the layout of the authors' released .pkl files, so that "
        "a smoke run takes an official-format file through the official loader. Not the released weights.",
    )
    standin.add_argument("--checkpoint", type=Path, required=True, help="vpbench checkpoint (final.pt) of a trained DMVFN")
    standin.add_argument("--out", type=Path, required=True, help=".pkl file to write")
    standin.set_defaults(func=run_official_standin)


def run_spec(args: argparse.Namespace) -> int:
    """Resolve the experiment from the config files and write its spec JSON atomically."""
    from vpbench.pipeline.plan import Plan
    from vpbench.utils import atomic_write_json

    plan = Plan.from_files(args.config, overrides=args.override, method_checks="skip" if args.no_method_checks else "here")
    atomic_write_json(args.out, plan.experiment_spec(args.experiment), sort_keys=True)
    return 0


def run_plan(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from vpbench.pipeline.plan import Plan
    from vpbench.utils import atomic_write_json

    plan = Plan.from_files(args.config, overrides=args.override)  # a ConfigError: one line, exit 2
    estimate = plan.estimate()
    experiments = plan.experiment_set.by_id
    print(f"{len(experiments)} experiments ({estimate.train_jobs} trainings, {estimate.eval_jobs} evaluations)")
    for exp in experiments.values():
        what = "train" if exp.trained_here else exp.source
        print(f"  {exp.id:<45} {what:<17} {', '.join(exp.protocols)}")
    print(estimate.summary())
    if args.json:
        payload = {
            "experiments": {k: asdict(v) for k, v in experiments.items()},
            "estimate": {**asdict(estimate), "total_hours": estimate.total_hours},
        }
        atomic_write_json(args.json, payload, sort_keys=True)
    return 0


def run_official_standin(args: argparse.Namespace) -> int:
    """The DMVFN of ``--checkpoint`` saved as the authors' release is laid out, so the official loader is exercised."""
    from models import DMVFN, save_official_format
    from vpbench.training.checkpoints import load_method

    model = load_method(args.checkpoint)  # a CheckpointError: one line, exit 2
    if not isinstance(model, DMVFN):
        print(f"vpbench official-standin: {args.checkpoint} holds a {type(model).__name__}, not a DMVFN", file=sys.stderr)
        return 1
    save_official_format(model, args.out)  # writes aside and renames
    print(f"wrote {args.out}")
    return 0
