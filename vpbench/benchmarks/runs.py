"""Where users wait for whole runs: the smoke pipeline from scratch, and the test suite.

    python -m vpbench.benchmarks.runs smoke [--out results/benchmarks/smoke.json]
    python -m vpbench.benchmarks.runs tests [--fast] [--out results/benchmarks/tests.json]

``smoke`` runs ``make smoke``'s command line (smoke profile, ``config/smoke.yaml``, 2 cores) in a temporary copy of
the workflow, so nothing of an existing smoke run is reused or overwritten: every job runs, from building the smoke
data to the last figure. ``tests`` runs ``make test``'s pytest command (``--fast``: ``make test-fast``'s). Both print
and record the wall time, the CPU time of the child processes, the load average before and after (a shared machine
slows everything), and what ran (jobs and artefacts; tests passed, failed, deselected). A failed run is recorded as
failed, with its exit status, and exits 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vpbench.pipeline.config import REPO_ROOT, copy_workflow
from vpbench.utils import atomic_write_json

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
FAST_MARKERS = "not slow and not integration"


def _environment() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count()}


def timed(command: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``command`` (its output captured) and measure wall and child CPU time and the load around it."""
    env = {**os.environ, **OFFLINE, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "command": " ".join(command),
        "returncode": done.returncode,
        "wall_s": wall,
        "child_cpu_s": (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "output_tail": (done.stdout + done.stderr)[-3000:],
    }


def smoke_run() -> dict[str, Any]:
    """The whole smoke graph from nothing, in a throwaway copy of the workflow."""
    with tempfile.TemporaryDirectory(prefix="vpbench-smoke-") as folder:
        root = copy_workflow(Path(folder))
        snakemake = str(Path(sys.executable).parent / "snakemake")
        run = timed([snakemake, "--profile", "workflow/profiles/smoke", "--configfile", "config/smoke.yaml",
                     "--cores", "2"], root)
        steps = re.findall(r"(\d+) of (\d+) steps \(100%\) done", run["output_tail"])
        reports = root / "reports" / "smoke"
        run["jobs"] = int(steps[-1][1]) if steps else None
        run["tables"] = sorted(p.name for p in (reports / "tables").glob("*.md")) if reports.is_dir() else []
        run["figures"] = sorted(p.name for p in (reports / "figures").glob("*.png")) if reports.is_dir() else []
    return run


def test_run(fast: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if fast:
        command += ["-m", FAST_MARKERS]
    run = timed(command, REPO_ROOT)
    summary = run["output_tail"].strip().splitlines()[-1] if run["output_tail"].strip() else ""
    for outcome in ("passed", "failed", "errors", "deselected", "skipped"):
        found = re.search(rf"(\d+) {outcome}", summary)
        run[outcome] = int(found.group(1)) if found else 0
    match = re.search(r" in ([\d.]+)s", summary)
    run["pytest_s"] = float(match.group(1)) if match else None
    run["selection"] = FAST_MARKERS if fast else "all"
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["smoke", "tests"])
    parser.add_argument("--fast", action="store_true", help="tests: only the unit tests (make test-fast)")
    parser.add_argument("--out", type=Path, help="JSON report (default: results/benchmarks/<what>.json)")
    args = parser.parse_args(argv)
    run = smoke_run() if args.what == "smoke" else test_run(args.fast)
    name = args.what if not (args.what == "tests" and args.fast) else "tests-fast"
    out = args.out or REPO_ROOT / "results" / "benchmarks" / f"{name}.json"
    atomic_write_json(out, {"what": name, "environment": _environment(), **run}, sort_keys=True)
    what = (f"{run['jobs']} jobs, {len(run['tables'])} tables, {len(run['figures'])} figures" if args.what == "smoke"
            else f"{run['passed']} passed, {run['failed']} failed, {run['deselected']} deselected")
    print(f"{name}: {'ok' if run['returncode'] == 0 else 'FAILED'} in {run['wall_s']:.0f} s wall "
          f"({run['child_cpu_s']:.0f} s CPU; load {run['load_average_before'][0]:.2f} before); {what}")
    print(f"wrote {out}")
    return 0 if run["returncode"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
