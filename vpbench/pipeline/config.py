"""Loading and validating the pipeline configuration (the first step of every plan).

``config/config.yaml`` (or ``config/smoke.yaml``) names the datasets, protocols, the paper's train -> test
configurations, recipes and evaluation settings; ``config/experiments.yaml`` the variants (method + options +
configurations) and ``config/tables.yaml`` every table and figure. All three are validated against the JSON schemas
in ``config/schema`` (unknown keys are errors that name the key) and then cross-checked here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = "config/config.yaml"
SCHEMA_DIR = REPO_ROOT / "config" / "schema"
#: top-level keys of `snakemake compare` (given with --config); the vpbench commands receive them with --override
COMPARE_KEYS = (
    "method", "method_name", "method_label", "method_options", "method_trained", "compare_configurations", "compare_protocols",
)
#: what a Snakemake run of the pipeline needs from the repository (a copy of these runs it elsewhere)
WORKFLOW_FILES = ("Snakefile", "workflow", "config")
OVERRIDE_HELP = "JSON mapping of config keys set with snakemake --config (method, compare_configurations, ...)"


def copy_workflow(folder: Path) -> Path:
    """Copy :data:`WORKFLOW_FILES` into ``folder``: a Snakemake run there writes none of this checkout's outputs."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    return folder


class ConfigError(ValueError):
    """The pipeline configuration is invalid; the message names the file and the key."""


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


def yaml_typed(value: Any) -> Any:
    """Command-line config values typed as YAML types them: ``false`` -> False, ``8`` -> 8, ``null`` -> None.

    Snakemake reads ``--config key=value`` with YAML's base loader after trying int, float and ``True``/``False``,
    so ``method_trained=false`` would arrive as the string "false". Strings inside lists and mappings are typed too;
    a string YAML reads as anything but a scalar (or a date) stays as given.
    """
    if isinstance(value, Mapping):
        return {key: yaml_typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [yaml_typed(item) for item in value]
    if isinstance(value, str):
        try:
            typed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        if typed is None or isinstance(typed, (bool, int, float)):
            return typed
    return value


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


def _registered_names() -> dict[str, Any]:
    """What the schemas take from the registries (``x-registered-enum`` / ``x-registered-properties``), and the
    fields of every table and figure kind (``x-registered-kinds``)."""
    from vpbench.evaluation.metric_records import COUNTED, METRIC_NAMES
    from vpbench.reporting.kinds import FIGURE_KINDS, TABLE_KINDS

    return {
        "metric_names": list(METRIC_NAMES), "reported_quantities": [*METRIC_NAMES, *COUNTED],
        "table": {name: TABLE_KINDS.get(name).entry_schema() for name in TABLE_KINDS},
        "figure": {name: FIGURE_KINDS.get(name).entry_schema() for name in FIGURE_KINDS},
    }


def _kind_alternatives(kinds: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """An entry of one of ``kinds`` (name -> its fields): its ``kind`` selects the fields it is checked against, so
    an error names that kind's culprit, not another kind's."""
    return {
        "type": "object", "required": ["kind"], "properties": {"kind": {"enum": list(kinds)}},
        "allOf": [{"if": {"properties": {"kind": {"const": name}}, "required": ["kind"]}, "then": schema}
                  for name, schema in kinds.items()],
    }


def _fill_registered(node: Any, names: Mapping[str, Any]) -> Any:
    """The schema with its registry placeholders filled: an enum of the registered names, one non-negative number
    property per name, or the fields of each registered table or figure kind. The schema files hold no copy of the
    metric names or of a kind's fields, so a new metric is one record and a new kind one module."""
    if isinstance(node, list):
        return [_fill_registered(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    if "x-registered-kinds" in node:
        node = {**{k: v for k, v in node.items() if k != "x-registered-kinds"},
                **_kind_alternatives(names[node["x-registered-kinds"]])}
    filled = {key: _fill_registered(value, names) for key, value in node.items()}
    if "x-registered-enum" in filled:
        filled["enum"] = names[filled.pop("x-registered-enum")]
    if "x-registered-properties" in filled:
        filled["properties"] = {name: {"type": "number", "minimum": 0} for name in names[filled.pop("x-registered-properties")]}
    return filled


def load_schema(name: str) -> dict[str, Any]:
    """``config/schema/<name>`` with the registered names filled in."""
    return _fill_registered(json.loads((SCHEMA_DIR / name).read_text()), _registered_names())


def validate(data: Any, schema_name: str, where: str) -> None:
    """Raise :class:`ConfigError` naming the offending key path if ``data`` violates ``config/schema/<name>``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
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


def read_validated(path: Path, schema: str) -> dict[str, Any]:
    """A YAML file of the config (experiments, tables) validated against its schema."""
    data = read_yaml(path)
    validate(data, schema, str(path))
    return data


def check_references(config: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]]) -> None:
    """Every name the config and the experiments file use refers to something they declare."""
    cfg = config
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
        if name not in variants:
            raise ConfigError(f"training_seeds: unknown variant {name!r}; declared in {cfg['experiments_file']}: {sorted(variants)}")
    select = cfg.get("select") or {}
    for key, known in (("variants", variants), ("configurations", cfg["configurations"])):
        for name in select.get(key) or []:
            if name not in known:
                raise ConfigError(f"select.{key}: unknown {key[:-1]} {name!r}")
    for name, variant in variants.items():
        where = f"{cfg['experiments_file']}: variants.{name}"
        if variant.get("recipe") and variant["recipe"] not in cfg["recipes"]:
            raise ConfigError(f"{where}.recipe: unknown recipe {variant['recipe']!r}; declared: {sorted(cfg['recipes'])}")
        base = variant.get("checkpoint_of")
        if base is not None:
            if base not in variants:
                raise ConfigError(f"{where}.checkpoint_of: unknown variant {base!r}")
            if variants[base].get("trained", True) is False or variants[base].get("checkpoint_of"):
                raise ConfigError(f"{where}.checkpoint_of: {base!r} is not trained itself")
            missing = set(variant["configurations"]) - set(variants[base]["configurations"])
            if missing:
                raise ConfigError(f"{where}.configurations: {sorted(missing)} are not configurations of {base!r}")
