"""``vpbench compare <method>``: the pipeline's ``compare`` target, without writing the Snakemake command line.

* ``vpbench compare my_method`` runs ``snakemake compare`` on the smoke data (smoke profile and config, CPU,
  minutes; the numbers mean nothing, it shows that everything runs);
* ``vpbench compare my_method --paper`` runs it with the paper's configuration (``config/config.yaml``, the local
  profile; GPUs, hours);
* ``-n`` prints the jobs and their GPU-hours without running them.

The method is found the way the pipeline finds it (docs/adding-a-method.md): a registered name, an entry point of
``vpbench.methods`` installed in the environment that runs ``vpbench``, or ``package.module:factory`` on
``PYTHONPATH``. Snakemake itself is imported by nothing here: it runs as a child process, from the same
environment as this ``vpbench``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from vpbench.argtypes import POSITIVE_INT

#: (profile, config file) of each configuration the command runs
SMOKE = ("workflow/profiles/smoke", "config/smoke.yaml")
PAPER = ("workflow/profiles/local", "config/config.yaml")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare a method with DMVFN, DVF, PredNet and copy-last-frame (runs `snakemake compare`)",
        description="Run the pipeline's compare target for METHOD: train it with the config's recipe (unless it has "
        "nothing to train), evaluate it with the same metric code on the same clips as the baselines (their "
        "existing results are reused), count its parameters and GFLOPs, and write <reports>/compare/<name>.{md,csv,tex} "
        "and one per-frame difference figure per protocol. Smoke configuration by default; --paper for the paper's. "
        "Run it from the repository root.",
    )
    p.add_argument("method", help="registered name, entry point name (vpbench.methods) or package.module:factory")
    p.add_argument("--paper", action="store_true",
                   help="the paper's configuration (config/config.yaml, local profile; GPUs) instead of the smoke data")
    p.add_argument("-n", "--dry-run", action="store_true", help="list the jobs and their GPU-hours, run nothing")
    p.add_argument("--cores", type=POSITIVE_INT, default=2, help="CPU cores Snakemake may use (default 2)")
    p.add_argument("--options", help='factory keyword arguments as YAML, e.g. "{width: 32}" (config key method_options)')
    p.add_argument("--name", help="name in paths and ids (default: derived from METHOD; config key method_name)")
    p.add_argument("--label", help="row label of the table (default: the name; config key method_label)")
    p.add_argument("--untrained", action="store_true",
                   help="evaluate without training (default: train unless the method says trainable = False)")
    p.add_argument("--protocols", help="comma-separated subset of the compared protocols, e.g. kitti")
    p.add_argument("--configfile", action="append", default=[],
                   help="a further config file merged on top (as snakemake --configfile)")
    p.set_defaults(func=run)


def snakemake_command(args: argparse.Namespace) -> list[str]:
    """The ``snakemake`` command line the arguments stand for."""
    profile, config = PAPER if args.paper else SMOKE
    # Snakemake of this environment, whatever is on PATH
    command = [sys.executable, "-m", "snakemake", "compare",
               "--profile", profile, "--configfile", config, *args.configfile, "--cores", str(args.cores)]
    if args.dry_run:
        command.append("-n")
    settings = [f"method={args.method}"]
    if args.options:
        settings.append(f"method_options={args.options}")
    if args.name:
        settings.append(f"method_name={args.name}")
    if args.label:
        settings.append(f"method_label={args.label}")
    if args.untrained:
        settings.append("method_trained=false")
    if args.protocols:
        settings.append(f"compare_protocols=[{args.protocols}]")
    return [*command, "--config", *settings]


def run(args: argparse.Namespace) -> int:
    if not Path("Snakefile").is_file():
        print("vpbench compare: error: no Snakefile here; run it from the root of the vpbench checkout", file=sys.stderr)
        return 2
    command = snakemake_command(args)
    print("$ " + shlex.join(command), file=sys.stderr)
    # The jobs call `vpbench` by name: this environment's, where the method must be importable.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return subprocess.run(command, env=env).returncode
