"""Where users wait for whole runs: the smoke pipeline from scratch, and the test suite.

    python -m vpbench.benchmarks.runs smoke [--out results/benchmarks/smoke.json]
    python -m vpbench.benchmarks.runs tests [--fast | --one-process] [--out results/benchmarks/tests.json]
    python -m vpbench.benchmarks.runs startup [--repeats 3] [--out results/benchmarks/startup.json]

``smoke`` runs ``make smoke``'s command line (smoke profile, ``config/smoke.yaml``, 2 cores) in a temporary copy of
the workflow, so nothing of an existing smoke run is reused or overwritten: every job runs, from building the smoke
data to the last figure. ``tests`` runs ``make test`` (two pytest processes side by side; ``--fast``: ``make
test-fast``; ``--one-process``: the whole suite in one pytest process). Both print and record the wall time, the CPU
time of the child processes, the load average before and after (a shared machine slows everything), and what ran
(jobs and artefacts; tests passed, failed, deselected, summed over the pytest processes, and each one's own time). A failed run is recorded as
failed, with its exit status, and exits 1. ``startup`` times Snakemake's start-up alone (dry runs in a temporary
copy of the workflow): the default target with the built-in methods, and ``compare`` with the example plugin
(``examples/example-method``, named by module path) as the compared method; the median of ``--repeats`` runs each.
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


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command`` (its output captured) and measure wall and child CPU time and the load around it; ``output``
    is the whole output (for the caller to parse; not recorded), ``output_tail`` its end (recorded)."""
    env = {**os.environ, **(env or {}), **OFFLINE,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
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
        "output": done.stdout + done.stderr,
        "output_tail": (done.stdout + done.stderr)[-3000:],
    }


def smoke_run() -> dict[str, Any]:
    """The whole smoke graph from nothing, in a throwaway copy of the workflow."""
    with tempfile.TemporaryDirectory(prefix="vpbench-smoke-") as folder:
        root = copy_workflow(Path(folder))
        snakemake = str(Path(sys.executable).parent / "snakemake")
        run = timed([snakemake, "--profile", "workflow/profiles/smoke", "--configfile", "config/smoke.yaml",
                     "--cores", "2"], root)
        steps = re.findall(r"(\d+) of (\d+) steps \(100%\) done", run.pop("output", run["output_tail"]))
        reports = root / "reports" / "smoke"
        run["jobs"] = int(steps[-1][1]) if steps else None
        run["tables"] = sorted(p.name for p in (reports / "tables").glob("*.md")) if reports.is_dir() else []
        run["figures"] = sorted(p.name for p in (reports / "figures").glob("*.png")) if reports.is_dir() else []
    return run


#: the dry runs ``startup`` times: name -> Snakemake's arguments
STARTUP_RUNS = {
    "builtin_all": ["-n"],
    "plugin_compare": ["-n", "compare", "--config", "method=vpbench_example_method:build"],
}


def startup_runs(repeats: int) -> dict[str, Any]:
    """Snakemake's start-up: each dry run of :data:`STARTUP_RUNS` ``repeats`` times (interleaved), in a throwaway
    copy of the workflow, with the example plugin's folder on ``PYTHONPATH``."""
    import statistics

    plugin = str(REPO_ROOT / "examples" / "example-method")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), plugin, os.environ.get("PYTHONPATH")]))}
    snakemake = str(Path(sys.executable).parent / "snakemake")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in STARTUP_RUNS}
    with tempfile.TemporaryDirectory(prefix="vpbench-startup-") as folder:
        root = copy_workflow(Path(folder))
        for _ in range(repeats):
            for name, arguments in STARTUP_RUNS.items():
                runs[name].append(timed([snakemake, *arguments], root, env))
    result: dict[str, Any] = {"returncode": max(r["returncode"] for rs in runs.values() for r in rs), "repeats": repeats}
    for name, done in runs.items():
        result[name] = {
            "command": done[0]["command"],
            "wall_s": statistics.median(r["wall_s"] for r in done),
            "child_cpu_s": statistics.median(r["child_cpu_s"] for r in done),
            "runs": [{k: r[k] for k in ("returncode", "wall_s", "child_cpu_s", "load_average_before")} for r in done],
            "output_tail": done[-1]["output_tail"][-1500:],
        }
    result["load_average_before"] = runs[next(iter(runs))][0]["load_average_before"]
    result["load_average_after"] = runs[next(reversed(runs))][-1]["load_average_after"]
    return result


#: a pytest summary line of ``-q``: "555 passed, 9 skipped, 19 deselected in 203.76s (0:03:23)"
PYTEST_SUMMARY = re.compile(r"^(\d+ (?:passed|failed|errors?|skipped|deselected)\b.*) in ([\d.]+)s\b", re.M)


def test_run(fast: bool, one_process: bool = False) -> dict[str, Any]:
    """``make test`` or ``make test-fast`` as a user runs it, or the suite in one pytest process (``one_process``)."""
    if one_process:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(["-m", FAST_MARKERS] if fast else [])]
    else:
        command = ["make", "--no-print-directory", "test-fast" if fast else "test"]
    run = timed(command, REPO_ROOT)
    summaries = PYTEST_SUMMARY.findall(run.pop("output", run["output_tail"]))
    for outcome in ("passed", "failed", "errors", "deselected", "skipped"):
        run[outcome] = sum(int(n) for summary, _ in summaries for n in re.findall(rf"(\d+) {outcome}", summary))
    run["pytest_s"] = [float(seconds) for _, seconds in summaries]  # one per pytest process
    run["selection"] = FAST_MARKERS if fast else "all"
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["smoke", "tests", "startup"])
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--fast", action="store_true", help="tests: only the unit tests (make test-fast)")
    selection.add_argument("--one-process", action="store_true",
                           help="tests: the whole suite in one pytest process (make test runs two side by side)")
    parser.add_argument("--repeats", type=int, default=3, help="startup: runs of each dry run (their median)")
    parser.add_argument("--out", type=Path, help="JSON report (default: results/benchmarks/<what>.json)")
    args = parser.parse_args(argv)
    if args.what == "startup":
        run = startup_runs(args.repeats)
        out = args.out or REPO_ROOT / "results" / "benchmarks" / "startup.json"
        atomic_write_json(out, {"what": "startup", "environment": _environment(), **run}, sort_keys=True)
        for name in STARTUP_RUNS:
            print(f"{name}: {run[name]['wall_s']:.1f} s wall, {run[name]['child_cpu_s']:.1f} s CPU (median of "
                  f"{args.repeats}; {run[name]['command']})")
        print(f"load {run['load_average_before'][0]:.2f} before, {run['load_average_after'][0]:.2f} after; wrote {out}")
        return 0 if run["returncode"] == 0 else 1
    run = smoke_run() if args.what == "smoke" else test_run(args.fast, args.one_process)
    name = args.what if not (args.what == "tests" and args.fast) else "tests-fast"
    name += "-one-process" if args.what == "tests" and args.one_process else ""
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
