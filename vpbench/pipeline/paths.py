"""Where every file of the pipeline lives: one method per kind of file, the one home of the layout.

Each method takes the ids that name a file and formats them into the file's pattern, so the same method gives a
concrete path (``score_file("dmvfn-city", "cityscapes")``) and, given Snakemake wildcards, the rule's pattern
(``score_file("{experiment}", "{protocol}")``). The rule files (``workflow/rules/*.smk``) declare their outputs,
inputs and logs with these methods, :meth:`Paths.rule_outputs` says which rule writes which kind, and the job graph
(:mod:`vpbench.pipeline.jobs`) matches a file to its rule with :meth:`Paths.rule_patterns`, built from the same
methods and Snakemake's wildcard constraints (:data:`WILDCARD_CONSTRAINTS`). tests/test_pipeline_dag.py checks that
Snakemake's rules write exactly :meth:`Paths.rule_outputs`. Nothing else spells a results or reports path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from data_prep.layout import MANIFEST, SMOKE_STAMP

#: Snakemake's wildcard constraints (``wildcard_constraints:`` of workflow/rules/common.smk), also what the job
#: graph accepts in a file name
WILDCARD_CONSTRAINTS: dict[str, str] = {
    "dataset": "[a-z0-9_]+",
    "protocol": "[a-z0-9_]+",
    "experiment": "[a-z0-9_.]+(-[a-z0-9_.]+)*",
    "table": "table[0-9]+",
    "figure": "fig[0-9]+",
    "name": "[a-z0-9][a-z0-9_.]*",
}
#: where the authors' released weights are placed when ``official_weights.dir`` is not set
DEFAULT_OFFICIAL_DIR = "resources/weights"
TABLE_FORMATS = ("md", "csv", "tex")
FIGURE_FORMATS = ("png", "pdf")
_WILDCARD = re.compile(r"\{(\w+)\}")
#: each rule's log under ``<results>/logs`` (Snakemake fills the wildcards)
LOG_PATTERNS: dict[str, str] = {
    "smoke_data": "data/smoke_data.log",
    "prepare": "data/prepare_{dataset}.log",
    "official_standin": "data/official_standin_{name}.log",
    "official_weights": "data/official_weights_{name}.log",
    "spec": "specs/{experiment}.log",
    "train": "train/{experiment}.log",
    "evaluate": "evaluate/{experiment}/{protocol}.log",
    "predictions": "predictions/{experiment}/{protocol}.log",
    "complexity": "complexity/{experiment}/{protocol}.log",
    "table": "render/{table}.log",
    "figure": "render/{figure}.log",
    "results_page": "render/results_page.log",
    "compare_table": "render/compare_{name}.log",
    "compare_steps_figure": "render/compare_{name}_steps_{protocol}.log",
}


def official_dir(config: Mapping[str, Any]) -> str:
    """The folder of the released weights files (``official_weights.dir``)."""
    return (config.get("official_weights") or {}).get("dir", DEFAULT_OFFICIAL_DIR)


class Paths:
    """The file layout under the config's ``paths:`` (raw, prepared, results, reports)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    # -- folders -------------------------------------------------------------------------------------------------
    @property
    def raw(self) -> str:
        return self.config["paths"]["raw"]

    @property
    def prepared(self) -> str:
        return self.config["paths"]["prepared"]

    @property
    def results(self) -> str:
        return self.config["paths"]["results"]

    @property
    def reports(self) -> str:
        return self.config["paths"]["reports"]

    @property
    def tables_dir(self) -> str:
        return f"{self.reports}/tables"

    @property
    def figures_dir(self) -> str:
        return f"{self.reports}/figures"

    @property
    def compare_dir(self) -> str:
        return f"{self.reports}/compare"

    @property
    def logs(self) -> str:
        return f"{self.results}/logs"

    @property
    def official_dir(self) -> str:
        return official_dir(self.config)

    def raw_dir(self, dataset: str) -> str:
        """A dataset's raw tree (``datasets.<ds>.raw`` names another folder than the dataset's own)."""
        return f"{self.raw}/{self.config['datasets'][dataset].get('raw', dataset)}"

    def prepared_dir(self, dataset: str) -> str:
        return f"{self.prepared}/{dataset}"

    # -- files (a wildcard such as "{experiment}" for an id gives the rule's pattern) -------------------------------
    @property
    def smoke_stamp(self) -> str:
        """Written by ``vpbench smoke-data`` once the bundled tiny raw trees are in place."""
        return f"{self.raw}/{SMOKE_STAMP}"

    def manifest_file(self, dataset: str) -> str:
        return f"{self.prepared_dir(dataset)}/{MANIFEST}"

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

    def official_weights_file(self, name: str) -> str:
        """A released weights file, ``name`` without its ``.pkl``."""
        return f"{self.official_dir}/{name}.pkl"

    def table_file(self, table: str, ext: str) -> str:
        return f"{self.tables_dir}/{table}.{ext}"

    def table_files(self, table: str) -> list[str]:
        return [self.table_file(table, ext) for ext in TABLE_FORMATS]

    def figure_file(self, figure: str, ext: str) -> str:
        return f"{self.figures_dir}/{figure}.{ext}"

    def figure_files(self, figure: str) -> list[str]:
        return [self.figure_file(figure, ext) for ext in FIGURE_FORMATS]

    @property
    def results_page(self) -> str:
        return f"{self.reports}/index.html"

    def compare_table_file(self, name: str, ext: str) -> str:
        return f"{self.compare_dir}/{name}.{ext}"

    def compare_steps_file(self, name: str, protocol: str, ext: str) -> str:
        return f"{self.compare_dir}/{name}-steps-{protocol}.{ext}"

    def compare_files(self, name: str, protocols: Iterable[str]) -> list[str]:
        """``<reports>/compare/<method name>.{md,csv,tex}`` and its per-step difference figures (one per protocol)."""
        files = [self.compare_table_file(name, ext) for ext in TABLE_FORMATS]
        for protocol in protocols:
            files += [self.compare_steps_file(name, protocol, ext) for ext in FIGURE_FORMATS]
        return files

    def log_file(self, rule: str) -> str:
        """The log pattern of ``rule`` (its wildcards left in): ``<results>/logs/...``."""
        return f"{self.logs}/{LOG_PATTERNS[rule]}"

    # -- which rule writes what --------------------------------------------------------------------------------------
    def rule_outputs(self) -> dict[str, list[str]]:
        """The patterns each rule of the config's workflow writes, as its ``output:`` declares them (``smoke_data``
        only for the smoke data; official weights: ``official_standin`` or ``official_weights``, as the config says)."""
        outputs = {"smoke_data": [self.smoke_stamp]} if self.config["raw_data"] == "smoke" else {}
        outputs |= {
            "prepare": [self.manifest_file("{dataset}")],
            "spec": [self.spec_file("{experiment}")],
            "train": [self.checkpoint_file("{experiment}")],
            "evaluate": [self.score_file("{experiment}", "{protocol}")],
            "complexity": [self.complexity_file("{experiment}", "{protocol}")],
            "predictions": [self.predictions_file("{experiment}", "{protocol}")],
            "table": self.table_files("{table}"),
            "figure": self.figure_files("{figure}"),
            "compare_table": [self.compare_table_file("{name}", ext) for ext in TABLE_FORMATS],
            "compare_steps_figure": [self.compare_steps_file("{name}", "{protocol}", ext) for ext in FIGURE_FORMATS],
            "results_page": [self.results_page],
        }
        official = self.config.get("official_weights")
        if official:
            outputs["official_standin" if official.get("standin") else "official_weights"] = [
                self.official_weights_file("{name}")]
        return outputs

    def rule_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        """(rule, regular expression) of every output pattern: a match's named groups are the job's wildcards."""
        outputs = self.rule_outputs()
        return [(rule, pattern_regex(pattern)) for rule, patterns in outputs.items() for pattern in patterns]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a Snakemake file pattern, each wildcard a named group of its constraint."""
    parts, end = [], 0
    for match in _WILDCARD.finditer(pattern):
        parts += [re.escape(pattern[end:match.start()]), f"(?P<{match[1]}>{WILDCARD_CONSTRAINTS[match[1]]})"]
        end = match.end()
    parts.append(re.escape(pattern[end:]))
    return re.compile("".join(parts))
