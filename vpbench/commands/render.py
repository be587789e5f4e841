"""``vpbench render``, ``vpbench spec`` and ``vpbench plan``: the reporting end of the pipeline.

* ``vpbench render <table|figure> --config config/config.yaml`` writes ``reports/tables/<t>.{md,csv,tex}`` or
  ``reports/figures/<f>.{png,pdf}`` from the score/complexity/prediction files the configuration names.
* ``vpbench render predictions --spec ... --checkpoint ... --protocol ... --data-root ... --out x.npz`` rolls a
  method out on a few evaluation clips and stores the frames (and DMVFN's voxel flow) for Figures 3, 4, 6, 7.
* ``vpbench spec <experiment> --config ... --out results/specs/<experiment>.json`` resolves one experiment.
* ``vpbench plan --config ...`` lists the experiments and estimates GPU-hours from the config's assumptions.
* ``vpbench render compare --config ... --override '{"method": ...}'`` renders ``reports/compare/<name>.*``.
* ``vpbench official-standin --checkpoint final.pt --out x.pkl`` writes a trained DMVFN as the authors' files are
  laid out (the smoke run's stand-in for the released weights).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vpbench.pipeline.plan import OVERRIDE_HELP, parse_overrides

CONFIG_HELP = "pipeline config file(s), merged in order like snakemake --configfile (default config/config.yaml)"


def register(subparsers: argparse._SubParsersAction) -> None:
    render = subparsers.add_parser(
        "render",
        help="render a paper table/figure from score files, or write prediction strips for the figures",
        description=(
            "TARGET is a table (table1 .. table13), a figure (fig1 .. fig8), 'all', 'compare' (the config's `method` "
            "against its baselines, reports/compare/<name>.*), 'compare-steps' (with --protocol: the per-frame "
            "differences to each baseline, reports/compare/<name>-steps-<protocol>.*), or 'predictions'. Tables put each "
            "reproduced cell beside the paper's value with the difference; t+3 / t+5 are cumulative means over "
            "t+1..t+k."
        ),
    )
    render.add_argument("target", help="table1..table13, fig1..fig8, all, compare, compare-steps, or predictions")
    render.add_argument("--config", action="append", help=CONFIG_HELP)
    render.add_argument("--override", type=parse_overrides, help=OVERRIDE_HELP)
    render.add_argument("--out-dir", type=Path, help="output folder (default: <paths.reports>/tables or /figures)")
    prediction = render.add_argument_group("predictions")
    prediction.add_argument("--spec", type=Path, help="experiment spec JSON")
    prediction.add_argument("--checkpoint", help="checkpoint to load (none for parameter-free methods)")
    prediction.add_argument("--protocol", help="evaluation protocol")
    prediction.add_argument("--data-root", help="prepared dataset tree of the protocol")
    prediction.add_argument("--out", type=Path, help="prediction file to write (.npz)")
    prediction.add_argument("--clips", type=int, default=3, help="number of clips (default 3)")
    prediction.add_argument("--seed", type=int, default=0, help="routing seed (default 0)")
    render.set_defaults(func=run_render)

    spec = subparsers.add_parser("spec", help="write the experiment spec JSON of one experiment of the config")
    spec.add_argument("experiment", help="experiment id, e.g. dmvfn-routing_none-city")
    spec.add_argument("--config", action="append", help=CONFIG_HELP)
    spec.add_argument("--override", type=parse_overrides, help=OVERRIDE_HELP)
    spec.add_argument("--out", type=Path, required=True, help="spec file to write")
    spec.set_defaults(func=run_spec)

    plan = subparsers.add_parser("plan", help="list the experiments of a config and estimate their GPU-hours")
    plan.add_argument("--config", action="append", help=CONFIG_HELP)
    plan.add_argument("--override", type=parse_overrides, help=OVERRIDE_HELP)
    plan.add_argument("--json", type=Path, help="also write the experiments and the estimate as JSON")
    plan.set_defaults(func=run_plan)

    standin = subparsers.add_parser(
        "official-standin",
        help="write a trained DMVFN checkpoint in the authors' .pkl layout (smoke runs: a stand-in, not the released weights)",
    )
    standin.add_argument("--checkpoint", type=Path, required=True, help="vpbench checkpoint (final.pt) of a trained DMVFN")
    standin.add_argument("--out", type=Path, required=True, help=".pkl file to write")
    standin.set_defaults(func=run_official_standin)


def _plan(args: argparse.Namespace):
    from vpbench.pipeline.plan import Plan

    return Plan.from_files(args.config, overrides=getattr(args, "override", None))


def run_spec(args: argparse.Namespace) -> int:
    from vpbench.pipeline.plan import write_spec

    return write_spec(args.experiment, args.config, args.out, prog="vpbench spec", stderr=sys.stderr, overrides=args.override)


def run_official_standin(args: argparse.Namespace) -> int:
    from vpbench.pipeline.plan import write_official_standin

    code = write_official_standin(args.checkpoint, args.out, stderr=sys.stderr)
    if code == 0:
        print(f"wrote {args.out}")
    return code


def run_plan(args: argparse.Namespace) -> int:
    plan = _plan(args)  # a ConfigError rises to vpbench.cli.main: one line, exit 2
    estimate = plan.estimate()
    print(f"{len(plan.experiments)} experiments ({estimate.train_jobs} trainings, {estimate.eval_jobs} evaluations)")
    for exp in plan.experiments.values():
        what = "train" if exp.trained_here else exp.source
        print(f"  {exp.id:<45} {what:<17} {', '.join(exp.protocols)}")
    print(estimate.summary())
    if args.json:
        from dataclasses import asdict

        from vpbench.reporting.tables import atomic_write

        payload = {
            "experiments": {k: asdict(v) for k, v in plan.experiments.items()},
            "estimate": {**asdict(estimate), "total_hours": estimate.total_hours},
        }
        atomic_write(args.json, json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return 0


def run_render(args: argparse.Namespace) -> int:
    if args.target == "predictions":
        return run_predictions(args)
    from vpbench.pipeline.plan import ConfigError, Plan

    # Errors rise to vpbench.cli.main: a config error exits 2, a missing or malformed score file 1.
    # Rendering reads score files only, so the plan skips its method and MS-SSIM checks (they import torch; the
    # evaluation jobs that wrote the scores ran them), and the renderers are imported per target (a table job
    # does not pay for matplotlib).
    plan = Plan.from_files(args.config, overrides=args.override, check_methods=False)
    targets = list(plan.tables) + list(plan.figures) if args.target == "all" else [args.target]
    for target in targets:
        if target == "compare":
            from vpbench.reporting.tables import render_table

            out = args.out_dir or Path(plan.reports) / "compare"
            written = render_table(plan.compare_plan(), out)
        elif target == "compare-steps":
            from vpbench.reporting.figures import render_compare_steps

            if not args.protocol:
                raise ConfigError("render compare-steps needs --protocol <name>")
            out = args.out_dir or Path(plan.reports) / "compare"
            written = render_compare_steps(plan.compare_plan(), args.protocol, out)
        elif target in plan.tables:
            from vpbench.reporting.tables import render_table

            out = args.out_dir or Path(plan.reports) / "tables"
            written = render_table(plan.table_plan(target), out)
        elif target in plan.figures:
            from vpbench.reporting.figures import render_figure

            out = args.out_dir or Path(plan.reports) / "figures"
            written = render_figure(plan.figure_plan(target), out)
        else:
            raise ConfigError(
                f"unknown target {target!r}; tables: {', '.join(plan.tables)}; figures: {', '.join(plan.figures)}"
            )
        print("wrote " + ", ".join(str(p) for p in written))
    return 0


def run_predictions(args: argparse.Namespace) -> int:
    missing = [name for name in ("spec", "protocol", "data_root", "out") if getattr(args, name) is None]
    if missing:
        print(f"vpbench render predictions: missing --{', --'.join(m.replace('_', '-') for m in missing)}", file=sys.stderr)
        return 2
    from vpbench.evaluation.predictions import write_predictions

    write_predictions(args.spec, args.checkpoint, args.protocol, args.data_root, args.out, clips=args.clips, seed=args.seed)
    print(f"wrote {args.out}")
    return 0
