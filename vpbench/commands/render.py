"""``vpbench render``: the reporting end of the pipeline (``vpbench plan`` / ``spec`` are in ``commands.plan``).

* ``vpbench render <table|figure> --config config/config.yaml`` writes ``reports/tables/<t>.{md,csv,tex}`` or
  ``reports/figures/<f>.{png,pdf}`` from the score/complexity/prediction files the configuration names.
* ``vpbench render predictions --spec ... --checkpoint ... --protocol ... --data-root ... --out x.npz`` rolls a
  method out on a few evaluation clips and stores the frames (and DMVFN's voxel flow) for Figures 3, 4, 6, 7.
* ``vpbench render compare --config ... --override '{"method": ...}'`` renders ``reports/compare/<name>.*``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpbench.argtypes import POSITIVE_INT, SEED
from vpbench.commands.plan import CONFIG_HELP
from vpbench.pipeline.config import OVERRIDE_HELP, parse_overrides


def register(subparsers: argparse._SubParsersAction) -> None:
    render = subparsers.add_parser(
        "render",
        help="render a paper table/figure from score files, or write prediction strips for the figures",
        description=(
            "TARGET is a table (table1 .. table13), a figure (fig1 .. fig8), 'all', 'compare' (the config's `method` "
            "against its baselines, reports/compare/<name>.*), 'compare-steps' (with --protocol: the per-frame "
            "differences to each baseline, reports/compare/<name>-steps-<protocol>.*), 'page' (the results page, "
            "<reports>/index.html: every table and figure and any comparison on one self-contained HTML page, from "
            "the files already rendered), or 'predictions'. Tables put each "
            "reproduced cell beside the paper's value with the difference; t+3 / t+5 are cumulative means over "
            "t+1..t+k."
        ),
    )
    render.add_argument("target", help="table1..table13, fig1..fig8, all, compare, compare-steps, page, or predictions")
    render.add_argument("--config", action="append", help=CONFIG_HELP)
    render.add_argument("--override", type=parse_overrides, help=OVERRIDE_HELP)
    render.add_argument("--out-dir", type=Path, help="output folder (default: <paths.reports>/tables or /figures)")
    prediction = render.add_argument_group("predictions")
    prediction.add_argument("--spec", type=Path, help="experiment spec JSON")
    prediction.add_argument("--checkpoint", help="checkpoint to load (none for parameter-free methods)")
    prediction.add_argument("--protocol", help="evaluation protocol")
    prediction.add_argument("--data-root", help="prepared dataset tree of the protocol")
    prediction.add_argument("--out", type=Path, help="prediction file to write (.npz); for 'page': the HTML file "
                            "(default <reports>/index.html)")
    prediction.add_argument("--clips", type=POSITIVE_INT, default=3, help="number of clips (default 3)")
    prediction.add_argument("--seed", type=SEED, default=0, help="routing seed (default 0)")
    render.set_defaults(func=run_render)


def _plan(args: argparse.Namespace):
    """The plan of the config; methods are not built (rendering reads files, and the workflow checked them)."""
    from vpbench.pipeline.plan import Plan

    return Plan.from_files(args.config, overrides=getattr(args, "override", None), method_checks="skip")


def run_render(args: argparse.Namespace) -> int:
    if args.target == "predictions":
        return run_predictions(args)
    if args.target == "page":
        from vpbench.reporting.page import write_page

        plan = _plan(args)
        print(f"wrote {write_page(plan, args.out or Path(plan.paths.results_page))}")
        return 0
    from vpbench.pipeline.config import ConfigError

    # Errors rise to vpbench.cli.main: a config error exits 2, a missing or malformed score file 1.
    # The renderers are imported per target (a table job does not pay for matplotlib).
    plan = _plan(args)
    artefacts, paths = plan.artefacts, plan.paths
    targets = list(artefacts.tables) + list(artefacts.figures) if args.target == "all" else [args.target]
    for target in targets:
        if target == "compare":
            from vpbench.reporting.tables import render_table

            out = args.out_dir or Path(paths.compare_dir)
            written = render_table(artefacts.compare_plan(), out)
        elif target == "compare-steps":
            from vpbench.reporting.figures import render_compare_steps

            if not args.protocol:
                raise ConfigError("render compare-steps needs --protocol <name>")
            out = args.out_dir or Path(paths.compare_dir)
            written = render_compare_steps(artefacts.compare_plan(), args.protocol, out)
        elif target in artefacts.tables:
            from vpbench.reporting.tables import render_table

            out = args.out_dir or Path(paths.tables_dir)
            written = render_table(artefacts.table_plan(target), out)
        elif target in artefacts.figures:
            from vpbench.reporting.figures import render_figure

            out = args.out_dir or Path(paths.figures_dir)
            written = render_figure(artefacts.figure_plan(target), out)
        else:
            raise ConfigError(
                f"unknown target {target!r}; tables: {', '.join(artefacts.tables)}; figures: {', '.join(artefacts.figures)}"
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
