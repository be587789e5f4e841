"""Loading and validating the pipeline configuration (the first step of every plan).

``config/config.yaml`` (or ``config/smoke.yaml``) names the datasets, protocols, the paper's train -> test
configurations, recipes and evaluation settings; ``config/experiments.yaml`` the variants (method + options +
configurations) and ``config/tables.yaml`` every table and figure. All three are validated against the JSON schemas
in ``config/schema`` (unknown keys are errors that name the key) and then cross-checked here. The config's
``protocols`` hold overrides only (labels, cost assumptions): each protocol's dataset and size are declared once, in
its catalog module, and :func:`resolve_protocols` fills them in when the config is loaded.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from data_prep.registry import EvalProtocol

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


#: PyYAML's safe loader, in C (libyaml) where the wheel has it: the same documents, read about ten times faster
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER)
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
    """Merge the config files (default ``config/config.yaml``) in order; ``protocols`` resolved from the registry
    (:func:`resolve_protocols`)."""
    config: dict[str, Any] = {}
    for path in paths or [DEFAULT_CONFIG]:
        config = deep_merge(config, read_yaml(path))
    try:
        config["protocols"] = resolve_protocols(config)
    except ConfigError as err:
        raise ConfigError(f"{' + '.join(str(p) for p in paths or [DEFAULT_CONFIG])}: {err}") from None
    return config


#: what a config's ``protocols.<name>`` entry sets; the protocol's other facts are its record in ``data_prep.catalog``
PROTOCOL_OVERRIDES = ("label", "eval_gpu_hours")
#: facts of a protocol an entry may only repeat: a resolved config, written out, reads back the same
PROTOCOL_FACTS = ("dataset", "size")


def resolve_protocols(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The config's ``protocols``: every registered protocol of a declared dataset (``datasets.<name>``), as
    ``{dataset, size, label}`` from its record (``data_prep.catalog.<dataset>``), the config's entry merged on top.

    ``size`` is the registered resolution, or ``datasets.<dataset>.size`` where the config prepares the dataset at
    another size. An entry sets :data:`PROTOCOL_OVERRIDES` (other keys are left to the schema, which names them);
    ``dataset`` and ``size`` it may only repeat with the resolved value. A protocol that is not registered, or
    another ``dataset`` or ``size``, is a :class:`ConfigError` naming the key, the config value and the registered
    one. Order: the config's entries, then the registry's. Idempotent: resolving a resolved config changes nothing.
    """
    from data_prep.registry import protocols
    from vpbench.utils import format_size

    registered = protocols()
    entries = config.get("protocols") or {}
    prepared = config.get("datasets") or {}
    if not isinstance(entries, Mapping):
        raise ConfigError(f"protocols: expected a mapping of protocol name -> overrides, got {type(entries).__name__}")
    if not isinstance(prepared, Mapping):
        prepared = {}  # the schema names it
    names = [*entries, *(name for name, p in registered.items() if p.dataset in prepared and name not in entries)]
    resolved: dict[str, dict[str, Any]] = {}
    for name in names:
        key, entry = f"protocols.{name}", entries.get(name) or {}
        protocol = registered.get(name)
        if protocol is None:
            raise ConfigError(f"{key}: config names protocol {name!r}, which is not registered; "
                              f"registered: {', '.join(sorted(registered))}")
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{key}: expected a mapping of overrides ({', '.join(PROTOCOL_OVERRIDES)}), got {entry!r}")
        if "dataset" in entry and entry["dataset"] != protocol.dataset:
            raise ConfigError(f"{key}.dataset: config {entry['dataset']!r}, registered protocol {name!r} reads "
                              f"{protocol.dataset!r}")
        options = prepared.get(protocol.dataset)
        size = _protocol_size(key, protocol, entry.get("size"), options.get("size") if isinstance(options, Mapping) else None)
        resolved[name] = {"dataset": protocol.dataset, "size": format_size(size), "label": protocol.label or name,
                          **{k: v for k, v in entry.items() if k not in PROTOCOL_FACTS}}
    return resolved


def _protocol_size(key: str, protocol: EvalProtocol, given: Any, prepared: Any) -> tuple[int, int]:
    """The size protocol ``key`` is evaluated at: ``prepared`` (``datasets.<dataset>.size``) or its registered
    resolution; ``given`` (the entry's ``size``, or None) must be that size."""
    from vpbench.utils import format_size, parse_size

    resolution, dataset = (protocol.height, protocol.width), protocol.dataset
    try:
        size = parse_size(prepared) if prepared else resolution
    except ValueError as err:
        raise ConfigError(f"datasets.{dataset}.size: {err}") from None
    if given is None:
        return size
    try:
        same = parse_size(given) == size
    except ValueError as err:
        raise ConfigError(f"{key}.size: config {given!r} (datasets.{dataset}.size {prepared!r}): {err}") from None
    if same:
        return size
    if prepared:
        raise ConfigError(f"{key}.size: config {given}, but datasets.{dataset}.size prepares {dataset} at {prepared} "
                          f"(registered protocol {protocol.name!r}: {format_size(resolution)} without that override)")
    raise ConfigError(f"{key}.size: config {given}, registered protocol {protocol.name!r} is {format_size(resolution)}")


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
