"""Plan-time checks: what would make a job fail hours later is an error before any job runs.

Each check names the config file, the key and the experiment. The protocol and crop checks are torch-free. The
method check builds every planned method on the meta device (``models.registry.check_method``), which imports torch:
the Snakefile, which must stay torch-free, runs it in a child process (``python -m vpbench.pipeline.checks``), once,
in the main Snakemake process; that child also answers what the planner asks of a method that is not built in
(does it route, does it train), and the main process passes the answers on to its jobs. When every method is
built in, the child's reply is kept (:func:`reply_cache_key`) and reused while the checks asked for, the method
sources and the torch version are unchanged. ``vpbench plan`` and ``vpbench spec`` run the checks in-process.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
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


def check_methods(experiments: ExperimentSet) -> None:
    """Every planned method resolves (registry, entry points, module path) and accepts its options (imports torch)."""
    message = run_method_checks(method_jobs(experiments))
    if message:
        raise ConfigError(message)


# -- the child process: method checks and answers, once per Snakemake run ---------------------------------------
#: environment variable holding what a Snakemake main process's child Python answered about the planned methods
#: that are not built in (JSON list of {method, options, routed, trainable}), inherited by every process it starts:
#: a job that re-reads the Snakefile (a cluster job is a Snakemake process of its own) takes the answers for the same
#: method and options instead of importing the method (seconds each: torch and the method)
METHOD_ANSWERS_ENV = "VPBENCH_METHOD_ANSWERS"


@dataclass(frozen=True)
class ChildReply:
    """What the child process of :func:`ask_child` found besides its answers (which it gives to the registry)."""

    message: str | None  # the first failing method check
    unplanned: str | None  # why the child could not plan the config (this process's planner reports it first)

    def raise_failure(self) -> None:
        """Raise the failing method check (the planner calls this where it checks methods in-process)."""
        if self.message:
            raise ConfigError(self.message)
        if self.unplanned:
            raise RuntimeError(f"the method checks did not run: their child process could not plan the config ({self.unplanned})")


def ask_child(config: Mapping[str, Any], variants: Mapping[str, Any]) -> ChildReply:
    """Run the method checks of the plan of ``config`` and ``variants`` (the experiments file's) in a child Python, so
    that this process never imports torch, and take its answers about every planned method that is not built in
    (``models.registry.is_routed`` and ``is_trainable`` answer from them). One child per run: the answers are passed
    on to the processes this one starts (:data:`METHOD_ANSWERS_ENV`). When every method is built in, a reply kept
    from an earlier run with the same checks, method sources and torch stands in for the child (seconds of torch
    import at every ``snakemake`` start, a dry run's included)."""
    key = reply_cache_key(config, variants)
    reply = read_cached_reply(key) if key else None
    if reply is None:
        request = json.dumps({"config": config, "variants": variants})
        done = subprocess.run([sys.executable, "-m", "vpbench.pipeline.checks"], input=request, capture_output=True,
                              text=True)
        if done.returncode not in (0, METHOD_CHECK_FAILED):
            raise RuntimeError(f"the method checks failed to run (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        reply = json.loads(done.stdout.strip().splitlines()[-1])
        if key and reply["unplanned"] is None:
            write_cached_reply(key, reply)
    take_answers(reply["answers"])
    os.environ[METHOD_ANSWERS_ENV] = json.dumps(reply["answers"], sort_keys=True)
    return ChildReply(message=reply["message"], unplanned=reply["unplanned"])


#: the sources a built-in method's check runs (its factory and the option check): a change to any of them is a new key
CHECKED_SOURCES = ("models", "baselines", "vpbench/registry.py", "vpbench/pipeline/checks.py")
_REPO = Path(__file__).resolve().parents[2]


def reply_cache_key(config: Mapping[str, Any], variants: Mapping[str, Any]) -> str | None:
    """What decides the child's reply when every method it could be asked about is built in: the method checks the
    plan asks for (method, options and where they are written), the checked sources' bytes, the torch and Python
    versions. None (ask the child) when a method is not built in, or the config does not plan (the child says why)."""
    from models.registry import BUILTIN_METHODS

    methods = {variant.get("method") for variant in variants.values() if isinstance(variant, Mapping)}
    if config.get("method"):
        methods.add(config["method"])
    if not methods <= set(BUILTIN_METHODS):
        return None
    try:
        jobs = method_jobs(ExperimentSet(config, variants))
    except ConfigError:
        return None
    digest = hashlib.sha256(json.dumps(jobs, sort_keys=True, default=str).encode())
    for name in CHECKED_SOURCES:
        root = _REPO / name
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            digest.update(str(path.relative_to(_REPO)).encode() + b"\0" + path.read_bytes())
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "none"
    digest.update(f"torch {torch_version}, python {sys.version}".encode())
    return digest.hexdigest()


def reply_dir() -> Path:
    """Where kept replies live (beside the offline assets: ``$VPBENCH_CACHE`` or ``<repo>/.cache/vpbench``)."""
    from vpbench.assets import cache_dir

    return cache_dir() / "method-checks"


def _reply_path(key: str) -> Path:
    return reply_dir() / f"{key}.json"


def read_cached_reply(key: str) -> dict[str, Any] | None:
    """The kept reply for ``key`` (None: none kept, or unreadable)."""
    try:
        reply = json.loads(_reply_path(key).read_text())
    except (OSError, ValueError):
        return None
    return reply if isinstance(reply, dict) and {"answers", "message", "unplanned"} <= reply.keys() else None


def write_cached_reply(key: str, reply: dict[str, Any]) -> None:
    """Keep ``reply`` for ``key`` (written whole or not at all; a cache that cannot be written is only slower)."""
    from vpbench.utils import atomic_path

    path = _reply_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(reply))
    except OSError:
        pass


def take_answers(answers: Any) -> None:
    """Give the registry the well-formed entries of ``answers`` (a list of {method, options, routed, trainable})."""
    from models.registry import ANSWER_KEYS, give_answers

    for entry in answers if isinstance(answers, list) else []:
        if (isinstance(entry, dict) and isinstance(entry.get("method"), str) and isinstance(entry.get("options"), dict)
                and all(isinstance(entry.get(k, False), bool) for k in ANSWER_KEYS)):
            give_answers(entry["method"], entry["options"], entry)


def take_passed_answers() -> None:
    """A job process: take the answers its Snakemake main process passed on (:data:`METHOD_ANSWERS_ENV`); a malformed
    value is ignored (the methods are then asked here), and answers count only for the same method and options."""
    try:
        take_answers(json.loads(os.environ.get(METHOD_ANSWERS_ENV) or "null"))
    except ValueError:
        pass


def answer_in_child(config: Mapping[str, Any], variants: Mapping[str, Any]) -> dict[str, Any]:
    """The child process's work: the compared method's answers first (the experiments need its ``trainable``), then
    the plan's method checks, then the answers about every other planned method that is not built in."""
    from models.registry import BUILTIN_METHODS, method_answers
    from vpbench.pipeline.config import parse_method_options

    asked: dict[str, dict[str, Any]] = {}

    def ask(method: str, options: dict[str, Any]) -> None:
        key = json.dumps([method, options], sort_keys=True)
        if method not in BUILTIN_METHODS and key not in asked:
            asked[key] = {"method": method, "options": options, **method_answers(method, options)}

    try:
        if config.get("method"):
            ask(config["method"], parse_method_options(config.get("method_options")))
        experiments = ExperimentSet(config, variants)
    except ConfigError as err:  # the parent's planner reports it, before it would ask for the checks
        return {"answers": list(asked.values()), "message": None, "unplanned": str(err)}
    jobs = method_jobs(experiments)
    message = run_method_checks(jobs)
    for job in jobs:
        ask(job["method"], job["options"])
    return {"answers": list(asked.values()), "message": message, "unplanned": None}


def resolve_method_trained(config: dict[str, Any]) -> None:
    """Set ``method_trained`` of a compared method when the command line left it out, from the method's own
    ``trainable`` (so that no training is planned for a parameter-free method), for the jobs' commands (the plan
    itself asks the same). Torch-free for the built-ins and, once the plan is made, for another method too: the plan's
    child process answered (main Snakemake process), or the main process passed its answers on (a job)."""
    method = config.get("method")
    if not method or config.get("method_trained") is not None:
        return
    from models.registry import is_trainable
    from vpbench.pipeline.config import parse_method_options

    config["method_trained"] = is_trainable(method, parse_method_options(config.get("method_options")))


def main() -> int:
    """The child process of :func:`ask_child`: the config and variants as JSON on stdin, one JSON line on stdout."""
    request = json.load(sys.stdin)
    reply = answer_in_child(request["config"], request["variants"])
    print(json.dumps(reply))
    return METHOD_CHECK_FAILED if reply["message"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
