"""Experiments: the (variant, configuration) pairs a configuration plans, with their sources and seeds.

An *experiment* is one (variant, configuration) pair with the stable id ``<variant>-<configuration>``, suffixed by
``-<recipe>`` and ``-seed<n>`` only when they differ from the config's defaults. Every output path derives from it.
Besides the variants of the experiments file, a configuration may add the authors' released weights
(``official_weights:``) and one compared method (``snakemake compare --config method=...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpbench.pipeline.config import ConfigError, method_name_of, parse_method_options
from vpbench.pipeline.paths import official_dir

OFFICIAL_SOURCE = "official-weights"
DEFAULT_OFFICIAL_VARIANT = "dmvfn-official"
#: the variant whose smoke-trained weights are written in the official format when ``official_weights.standin``
STANDIN_SOURCE_VARIANT = "dmvfn"
#: a method name becomes a folder and file name, and the first part of experiment ids
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.]*$")
DEFAULT_COMPARE_BASELINES = ("dmvfn", "dvf", "prednet", "copy_last")


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

    def __post_init__(self) -> None:
        # The evaluated weights come from one place (Plan.evaluation_checkpoint decides which from this).
        origins = [name for name, given in (("its own training", self.trained_here), ("checkpoint_of", self.checkpoint_of),
                                            ("released weights", self.weights)) if given]
        if len(origins) > 1:
            raise ValueError(f"experiment {self.id!r}: its weights come from one place, not from {' and '.join(origins)}")

    @property
    def trained_here(self) -> bool:
        """True when this experiment has its own training job."""
        return self.source == "retrained" and self.checkpoint_of is None

    @property
    def routed(self) -> bool:
        """Whether the method's blocks vary per sample (torch-free for the built-in methods: ``models.registry``)."""
        from models.registry import is_routed

        return is_routed(self.method, self.options)


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



def builtin_trainable(method: str) -> bool:
    """A built-in method's ``trainable`` (torch-free); other methods of the experiments file say ``trained: false``."""
    from models.registry import BUILTIN_METHODS

    return BUILTIN_METHODS[method].trainable if method in BUILTIN_METHODS else True


def method_trained(config: Mapping[str, Any], method: str, options: Mapping[str, Any]) -> bool:
    """``method_trained`` when given, else whether the method has anything to train (its ``trainable``): a
    parameter-free method gets no training job without being told."""
    given = config.get("method_trained")
    if given is not None:
        return bool(given)
    from models.registry import is_trainable

    return is_trainable(method, options)


class ExperimentSet:
    """The experiments of one configuration: variants (with the official and compared ones added) resolved to ids."""

    def __init__(self, config: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]]) -> None:
        self.config = config
        self.variants: dict[str, dict[str, Any]] = {name: dict(spec) for name, spec in variants.items()}
        self._file_variants = set(self.variants)
        self._add_official_variant()
        self.comparison: Comparison | None = self._add_compared_method()
        self._forced: set[tuple[str, str]] = self._forced_experiments()
        self.by_id: dict[str, Experiment] = self._resolve_experiments()

    def get(self, experiment: str) -> Experiment:
        try:
            return self.by_id[experiment]
        except KeyError:
            raise ConfigError(f"unknown experiment {experiment!r}; this configuration defines: {', '.join(sorted(self.by_id))}") from None

    def variant_key(self, variant: str) -> str:
        """Where a variant's method and options are written (for error messages)."""
        if variant == self.official_variant and "official_files" in self.variants.get(variant, {}):
            return "official_weights"
        if self.comparison is not None and variant == self.comparison.name and variant not in self._file_variants:
            return "(--config) method"
        return f"{self.config['experiments_file']}: variants.{variant}"

    def require_comparison(self) -> Comparison:
        if self.comparison is None:
            raise ConfigError("no method to compare: set method=<name | entry point | package.module:factory> (e.g. snakemake compare --config method=...)")
        return self.comparison

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
            "official_files": {c: f"{official_dir(self.config)}/{f}" for c, f in official["files"].items()},
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
        for exp in self.by_id.values():
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
                "trained": method_trained(cfg, method, options),
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
                    trained = variant.get("trained", builtin_trainable(variant["method"])) and not is_official
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
