"""Plan-time checks: what would make a job fail hours later is an error before any job runs.

Each check names the config file, the key and the experiment. The protocol and crop checks are torch-free. The
method check builds every planned method on the meta device (``models.registry.check_method``), which imports torch:
the Snakefile, which must stay torch-free, runs it in a child process (``python -m vpbench.pipeline.checks``), once,
in the main Snakemake process; ``vpbench plan`` and ``vpbench spec`` run it in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from vpbench.pipeline.config import ConfigError
from vpbench.pipeline.experiments import ExperimentSet
from vpbench.utils import format_size, parse_size

#: exit status of the child process when a method check failed (its one JSON line on stdout says which)
METHOD_CHECK_FAILED = 3


def check_protocols(config: Mapping[str, Any], experiments: ExperimentSet) -> None:
    """The protocols the plan evaluates are the registered ones as the config resolves them
    (:func:`~vpbench.pipeline.config.resolve_protocols`: a config edited after loading may disagree) and fit the
    metrics."""
    from data_prep.protocols import PROTOCOLS
    from vpbench.evaluation.metric_records import METRICS
    from vpbench.pipeline.config import resolve_protocols

    used = sorted({p for exp in experiments.by_id.values() for p in exp.protocols})
    resolve_protocols({**config, "protocols": {name: config["protocols"][name] for name in used}})
    for name in used:
        known = PROTOCOLS[name]
        if known.routing_only:
            continue  # usage rates only: no frame is scored
        prepared = (config["datasets"].get(known.dataset) or {}).get("size")
        size = parse_size(prepared) if prepared else (known.height, known.width)
        for metric in METRICS.values():
            problem = metric.check_size(*size)
            if problem:
                where = f"datasets.{known.dataset}.size" if prepared else f"protocols.{name}"
                raise ConfigError(f"{where} (protocol {name}): {problem}")


def check_specs_and_crops(config: Mapping[str, Any], experiments: ExperimentSet, spec_of: Any) -> None:
    """Every experiment's spec builds, and a training crop fits in the frames of its training dataset."""
    from data_prep.catalog import DATASETS
    from vpbench.pipeline.spec import ExperimentSpec, SpecError
    from vpbench.training.recipes import resolve_recipe

    for exp in experiments.by_id.values():  # every spec builds (ExperimentSpec checks each value)
        try:
            spec_of(exp.id)
        except SpecError as err:
            where = f"recipes.{exp.recipe}" if exp.recipe else "evaluation"
            raise ConfigError(f"{where} (experiment {exp.id}): {err}") from None
    checked: set[tuple[str | None, str | None]] = set()
    for exp in experiments.by_id.values():
        if not exp.trained_here or (exp.recipe, exp.train_dataset) in checked:
            continue
        checked.add((exp.recipe, exp.train_dataset))
        dataset = exp.train_dataset
        configured = (config["datasets"].get(dataset) or {}).get("size")
        if configured:
            size, size_from = parse_size(configured), f"datasets.{dataset}.size"
        elif dataset in DATASETS and DATASETS[dataset].size:
            size, size_from = DATASETS[dataset].size, f"the prepared size of {dataset}"
        else:
            continue  # frames keep their native size: checked when the data are read
        try:
            spec = ExperimentSpec.from_dict(spec_of(exp.id), where=f"experiment {exp.id}")
            crop = resolve_recipe(spec.train).crop  # type: ignore[arg-type]
        except (SpecError, ValueError) as err:
            raise ConfigError(f"recipes.{exp.recipe} (experiment {exp.id}): {err}") from None
        if crop > min(size):
            given = config["recipes"][exp.recipe].get("crop")
            what = f"crop {crop}" if given is not None else f"no crop given, so the {spec.train.recipe!r} recipe's crop {crop}"  # type: ignore[union-attr]
            raise ConfigError(
                f"recipes.{exp.recipe}.crop (experiment {exp.id}): {what} is larger than the {format_size(size)} "
                f"frames of {dataset} ({size_from}); set recipes.{exp.recipe}.crop <= {min(size)}"
            )


# -- methods ---------------------------------------------------------------------------------------------------
def method_jobs(experiments: ExperimentSet) -> list[dict[str, Any]]:
    """One check per planned variant: its method, options, where they are written and the experiments using them."""
    by_variant: dict[str, list[str]] = {}
    for exp in experiments.by_id.values():
        by_variant.setdefault(exp.variant, []).append(exp.id)
    return [
        {"method": experiments.variants[variant]["method"], "options": dict(experiments.variants[variant].get("options") or {}),
         "where": experiments.variant_key(variant), "ids": ids}
        for variant, ids in by_variant.items()
    ]


def _method_error(job: Mapping[str, Any], message: str, key: str | None) -> str:
    where = job["where"]
    if where == "(--config) method":
        at = f"method_options.{key}" if key else "method"
    elif where == "official_weights":
        at = f"official_weights.method_options.{key}" if key else "official_weights"
    else:
        at = f"{where}.options.{key}" if key else f"{where}.method"
    ids = job["ids"]
    more = f" and {len(ids) - 1} more" if len(ids) > 1 else ""
    return f"{at} (experiment {ids[0]}{more}): {message}"


def run_method_checks(jobs: list[dict[str, Any]]) -> str | None:
    """The first failing check's message (None: all pass). Imports the methods (torch)."""
    from models.registry import MethodOptionError, check_method

    for job in jobs:
        try:
            check_method(job["method"], job["options"])
        except MethodOptionError as err:
            return _method_error(job, str(err.args[0]) if err.args else str(err), err.key)
    return None


def check_methods(experiments: ExperimentSet, in_child: bool = False) -> None:
    """Every planned method resolves (registry, entry points, module path) and accepts its options.

    ``in_child``: run the checks in a child Python, so that this process never imports torch.
    """
    jobs = method_jobs(experiments)
    if not in_child:
        message = run_method_checks(jobs)
    else:
        done = subprocess.run([sys.executable, "-m", "vpbench.pipeline.checks"], input=json.dumps(jobs),
                              capture_output=True, text=True)
        if done.returncode == 0:
            return
        if done.returncode != METHOD_CHECK_FAILED:
            raise RuntimeError(f"the method checks failed to run (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        message = json.loads(done.stdout.strip().splitlines()[-1])["message"]
    if message:
        raise ConfigError(message)


#: environment variable holding a Snakemake main process's answer of :func:`resolve_method_trained` (JSON: method,
#: options, trained), inherited by every process it starts: a job that re-reads the Snakefile (a cluster job is a
#: Snakemake process of its own) takes it instead of asking a child Python again (seconds each: torch and the method)
METHOD_TRAINED_ENV = "VPBENCH_METHOD_TRAINED"


def resolve_method_trained(config: dict[str, Any]) -> None:
    """Set ``method_trained`` of a compared method when the command line left it out, from the method's own
    ``trainable`` (so that no training is planned for a parameter-free method). The built-ins answer torch-free;
    another method is asked in a child Python, so that this process (Snakemake's) never imports torch, once per run:
    the answer is passed on to the processes this one starts (:data:`METHOD_TRAINED_ENV`), and taken from there
    only for the same method and options."""
    method = config.get("method")
    if not method or config.get("method_trained") is not None:
        return
    from models.registry import BUILTIN_METHODS
    from vpbench.pipeline.config import parse_method_options

    if method in BUILTIN_METHODS:
        config["method_trained"] = BUILTIN_METHODS[method].trainable
        return
    options = parse_method_options(config.get("method_options"))
    question = {"method": method, "options": options}
    try:
        passed = json.loads(os.environ.get(METHOD_TRAINED_ENV) or "null")
    except ValueError:
        passed = None
    if isinstance(passed, dict) and {k: passed.get(k) for k in question} == question and isinstance(passed.get("trained"), bool):
        config["method_trained"] = passed["trained"]
        return
    code = ("import json, sys; from models.registry import is_trainable; "
            "job = json.load(sys.stdin); print(json.dumps(is_trainable(job['method'], job['options'])))")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(question), capture_output=True, text=True)
    if done.returncode == 0:
        config["method_trained"] = json.loads(done.stdout.strip().splitlines()[-1])
        os.environ[METHOD_TRAINED_ENV] = json.dumps({**question, "trained": config["method_trained"]}, sort_keys=True)
    # otherwise leave it unset: the method check reports why the method does not load


def main() -> int:
    """The child process of :func:`check_methods`: checks as JSON on stdin, the first failure as JSON on stdout."""
    message = run_method_checks(json.load(sys.stdin))
    if message is None:
        return 0
    print(json.dumps({"message": message}))
    return METHOD_CHECK_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
