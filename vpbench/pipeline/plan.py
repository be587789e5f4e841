"""The reproduction plan: pipeline configuration -> experiments, their specs, artefact inputs and GPU-hours.

``config/config.yaml`` (or ``config/smoke.yaml``) names the datasets, protocols, the paper's train -> test
configurations, recipes and evaluation settings; ``config/experiments.yaml`` the variants (method + options +
configurations) and ``config/tables.yaml`` every table and figure. All three are validated against the JSON schemas
in ``config/schema`` (unknown keys are errors that name the key) and then cross-checked (a table naming an unknown
variant is an error).

An *experiment* is one (variant, configuration) pair with the stable id ``<variant>-<configuration>``, suffixed by
``-<recipe>`` and ``-seed<n>`` only when they differ from the config's defaults. Every output path derives from it.
The Snakefile and the ``vpbench spec``/``render``/``plan`` commands share this module, so every step also runs
without Snakemake.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = "config/config.yaml"
SCHEMA_DIR = REPO_ROOT / "config" / "schema"
OFFICIAL_SOURCE = "official-weights"
DEFAULT_OFFICIAL_VARIANT = "dmvfn-official"
TRAINABLE_KEYS_NOT_IN_SPEC = ("gpus", "cost_factor", "runtime_minutes")  # recipe keys that steer launching/estimates, not training
#: the variant whose smoke-trained weights are written in the official format when ``official_weights.standin``
STANDIN_SOURCE_VARIANT = "dmvfn"
#: a method name becomes a folder and file name, and the first part of experiment ids
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.]*$")
DEFAULT_COMPARE_BASELINES = ("dmvfn", "dvf", "prednet", "copy_last")
#: top-level keys of `snakemake compare` (given with --config); the vpbench commands receive them with --override
COMPARE_KEYS = (
    "method", "method_name", "method_label", "method_options", "method_trained", "compare_configurations", "compare_protocols",
)


class ConfigError(ValueError):
    """The pipeline configuration is invalid; the message names the file and the key."""


# ---------------------------------------------------------------------------------------------------------------
# loading and validation


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``update`` over ``base``, recursively for mappings (how Snakemake merges several ``--configfile``)."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(paths: Sequence[str | Path] | None = None) -> dict[str, Any]:
    """Merge the config files (default ``config/config.yaml``) in order."""
    config: dict[str, Any] = {}
    for path in paths or [DEFAULT_CONFIG]:
        config = deep_merge(config, read_yaml(path))
    return config


def method_name_of(method: str) -> str:
    """The default name of a method reference: ``"pkg.module:factory"`` -> ``"pkg.module.factory"``."""
    return method.replace(":", ".").lower()


def parse_method_options(options: Any, where: str = "method_options") -> dict[str, Any]:
    """Factory keyword arguments from the config or from ``--config method_options=...``.

    Snakemake reads ``--config`` values with YAML's base loader, so a mapping given there arrives with string
    values ("8", "true"): each string is read again as a YAML scalar. A whole mapping may also be one YAML string.
    """
    if options is None:
        return {}
    if isinstance(options, str):
        try:
            options = yaml.safe_load(options)
        except yaml.YAMLError as err:
            raise ConfigError(f"{where}: not a YAML/JSON mapping ({err})") from None
        if options is None:
            return {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}: expected a mapping of factory keyword arguments, got {type(options).__name__}")
    parsed: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                pass  # keep the string as given
        parsed[str(key)] = value
    return parsed


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text())


def validate(data: Any, schema_name: str, where: str) -> None:
    """Raise :class:`ConfigError` naming the offending key path if ``data`` violates ``config/schema/<name>``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    # For oneOf/anyOf the most specific sub-error names the real culprit.
    while error.context:
        error = min(error.context, key=lambda e: -len(e.absolute_path))
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    message = error.message
    if error.validator == "additionalProperties":
        message = f"unknown key(s): {message}"
    raise ConfigError(f"{where}: {key}: {message}")


def parse_size(text: str) -> tuple[int, int]:
    height, _, width = text.partition("x")
    return int(height), int(width)


# ---------------------------------------------------------------------------------------------------------------
# experiments


@dataclass(frozen=True)
class Experiment:
    """One (variant, configuration) pair: what to train (or load) and where to evaluate it."""

    id: str
    variant: str
    configuration: str
    method: str
    options: dict[str, Any]
    source: str  # "retrained" | "official-weights" | "untrained"
    seed: int
    protocols: tuple[str, ...]
    routing_seeds: tuple[int, ...]
    label: str
    train_dataset: str | None = None
    recipe: str | None = None
    weights: str | None = None  # official weights file
    checkpoint_of: str | None = None  # experiment id whose trained checkpoint is evaluated with these options

    @property
    def trained_here(self) -> bool:
        """True when this experiment has its own training job."""
        return self.source == "retrained" and self.checkpoint_of is None


@dataclass(frozen=True)
class Comparison:
    """``snakemake compare``: one new method against baseline variants on some configurations and protocols."""

    name: str  # variant name of the method: its experiments are <name>-<configuration>
    method: str
    label: str
    configurations: tuple[str, ...]
    protocols: tuple[str, ...]
    baselines: tuple[str, ...]
    metrics: tuple[str, ...]
    horizons: tuple[int, ...]


@dataclass
class CostEstimate:
    """Reference-GPU hours of a set of experiments, with the assumptions that produced them."""

    reference_gpu: str
    speedup: float
    train_jobs: int = 0
    eval_jobs: int = 0
    train_hours: float = 0.0
    eval_hours: float = 0.0
    by_configuration: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @property
    def total_hours(self) -> float:
        return self.train_hours + self.eval_hours

    def summary(self) -> str:
        lines = [
            f"GPU-hours estimate ({self.reference_gpu}, speed-up {self.speedup:g}): "
            f"{self.total_hours:,.1f} h = {self.train_hours:,.1f} h training ({self.train_jobs} jobs) "
            f"+ {self.eval_hours:,.1f} h evaluation ({self.eval_jobs} jobs)"
        ]
        for name, hours in sorted(self.by_configuration.items()):
            lines.append(f"  {name:<12} {hours:>10,.1f} h")
        if self.unknown:
            lines.append("  no estimate (set train_gpu_hours / eval_gpu_hours): " + ", ".join(sorted(self.unknown)))
        return "\n".join(lines)


class Plan:
    """The resolved configuration: experiments, file paths, and the inputs of every table and figure."""

    def __init__(self, config: Mapping[str, Any], root: str | Path = ".", where: str = "config",
                 check_methods: bool = True) -> None:
        """``check_methods=False`` skips the checks that import torch (methods built on the meta device, MS-SSIM's
        minimum size): only for a job of a workflow whose main process built and checked this same plan."""
        self.root = Path(root)
        self._torch_checks = check_methods
        self.config = dict(config)
        validate(self.config, "config.schema.json", where)
        experiments_file = self.root / self.config["experiments_file"]
        tables_file = self.root / self.config["tables_file"]
        self.variants: dict[str, dict[str, Any]] = self._load(experiments_file, "experiments.schema.json")["variants"]
        self._file_variants = set(self.variants)
        artefacts = self._load(tables_file, "tables.schema.json")
        self.tables: dict[str, dict[str, Any]] = artefacts["tables"]
        self.figures: dict[str, dict[str, Any]] = artefacts["figures"]
        self._check_config()
        self._add_official_variant()
        self.comparison: Comparison | None = self._add_compared_method()
        self._forced: set[tuple[str, str]] = self._forced_experiments()
        self.experiments: dict[str, Experiment] = self._resolve_experiments()
        self._check_artefacts(tables_file)
        self._check_protocols()
        if check_methods:
            self._check_methods()
        self._check_crops()

    @classmethod
    def from_files(
        cls, paths: Sequence[str | Path] | None = None, root: str | Path = ".", overrides: Mapping[str, Any] | None = None,
        check_methods: bool = True,
    ) -> Plan:
        """The plan of the merged config files, with ``overrides`` (Snakemake's ``--config`` keys) on top."""
        names = [str(p) for p in (paths or [DEFAULT_CONFIG])]
        config = load_config(paths)
        if overrides:
            config = deep_merge(config, overrides)
            names.append("--config")
        return cls(config, root=root, where=" + ".join(names), check_methods=check_methods)

    def _load(self, path: Path, schema: str) -> dict[str, Any]:
        data = read_yaml(path)
        validate(data, schema, str(path))
        return data

    # -- cross-checks ---------------------------------------------------------------------------------------
    def _check_config(self) -> None:
        cfg = self.config
        for name, protocol in cfg["protocols"].items():
            if protocol["dataset"] not in cfg["datasets"]:
                raise ConfigError(f"protocols.{name}.dataset: unknown dataset {protocol['dataset']!r}; declared: {sorted(cfg['datasets'])}")
        for name, conf in cfg["configurations"].items():
            if conf["train"] not in cfg["datasets"]:
                raise ConfigError(f"configurations.{name}.train: unknown dataset {conf['train']!r}; declared: {sorted(cfg['datasets'])}")
            for protocol in conf["protocols"]:
                if protocol not in cfg["protocols"]:
                    raise ConfigError(f"configurations.{name}.protocols: unknown protocol {protocol!r}; declared: {sorted(cfg['protocols'])}")
        if cfg["default_recipe"] not in cfg["recipes"]:
            raise ConfigError(f"default_recipe: unknown recipe {cfg['default_recipe']!r}; declared: {sorted(cfg['recipes'])}")
        for name in cfg.get("training_seeds") or {}:
            if name not in self.variants:
                raise ConfigError(f"training_seeds: unknown variant {name!r}; declared in {cfg['experiments_file']}: {sorted(self.variants)}")
        select = cfg.get("select") or {}
        for key, known in (("variants", self.variants), ("configurations", cfg["configurations"])):
            for name in select.get(key) or []:
                if name not in known:
                    raise ConfigError(f"select.{key}: unknown {key[:-1]} {name!r}")
        for name, variant in self.variants.items():
            where = f"{self.config['experiments_file']}: variants.{name}"
            if variant.get("recipe") and variant["recipe"] not in cfg["recipes"]:
                raise ConfigError(f"{where}.recipe: unknown recipe {variant['recipe']!r}; declared: {sorted(cfg['recipes'])}")
            base = variant.get("checkpoint_of")
            if base is not None:
                if base not in self.variants:
                    raise ConfigError(f"{where}.checkpoint_of: unknown variant {base!r}")
                if self.variants[base].get("trained", True) is False or self.variants[base].get("checkpoint_of"):
                    raise ConfigError(f"{where}.checkpoint_of: {base!r} is not trained itself")
                missing = set(variant["configurations"]) - set(self.variants[base]["configurations"])
                if missing:
                    raise ConfigError(f"{where}.configurations: {sorted(missing)} are not configurations of {base!r}")

    def _variant_key(self, variant: str) -> str:
        """Where a variant's method and options are written (for error messages)."""
        if variant == self.official_variant and "official_files" in self.variants.get(variant, {}):
            return "official_weights"
        if self.comparison is not None and variant == self.comparison.name and variant not in self._file_variants:
            return "(--config) method"
        return f"{self.config['experiments_file']}: variants.{variant}"

    def _check_methods(self) -> None:
        """Every planned method resolves (registry, entry points, module path) and accepts its options."""
        from models.registry import MethodOptionError, check_method

        by_variant: dict[str, list[str]] = {}
        for exp in self.experiments.values():
            by_variant.setdefault(exp.variant, []).append(exp.id)
        for variant, ids in by_variant.items():
            spec = self.variants[variant]
            options = dict(spec.get("options") or {})
            try:
                check_method(spec["method"], options)
            except MethodOptionError as err:
                where = self._variant_key(variant)
                if where == "(--config) method":
                    key = f"method_options.{err.key}" if err.key else "method"
                elif where == "official_weights":
                    key = f"official_weights.method_options.{err.key}" if err.key else "official_weights"
                else:
                    key = f"{where}.options.{err.key}" if err.key else f"{where}.method"
                more = f" and {len(ids) - 1} more" if len(ids) > 1 else ""
                raise ConfigError(f"{key} (experiment {ids[0]}{more}): {err}") from None

    def _check_protocols(self) -> None:
        """Configured protocols exist in data_prep, on the dataset they declare, at the size that dataset is prepared."""
        from data_prep.protocols import PROTOCOLS

        if self._torch_checks:
            from vpbench.evaluation.metrics import MetricInputError, check_ms_ssim_size
        cfg = self.config
        used = {p for exp in self.experiments.values() for p in exp.protocols}
        for name in sorted(used):
            protocol = cfg["protocols"][name]
            known = PROTOCOLS.get(name)
            if known is None:
                raise ConfigError(f"protocols.{name}: no evaluation protocol of that name; known: {', '.join(sorted(PROTOCOLS))}")
            if protocol["dataset"] != known.dataset:
                raise ConfigError(
                    f"protocols.{name}.dataset: protocol {name!r} reads windows of dataset {known.dataset!r}, "
                    f"not {protocol['dataset']!r}"
                )
            prepared = (cfg["datasets"].get(protocol["dataset"]) or {}).get("size")
            if prepared and protocol.get("size") and parse_size(prepared) != parse_size(protocol["size"]):
                raise ConfigError(
                    f"protocols.{name}.size: {protocol['size']} differs from datasets.{protocol['dataset']}.size "
                    f"{prepared}, the size its frames are prepared at"
                )
            size = parse_size(prepared) if prepared else (known.height, known.width)
            if self._torch_checks and not known.routing_only:  # every metric is scored, MS-SSIM included
                try:
                    check_ms_ssim_size(*size)
                except MetricInputError as err:
                    where = f"datasets.{protocol['dataset']}.size" if prepared else f"protocols.{name}"
                    raise ConfigError(f"{where} (protocol {name}): {err}") from None

    def _check_crops(self) -> None:
        """A training crop fits in the frames of the training dataset (else every training item fails)."""
        from data_prep.catalog import DATASETS
        from vpbench.training.recipes import resolve_recipe
        from vpbench.pipeline.spec import ExperimentSpec, SpecError

        for exp in self.experiments.values():  # every spec builds (ExperimentSpec checks each value)
            try:
                self.experiment_spec(exp.id)
            except SpecError as err:
                where = f"recipes.{exp.recipe}" if exp.recipe else "evaluation"
                raise ConfigError(f"{where} (experiment {exp.id}): {err}") from None
        checked: set[tuple[str, str]] = set()
        for exp in self.experiments.values():
            if not exp.trained_here or (exp.recipe, exp.train_dataset) in checked:
                continue
            checked.add((exp.recipe, exp.train_dataset))  # type: ignore[arg-type]
            dataset = exp.train_dataset
            configured = (self.config["datasets"].get(dataset) or {}).get("size")
            if configured:
                size, size_from = parse_size(configured), f"datasets.{dataset}.size"
            elif dataset in DATASETS and DATASETS[dataset].size:
                size, size_from = DATASETS[dataset].size, f"the prepared size of {dataset}"
            else:
                continue  # frames keep their native size: checked when the data are read
            try:
                spec = ExperimentSpec.from_dict(self.experiment_spec(exp.id), where=f"experiment {exp.id}")
                crop = resolve_recipe(spec.train).crop  # type: ignore[arg-type]
            except (SpecError, ValueError) as err:
                raise ConfigError(f"recipes.{exp.recipe} (experiment {exp.id}): {err}") from None
            if crop > min(size):
                given = self.config["recipes"][exp.recipe].get("crop")
                what = f"crop {crop}" if given is not None else f"no crop given, so the {spec.train.recipe!r} recipe's crop {crop}"  # type: ignore[union-attr]
                raise ConfigError(
                    f"recipes.{exp.recipe}.crop (experiment {exp.id}): {what} is larger than the {size[0]}x{size[1]} "
                    f"frames of {dataset} ({size_from}); set recipes.{exp.recipe}.crop <= {min(size)}"
                )

    def _add_official_variant(self) -> None:
        official = self.config.get("official_weights")
        if not official:
            return
        name = official.get("variant", DEFAULT_OFFICIAL_VARIANT)
        if name in self.variants:
            raise ConfigError(f"official_weights.variant: {name!r} is already a variant of {self.config['experiments_file']}")
        for configuration in official["files"]:
            if configuration not in self.config["configurations"]:
                raise ConfigError(f"official_weights.files: unknown configuration {configuration!r}")
        if official.get("standin"):
            base = self.variants.get(STANDIN_SOURCE_VARIANT)
            if base is None or base.get("method") != "dmvfn":
                raise ConfigError(f"official_weights.standin: needs the DMVFN variant {STANDIN_SOURCE_VARIANT!r} to train the stand-in")
            missing = set(official["files"]) - set(base["configurations"])
            if missing:
                raise ConfigError(f"official_weights.standin: {sorted(missing)} are not configurations of {STANDIN_SOURCE_VARIANT!r}")
        self.variants[name] = {
            "method": "dmvfn",
            "label": official.get("label", "DMVFN (official weights)"),
            "options": dict(official.get("method_options") or {}),
            "configurations": list(official["files"]),
            "official_files": {c: f"{official.get('dir', 'resources/weights')}/{f}" for c, f in official["files"].items()},
        }

    @property
    def official_variant(self) -> str | None:
        official = self.config.get("official_weights")
        return official.get("variant", DEFAULT_OFFICIAL_VARIANT) if official else None

    @property
    def official_standin(self) -> bool:
        return bool((self.config.get("official_weights") or {}).get("standin"))

    def standin_source(self, weights_file: str) -> str:
        """The experiment whose trained DMVFN is written to ``weights_file`` in the official format (stand-in runs)."""
        for exp in self.experiments.values():
            if exp.source == OFFICIAL_SOURCE and exp.weights == weights_file:
                return self.experiment_id(STANDIN_SOURCE_VARIANT, exp.configuration, self.variants[STANDIN_SOURCE_VARIANT].get("recipe"))
        raise ConfigError(f"{weights_file}: not an official weights file of this configuration")

    def _add_compared_method(self) -> Comparison | None:
        """The variant of ``method`` (``snakemake compare``), added beside those of the experiments file."""
        cfg = self.config
        method = cfg.get("method")
        if not method:
            return None
        defaults = cfg.get("compare") or {}
        name = cfg.get("method_name") or method_name_of(method)
        if not SAFE_NAME.match(name):
            raise ConfigError(
                f"method_name: {name!r} (from method {method!r}) is not a safe path component: use lower-case letters, "
                "digits, '_' and '.', starting with a letter or digit (set method_name=...)"
            )
        options = parse_method_options(cfg.get("method_options"))
        configurations = list(cfg.get("compare_configurations") or defaults.get("configurations") or cfg["configurations"])
        for configuration in configurations:
            if configuration not in cfg["configurations"]:
                raise ConfigError(f"compare_configurations: unknown configuration {configuration!r}; declared: {sorted(cfg['configurations'])}")
        available = list(dict.fromkeys(p for c in configurations for p in cfg["configurations"][c]["protocols"]))
        protocols = list(cfg.get("compare_protocols") or available)
        for protocol in protocols:
            if protocol not in available:
                raise ConfigError(
                    f"compare_protocols: {protocol!r} is not a protocol of the compared configurations "
                    f"{configurations}; choose from {available} or add its configuration to compare_configurations"
                )
        if name in self.variants:
            existing = self.variants[name]
            if existing["method"] != method or (options and options != (existing.get("options") or {})):
                raise ConfigError(
                    f"method_name: {name!r} is already a variant of {cfg['experiments_file']} with another method or "
                    "options; choose another method_name"
                )
        else:
            self.variants[name] = {
                "method": method,
                "label": cfg.get("method_label") or name,
                "options": options,
                "configurations": configurations,
                "trained": cfg.get("method_trained") is not False,
            }
        baselines = [b for b in defaults.get("baselines", DEFAULT_COMPARE_BASELINES) if b != name]
        for baseline in baselines:
            if baseline not in self.variants:
                raise ConfigError(f"compare.baselines: unknown variant {baseline!r}")
        if self.official_variant and self.official_variant not in baselines and self.official_variant != name:
            baselines.append(self.official_variant)
        return Comparison(
            name=name,
            method=method,
            label=self.variants[name].get("label", name),
            configurations=tuple(configurations),
            protocols=tuple(protocols),
            baselines=tuple(baselines),
            metrics=tuple(defaults.get("metrics", ["ms_ssim", "lpips"])),
            horizons=tuple(defaults.get("horizons", [1, 3, 5])),
        )

    def _forced_experiments(self) -> set[tuple[str, str]]:
        """(variant, configuration) pairs planned whatever ``select`` says: a comparison's rows, stand-in sources."""
        forced: set[tuple[str, str]] = set()
        if self.comparison:
            for variant in (self.comparison.name, *self.comparison.baselines):
                for configuration in self.comparison.configurations:
                    if configuration in self.variants[variant]["configurations"]:
                        forced.add((variant, configuration))
                        base = self.variants[variant].get("checkpoint_of")
                        if base:
                            forced.add((base, configuration))
        if self.official_standin:
            for configuration in self.config["official_weights"]["files"]:
                if self._selected("configurations", configuration) or (self.official_variant, configuration) in forced:
                    forced.add((STANDIN_SOURCE_VARIANT, configuration))
        return forced

    def _selected(self, key: str, name: str) -> bool:
        chosen = (self.config.get("select") or {}).get(key)
        return chosen is None or name in chosen

    def _resolve_experiments(self) -> dict[str, Experiment]:
        cfg = self.config
        default_routing = tuple(cfg["evaluation"].get("routing_seeds", [0]))
        result: dict[str, Experiment] = {}
        for name, variant in self.variants.items():
            is_official = "official_files" in variant
            variant_selected = is_official or self._selected("variants", name)
            if not variant_selected and not any(v == name for v, _ in self._forced):
                continue
            recipe = variant.get("recipe", cfg["default_recipe"])
            for configuration in variant["configurations"]:
                forced = (name, configuration) in self._forced
                if not forced and not (variant_selected and self._selected("configurations", configuration)):
                    continue
                if configuration not in cfg["configurations"]:
                    raise ConfigError(
                        f"{cfg['experiments_file']}: variants.{name}.configurations: unknown configuration "
                        f"{configuration!r} (declare it in configurations: or leave it out with select.configurations)"
                    )
                conf = cfg["configurations"][configuration]
                for seed in self.training_seeds(name):
                    base_id = self.experiment_id(name, configuration, recipe, seed)
                    trained = variant.get("trained", True) and not is_official
                    checkpoint_of = None
                    if variant.get("checkpoint_of"):
                        base_variant = self.variants[variant["checkpoint_of"]]
                        checkpoint_of = self.experiment_id(
                            variant["checkpoint_of"], configuration, base_variant.get("recipe", cfg["default_recipe"]), seed
                        )
                    source = OFFICIAL_SOURCE if is_official else ("retrained" if trained else "untrained")
                    result[base_id] = Experiment(
                        id=base_id,
                        variant=name,
                        configuration=configuration,
                        method=variant["method"],
                        options=dict(variant.get("options") or {}),
                        source=source,
                        seed=seed,
                        protocols=tuple(conf["protocols"]),
                        routing_seeds=tuple(variant.get("routing_seeds", default_routing)),
                        label=variant.get("label", name),
                        train_dataset=conf["train"] if trained and checkpoint_of is None else None,
                        recipe=recipe if trained and checkpoint_of is None else None,
                        weights=variant["official_files"][configuration] if is_official else None,
                        checkpoint_of=checkpoint_of,
                    )
        chosen = (cfg.get("select") or {}).get("experiments")
        if chosen is not None:
            unknown = sorted(set(chosen) - set(result))
            if unknown:
                raise ConfigError(f"select.experiments: unknown experiment(s) {unknown}; candidates: {', '.join(sorted(result))}")
            result = {
                k: v for k, v in result.items()
                if k in chosen or v.source == OFFICIAL_SOURCE or (v.variant, v.configuration) in self._forced
            }
        # Inference-time variants need their base experiment's checkpoint in the plan, selected or not.
        for experiment in list(result.values()):
            if experiment.checkpoint_of and experiment.checkpoint_of not in result:
                raise ConfigError(
                    f"variant {experiment.variant!r} evaluates the checkpoint of {experiment.checkpoint_of!r}, which is "
                    "not selected; add its variant to select.variants"
                )
        return result

    def training_seeds(self, variant: str) -> list[int]:
        """The seeds ``variant`` is trained with: config ``training_seeds``, else the variant's ``seeds``, else ``seed``.

        An inference-time variant (``checkpoint_of``) follows its base variant, whose checkpoints it evaluates.
        """
        spec = self.variants[variant]
        if spec.get("checkpoint_of"):
            return self.training_seeds(spec["checkpoint_of"])
        override = (self.config.get("training_seeds") or {}).get(variant)
        return list(override or spec.get("seeds") or [int(self.config.get("seed", 1234))])

    def experiment_id(self, variant: str, configuration: str, recipe: str | None = None, seed: int | None = None) -> str:
        parts = [variant, configuration]
        if recipe and recipe != self.config["default_recipe"]:
            parts.append(recipe)
        if seed is not None and seed != int(self.config.get("seed", 1234)):
            parts.append(f"seed{seed}")
        return "-".join(parts)

    def _check_artefacts(self, tables_file: Path) -> None:
        official = (self.config.get("official_weights") or {}).get("variant", DEFAULT_OFFICIAL_VARIANT)

        def check_variant(name: str, where: str) -> None:
            # The official-weights variant may be named before its files are configured: its rows read "not run".
            if name not in self.variants and name != official:
                raise ConfigError(f"{tables_file}: {where}: unknown variant {name!r}")

        for table_name, table in self.tables.items():
            where = f"tables.{table_name}"
            if not (self.root / table["paper"]).is_file():
                raise ConfigError(f"{tables_file}: {where}.paper: {table['paper']} does not exist")
            for i, row in enumerate(table.get("rows", [])):
                if "variant" in row:
                    check_variant(row["variant"], f"{where}.rows[{i}].variant")
            for beta, variant in (table.get("betas") or {}).items():
                check_variant(variant, f"{where}.betas.{beta}")
        for fig_name, fig in self.figures.items():
            where = f"figures.{fig_name}"
            names = list(fig.get("variants", []))
            if "variant" in fig:
                names.append(fig["variant"])
            if fig["kind"] == "beta":
                names.append(fig["reference"])
            for variant in names:
                check_variant(variant, where)
            if fig["kind"] == "usage" and fig.get("reference", "Medium") not in fig["motion"]:
                raise ConfigError(f"{tables_file}: {where}.reference: {fig.get('reference', 'Medium')!r} is not a key of motion")
            if "table" in fig and fig["table"] not in self.tables:
                raise ConfigError(f"{tables_file}: {where}.table: unknown table {fig['table']!r}")

    # -- paths ----------------------------------------------------------------------------------------------
    @property
    def results(self) -> str:
        return self.config["paths"]["results"]

    @property
    def reports(self) -> str:
        return self.config["paths"]["reports"]

    def raw_dir(self, dataset: str) -> str:
        return f"{self.config['paths']['raw']}/{self.config['datasets'][dataset].get('raw', dataset)}"

    def prepared_dir(self, dataset: str) -> str:
        return f"{self.config['paths']['prepared']}/{dataset}"

    def spec_file(self, experiment: str) -> str:
        return f"{self.results}/specs/{experiment}.json"

    def checkpoint_file(self, experiment: str) -> str:
        return f"{self.results}/checkpoints/{experiment}/final.pt"

    def score_file(self, experiment: str, protocol: str) -> str:
        return f"{self.results}/scores/{experiment}/{protocol}.parquet"

    def complexity_file(self, experiment: str, protocol: str) -> str:
        return f"{self.results}/complexity/{experiment}/{protocol}.json"

    def predictions_file(self, experiment: str, protocol: str) -> str:
        return f"{self.results}/predictions/{experiment}/{protocol}.npz"

    def table_files(self, table: str) -> list[str]:
        return [f"{self.reports}/tables/{table}.{ext}" for ext in ("md", "csv", "tex")]

    def figure_files(self, figure: str) -> list[str]:
        return [f"{self.reports}/figures/{figure}.{ext}" for ext in ("png", "pdf")]

    def compare_files(self, name: str | None = None) -> list[str]:
        """``<reports>/compare/<method name>.{md,csv,tex}`` and its per-step difference figures (one per protocol)."""
        name = name or self._comparison().name
        files = [f"{self.reports}/compare/{name}.{ext}" for ext in ("md", "csv", "tex")]
        for protocol in self.compare_protocols():
            files += [f"{self.reports}/compare/{name}-steps-{protocol}.{ext}" for ext in ("png", "pdf")]
        return files

    def compare_protocols(self) -> list[str]:
        """The protocols of the compare table, in its column order."""
        return [group["protocol"] for group in self.compare_plan()["groups"]]

    def report_targets(self) -> list[str]:
        targets: list[str] = []
        for table in self.tables:
            targets += self.table_files(table)
        for figure in self.figures:
            targets += self.figure_files(figure)
        return targets

    def artefact_inputs(self) -> list[str]:
        """Every score, complexity and prediction file a table or figure reads.

        The default target asks for them explicitly: Snakemake does not rebuild a deleted intermediate file while
        the artefacts made from it are present, so without this a removed score file would stay missing.
        """
        files: list[str] = []
        for name in self.tables:
            files += self.table_inputs(name)
        for name in self.figures:
            files += self.figure_inputs(name)
        return list(dict.fromkeys(files))

    def evaluation_checkpoint(self, experiment: str) -> str | None:
        """The checkpoint ``vpbench evaluate`` loads for ``experiment`` (None: the method is built untrained)."""
        exp = self.experiments[experiment]
        if exp.weights:
            return exp.weights
        if exp.checkpoint_of:
            return self.checkpoint_file(exp.checkpoint_of)
        if exp.trained_here:
            return self.checkpoint_file(exp.id)
        return None

    def gpus(self, experiment: str) -> int:
        exp = self.experiments[experiment]
        if not exp.trained_here:
            return 0
        return int(self.config["recipes"][exp.recipe].get("gpus", 1))

    # -- specs ----------------------------------------------------------------------------------------------
    def experiment_spec(self, experiment: str) -> dict[str, Any]:
        """The ``vpbench.pipeline.spec.ExperimentSpec`` dict of ``experiment`` (validated by ExperimentSpec itself)."""
        from vpbench.pipeline.spec import ExperimentSpec

        exp = self.get(experiment)
        evaluation = self.config["evaluation"]
        train = None
        if exp.trained_here:
            recipe = {k: v for k, v in self.config["recipes"][exp.recipe].items() if k not in TRAINABLE_KEYS_NOT_IN_SPEC}
            train = {"dataset": exp.train_dataset, "data_root": self.prepared_dir(exp.train_dataset), **recipe}
        spec = {
            "id": exp.id,
            "method": exp.method,
            "method_options": exp.options,
            "train": train,
            "eval": {
                "protocols": list(exp.protocols),
                "routing_seeds": list(exp.routing_seeds),
                "max_clips": evaluation.get("max_clips"),
                "channel_order_lpips": evaluation.get("channel_order_lpips", "rgb"),
            },
            "seed": exp.seed,
            "source": exp.source,
            "weights": self.evaluation_checkpoint(exp.id) if not exp.trained_here else None,
        }
        return ExperimentSpec.from_dict(spec, where=f"experiment {exp.id}").to_dict()

    def get(self, experiment: str) -> Experiment:
        try:
            return self.experiments[experiment]
        except KeyError:
            raise ConfigError(f"unknown experiment {experiment!r}; this configuration defines: {', '.join(sorted(self.experiments))}") from None

    # -- artefacts ------------------------------------------------------------------------------------------
    def _cell(self, variant: str | None, configuration: str, protocol: str, complexity: bool) -> dict[str, Any] | None:
        """One table cell: the experiments of ``variant`` on ``configuration`` (one per training seed) and their files.

        ``experiment`` / ``complexity`` name the first seed's (GFLOPs do not depend on the seed); ``experiments`` and
        ``scores`` list every seed's, which a table pools.
        """
        if variant is None or protocol not in self.config["protocols"]:
            return None
        recipe = self.variants.get(variant, {}).get("recipe", self.config["default_recipe"])
        experiments = [
            exp for exp in self.experiments.values()
            if exp.variant == variant and exp.configuration == configuration and protocol in exp.protocols
            and self.experiment_id(variant, configuration, recipe, exp.seed) == exp.id
        ]
        if not experiments:
            return None
        first = experiments[0]
        cell = {
            "experiment": first.id, "source": first.source,
            "experiments": [exp.id for exp in experiments],
            "scores": [self.score_file(exp.id, protocol) for exp in experiments],
            "expect": [self.score_expectation(exp.id, protocol) for exp in experiments],
        }
        if complexity:
            cell["complexity"] = self.complexity_file(first.id, protocol)
        return cell

    def score_expectation(self, experiment: str, protocol: str) -> dict[str, Any]:
        """What a whole score file of ``experiment`` on ``protocol`` holds (``vpbench.evaluation.scores.check_complete``)."""
        from data_prep.catalog import DATASETS
        from data_prep.protocols import PROTOCOLS

        exp = self.experiments[experiment]
        known = PROTOCOLS.get(protocol)
        max_clips = self.config["evaluation"].get("max_clips")
        expect: dict[str, Any] = {"experiment": experiment, "protocol": protocol, "seeds": list(exp.routing_seeds),
                                  "steps": max(known.horizon, 1) if known else None, "max_clips": max_clips}
        dataset = self.config["protocols"][protocol]["dataset"]
        counts = DATASETS[dataset].expected_windows.get(known.split, ()) if known and dataset in DATASETS else ()
        full = not (self.config["datasets"].get(dataset) or {}).get("subset") and not known.subset if known else False
        if full and max_clips is None and len(counts) == 1:
            expect["clips"] = counts[0]  # the published count, enforced when the data were prepared
        return expect

    def table_plan(self, name: str) -> dict[str, Any]:
        """Everything ``vpbench render <table>`` needs: the spec, the paper CSV and each cell's score file."""
        try:
            table = copy.deepcopy(self.tables[name])
        except KeyError:
            raise ConfigError(f"unknown table {name!r}; declared: {', '.join(self.tables)}") from None
        plan: dict[str, Any] = {"name": name, **table}
        kind = table["kind"]
        if kind == "metrics":
            for group in plan["groups"]:
                group["available"] = group["protocol"] in self.config["protocols"]
            for row in plan["rows"]:
                row["cells"] = {
                    g["protocol"]: self._cell(row.get("variant"), g["configuration"], g["protocol"], bool(g.get("gflops")))
                    for g in plan["groups"]
                }
                row["status"] = self._row_status(row)
                if row.get("variant") and row["variant"] == self.official_variant and self.official_standin:
                    row["label"] = row_label_of(row, self.variants) + " [smoke stand-in: official format, weights trained here]"
        elif kind == "usage":
            for row in plan["rows"]:
                row["cells"] = {row["protocol"]: self._cell(row["variant"], row["configuration"], row["protocol"], False)}
                row["status"] = self._row_status(row)
        elif kind == "beta":
            for panel in plan["panels"]:
                panel["cells"] = {
                    beta: self._cell(variant, panel["configuration"], panel["protocol"], True)
                    for beta, variant in plan["betas"].items()
                }
        return plan

    @staticmethod
    def _row_status(row: Mapping[str, Any]) -> str:
        if "variant" not in row:
            return "paper-only"
        return "run" if any(cell for cell in row["cells"].values()) else "not-run"

    def figure_plan(self, name: str) -> dict[str, Any]:
        try:
            figure = copy.deepcopy(self.figures[name])
        except KeyError:
            raise ConfigError(f"unknown figure {name!r}; declared: {', '.join(self.figures)}") from None
        plan: dict[str, Any] = {"name": name, **figure}
        kind = figure["kind"]
        if kind in ("efficiency", "beta"):
            plan["table_plan"] = self.table_plan(figure["table"])
        if kind == "beta":
            table = plan["table_plan"]
            plan["reference_cells"] = {
                panel["protocol"]: self._cell(figure["reference"], panel["configuration"], panel["protocol"], True)
                for panel in table["panels"]
            }
        if kind == "predictions":
            plan["rows"] = [
                {"variant": v, "label": self.variants[v].get("label", v), "cell": self._prediction_cell(v, figure)}
                for v in figure["variants"]
            ]
        if kind == "flow":
            plan["cell"] = self._prediction_cell(figure["variant"], figure)
        if kind == "usage":
            plan["motion_cells"] = {
                label: self._cell(figure["variant"], figure["configuration"], protocol, False)
                for label, protocol in figure["motion"].items()
            }
            plan["interval_cells"] = {
                label: self._cell(figure["variant"], figure["configuration"], protocol, False)
                for label, protocol in figure["interval"].items()
            }
        return plan

    def _comparison(self) -> Comparison:
        if self.comparison is None:
            raise ConfigError("no method to compare: set method=<name | entry point | package.module:factory> (e.g. snakemake compare --config method=...)")
        return self.comparison

    def compare_plan(self) -> dict[str, Any]:
        """A ``kind: metrics`` table plan without paper values: the compared method, then the baselines."""
        comparison = self._comparison()
        protocols = self.config["protocols"]
        groups = []
        for configuration in comparison.configurations:
            for protocol in self.config["configurations"][configuration]["protocols"]:
                if protocol in comparison.protocols:
                    groups.append({
                        "protocol": protocol, "configuration": configuration, "label": protocols[protocol].get("label", protocol),
                        "gflops": True, "params": True, "metrics": list(comparison.metrics), "horizons": list(comparison.horizons),
                        "available": True,
                    })
        rows = []
        for variant in (comparison.name, *comparison.baselines):
            row: dict[str, Any] = {"variant": variant, "label": self.variants[variant].get("label", variant)}
            row["cells"] = {g["protocol"]: self._cell(variant, g["configuration"], g["protocol"], True) for g in groups}
            row["status"] = self._row_status(row)
            if variant == self.official_variant and self.official_standin:
                row["label"] += " [smoke stand-in: official format, weights trained here]"
            rows.append(row)
        baselines = ", ".join(self.variants[b].get("label", b) for b in comparison.baselines)
        return {
            "name": comparison.name,
            "kind": "metrics",
            "title": f"{comparison.label} ({comparison.method}) compared with {baselines}",
            "caption": "Every row is scored by the same evaluation code on the same clips; no paper values.",
            "paper": None,
            "compared": comparison.name,  # the first row; every other row gets a paired difference to it
            "cumulative": True,
            "groups": groups,
            "rows": rows,
        }

    def compare_inputs(self) -> list[str]:
        cells = [cell for row in self.compare_plan()["rows"] for cell in row["cells"].values()]
        return self._cell_files(cells)

    def _prediction_cell(self, variant: str, figure: Mapping[str, Any]) -> dict[str, Any] | None:
        cell = self._cell(variant, figure["configuration"], figure["protocol"], False)
        if cell is None:
            return None
        cell.pop("scores")
        cell.pop("experiments")
        cell["predictions"] = self.predictions_file(cell["experiment"], figure["protocol"])
        return cell

    # -- what an artefact reads -----------------------------------------------------------------------------
    @staticmethod
    def _cell_files(cells: Iterable[Mapping[str, Any] | None]) -> list[str]:
        files: list[str] = []
        for cell in cells:
            if not cell:
                continue
            for key in ("scores", "complexity", "predictions"):
                values = cell.get(key) or []
                for value in [values] if isinstance(values, str) else values:
                    if value not in files:
                        files.append(value)
        return files

    def table_inputs(self, name: str) -> list[str]:
        """The paper CSV and every score/complexity file of table ``name``."""
        plan = self.table_plan(name)
        cells: list[Mapping[str, Any] | None] = []
        for row in plan.get("rows", []):
            cells += list(row["cells"].values())
        for panel in plan.get("panels", []):
            cells += list(panel["cells"].values())
        return [plan["paper"], *self._cell_files(cells)]

    def figure_inputs(self, name: str) -> list[str]:
        plan = self.figure_plan(name)
        files: list[str] = []
        if "table_plan" in plan:
            files += self.table_inputs(plan["table"])
        cells: list[Mapping[str, Any] | None] = []
        cells += [row["cell"] for row in plan.get("rows", [])]
        cells += [plan.get("cell")]
        cells += list(plan.get("reference_cells", {}).values())
        cells += list(plan.get("motion_cells", {}).values()) + list(plan.get("interval_cells", {}).values())
        for f in self._cell_files(cells):
            if f not in files:
                files.append(f)
        return files

    # -- cost -----------------------------------------------------------------------------------------------
    def estimate(self, experiments: Iterable[str] | None = None) -> CostEstimate:
        """Reference-GPU hours of training and evaluating ``experiments`` (default: all), from the config's assumptions."""
        compute = self.config["compute"]
        speedup = float(compute.get("speedup", 1.0))
        method_cost = compute.get("method_cost", {})
        estimate = CostEstimate(reference_gpu=compute["reference_gpu"], speedup=speedup)
        for name in experiments if experiments is not None else self.experiments:
            exp = self.experiments[name]
            conf = self.config["configurations"][exp.configuration]
            hours = 0.0
            if exp.trained_here:
                estimate.train_jobs += 1
                base = conf.get("train_gpu_hours")
                if base is None:
                    if f"train {exp.configuration}" not in estimate.unknown:
                        estimate.unknown.append(f"train {exp.configuration}")
                else:
                    factor = float(self.config["recipes"][exp.recipe].get("cost_factor", 1.0))
                    train = base * factor * float(method_cost.get(exp.method, 1.0)) / speedup
                    estimate.train_hours += train
                    hours += train
            for protocol in exp.protocols:
                estimate.eval_jobs += 1
                per_pass = self.config["protocols"][protocol].get("eval_gpu_hours")
                if per_pass is None:
                    if f"eval {protocol}" not in estimate.unknown:
                        estimate.unknown.append(f"eval {protocol}")
                    continue
                evaluation = per_pass * len(exp.routing_seeds) / speedup
                estimate.eval_hours += evaluation
                hours += evaluation
            estimate.by_configuration[exp.configuration] = estimate.by_configuration.get(exp.configuration, 0.0) + hours
        return estimate


def row_label_of(row: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]]) -> str:
    return row.get("label") or variants.get(row.get("variant", ""), {}).get("label") or row.get("paper") or row.get("variant", "")


__all__ = [
    "COMPARE_KEYS",
    "Comparison",
    "ConfigError",
    "CostEstimate",
    "DEFAULT_CONFIG",
    "Experiment",
    "Plan",
    "deep_merge",
    "load_config",
    "method_name_of",
    "parse_method_options",
    "parse_size",
    "read_yaml",
    "validate",
]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vpbench.pipeline.plan spec <experiment> --config ... --out ...``: the spec writer without the CLI's imports.

    The workflow's spec jobs run this: the Snakefile built and checked the same plan (methods included) before it
    scheduled the job, so the checks that import torch are skipped here and a spec job takes a fraction of a second.
    ``vpbench spec`` checks everything.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m vpbench.pipeline.plan")
    commands = parser.add_subparsers(dest="command", required=True)
    spec = commands.add_parser("spec", help="write the experiment spec JSON of one experiment of the config")
    spec.add_argument("experiment")
    spec.add_argument("--config", action="append")
    spec.add_argument("--override", type=parse_overrides, help=OVERRIDE_HELP)
    spec.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    return write_spec(args.experiment, args.config, args.out, prog="python -m vpbench.pipeline.plan spec", stderr=sys.stderr,
                      overrides=args.override, check_methods=False)


OVERRIDE_HELP = "JSON mapping of config keys set with snakemake --config (method, compare_configurations, ...)"


def parse_overrides(text: str) -> dict[str, Any]:
    """``--override '{"method": ...}'`` (argparse type): a JSON mapping, with an error that shows the text."""
    import argparse

    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON ({err}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON mapping, got {text!r}")
    return value


def write_official_standin(checkpoint: Path, out: Path, stderr: Any) -> int:
    """The DMVFN of ``checkpoint`` saved as the authors' release is laid out, so the official loader is exercised."""
    from models import DMVFN, save_official_format
    from models.checkpoint import CheckpointError as OfficialFormatError
    from vpbench.training.checkpoints import CheckpointError, load_method

    try:
        model = load_method(checkpoint)
    except (CheckpointError, OfficialFormatError, OSError, KeyError) as err:
        print(f"vpbench official-standin: {err}", file=stderr)
        return 1
    if not isinstance(model, DMVFN):
        print(f"vpbench official-standin: {checkpoint} holds a {type(model).__name__}, not a DMVFN", file=stderr)
        return 1
    save_official_format(model, out)  # writes aside and renames
    return 0


def write_spec(
    experiment: str, config_files: Sequence[str] | None, out: Path, prog: str, stderr: Any,
    overrides: Mapping[str, Any] | None = None, check_methods: bool = True,
) -> int:
    """Resolve ``experiment`` from the config files and write its spec JSON atomically (exit code)."""
    import os

    try:
        spec = Plan.from_files(config_files, overrides=overrides, check_methods=check_methods).experiment_spec(experiment)
    except (ConfigError, ValueError) as err:
        print(f"{prog}: {err}", file=stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
