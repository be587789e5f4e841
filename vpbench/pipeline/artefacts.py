"""What each table, figure and comparison reads: its cells, their experiments, and the files behind them.

A *cell* is one variant on one (configuration, protocol): the experiments (one per training seed), their score files,
what a complete score file holds (``expect``) and, where the table prints GFLOPs, the complexity file. The renderers
in ``vpbench.reporting`` receive these plans as JSON-able dicts; the Snakefile asks for their files as rule inputs.
How a table or figure of each kind finds its cells, and which rules its entry follows, is the kind's own (its
``plan``, ``variants`` and ``check``, in its module of :mod:`vpbench.reporting.kinds`, torch- and pandas-free).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vpbench.pipeline.config import ConfigError
from vpbench.pipeline.experiments import DEFAULT_OFFICIAL_VARIANT, ExperimentSet
from vpbench.pipeline.paths import Paths
from vpbench.reporting.kind import FigureKind, TableKind, row_status
from vpbench.reporting.kinds import FIGURE_KINDS, TABLE_KINDS

STANDIN_NOTE = " [smoke stand-in: official format, weights trained here]"
#: how every title of a smoke run begins, and what its captions say first
SMOKE_TAG = "[SMOKE RUN]"
SMOKE_CAPTION = ("Smoke run: tiny CPU training on mini datasets built from the offline clips; the numbers test the "
                 "pipeline and say nothing about the methods.")
Cell = dict[str, Any]


def row_label_of(row: Mapping[str, Any], variants: Mapping[str, Mapping[str, Any]]) -> str:
    return row.get("label") or variants.get(row.get("variant", ""), {}).get("label") or row.get("paper") or row.get("variant", "")


class Artefacts:
    """The plans and input files of the tables and figures of ``tables_file`` (and of ``snakemake compare``)."""

    def __init__(self, config: Mapping[str, Any], experiments: ExperimentSet, paths: Paths,
                 tables: dict[str, dict[str, Any]], figures: dict[str, dict[str, Any]]) -> None:
        self.config = config
        self.experiments = experiments
        self.paths = paths
        self.tables = tables
        self.figures = figures

    # -- checks ---------------------------------------------------------------------------------------------
    def check(self, tables_file: Path, root: Path) -> None:
        """Every variant, table and paper CSV an artefact names exists, and each entry follows its kind's rules."""
        variants = self.experiments.variants
        official = (self.config.get("official_weights") or {}).get("variant", DEFAULT_OFFICIAL_VARIANT)

        def check_entry(kind: TableKind | FigureKind, entry: Mapping[str, Any], where: str) -> None:
            for key, name in kind.variants(entry):
                # The official-weights variant may be named before its files are configured: its rows read "not run".
                if name not in variants and name != official:
                    raise ConfigError(f"{tables_file}: {where}{'.' + key if key else ''}: unknown variant {name!r}")
            for key, message in kind.check(entry, self.tables):
                raise ConfigError(f"{tables_file}: {where}.{key}: {message}")

        for table_name, table in self.tables.items():
            where = f"tables.{table_name}"
            if table["kind"] not in TABLE_KINDS:
                raise ConfigError(f"{tables_file}: {where}.kind: unknown table kind {table['kind']!r}; known: {sorted(TABLE_KINDS)}")
            if not (root / table["paper"]).is_file():
                raise ConfigError(f"{tables_file}: {where}.paper: {table['paper']} does not exist")
            check_entry(TABLE_KINDS.get(table["kind"]), table, where)
        for fig_name, fig in self.figures.items():
            where = f"figures.{fig_name}"
            if fig["kind"] not in FIGURE_KINDS:
                raise ConfigError(f"{tables_file}: {where}.kind: unknown figure kind {fig['kind']!r}; known: {sorted(FIGURE_KINDS)}")
            check_entry(FIGURE_KINDS.get(fig["kind"]), fig, where)

    # -- cells ----------------------------------------------------------------------------------------------
    def cell(self, variant: str | None, configuration: str, protocol: str, complexity: bool) -> Cell | None:
        """One table cell: the experiments of ``variant`` on ``configuration`` (one per training seed) and their files.

        ``experiment`` / ``complexity`` name the first seed's (GFLOPs do not depend on the seed); ``experiments`` and
        ``scores`` list every seed's, which a table pools.
        """
        if variant is None or protocol not in self.config["protocols"]:
            return None
        exps = self.experiments
        recipe = exps.variants.get(variant, {}).get("recipe", self.config["default_recipe"])
        chosen = [
            exp for exp in exps.by_id.values()
            if exp.variant == variant and exp.configuration == configuration and protocol in exp.protocols
            and exps.experiment_id(variant, configuration, recipe, exp.seed) == exp.id
        ]
        if not chosen:
            return None
        first = chosen[0]
        cell: Cell = {
            "experiment": first.id, "source": first.source,
            "experiments": [exp.id for exp in chosen],
            "scores": [self.paths.score_file(exp.id, protocol) for exp in chosen],
            "expect": [self.score_expectation(exp.id, protocol) for exp in chosen],
        }
        if complexity:
            cell["complexity"] = self.paths.complexity_file(first.id, protocol)
        return cell

    def prediction_cell(self, variant: str, figure: Mapping[str, Any]) -> Cell | None:
        cell = self.cell(variant, figure["configuration"], figure["protocol"], False)
        if cell is None:
            return None
        cell.pop("scores")
        cell.pop("experiments")
        cell["predictions"] = self.paths.predictions_file(cell["experiment"], figure["protocol"])
        return cell

    def score_expectation(self, experiment: str, protocol: str) -> dict[str, Any]:
        """What a whole score file of ``experiment`` on ``protocol`` holds (``vpbench.evaluation.scores.check_complete``)."""
        from data_prep.catalog import DATASETS
        from data_prep.protocols import PROTOCOLS

        exp = self.experiments.by_id[experiment]
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

    def standin_label(self, row: dict[str, Any]) -> None:
        """Mark the official-weights row of a smoke run, whose 'released' file was trained here."""
        exps = self.experiments
        if row.get("variant") and row["variant"] == exps.official_variant and exps.official_standin:
            row["label"] = row_label_of(row, exps.variants) + STANDIN_NOTE

    # -- which run, and what compares with the paper ---------------------------------------------------------
    @property
    def run(self) -> str:
        """"smoke" for the smoke data (``raw_data: smoke``), "paper" for the paper's datasets."""
        return "smoke" if self.config.get("raw_data") == "smoke" else "paper"

    def comparability(self) -> dict[str, dict[str, str | None]]:
        """Per protocol, why its scores and its GFLOPs do not compare with the paper's (None: they do).

        Scores compare only on the paper's data at the paper's resolution; GFLOPs only at the paper's resolution;
        parameter counts always. A protocol the registry does not know compares as configured."""
        from data_prep.protocols import PROTOCOLS
        from vpbench.utils import format_size, parse_size

        result: dict[str, dict[str, str | None]] = {}
        for name, protocol in self.config["protocols"].items():
            known = PROTOCOLS.get(name)
            size_reason = None
            if known is not None and protocol.get("size"):
                size, paper = parse_size(protocol["size"]), (known.height, known.width)
                if tuple(size) != tuple(paper):
                    size_reason = f"evaluated at {format_size(size)}, the paper at {format_size(paper)}"
            scores_reason = "smoke data, not the paper's clips" if self.run == "smoke" else size_reason
            result[name] = {"scores": scores_reason, "gflops": size_reason}
        return result

    def mark_run(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Say in the plan which run it belongs to: a smoke run's titles and captions say "smoke", and each
        protocol carries what of it compares with the paper (the renderers mark the rest "not comparable")."""
        plan["run"] = self.run
        plan["comparability"] = self.comparability()
        plan["title"] = self.run_title(plan.get("title", plan["name"]))
        plan["caption"] = self.run_caption(plan.get("caption", ""))
        return plan

    def run_title(self, title: str) -> str:
        return f"{SMOKE_TAG} {title}" if self.run == "smoke" and not title.startswith(SMOKE_TAG) else title

    def run_caption(self, caption: str) -> str:
        if self.run != "smoke" or caption.startswith(SMOKE_CAPTION):
            return caption
        return f"{SMOKE_CAPTION} {caption}".strip()

    # -- plans ----------------------------------------------------------------------------------------------
    def table_plan(self, name: str) -> dict[str, Any]:
        """Everything ``vpbench render <table>`` needs: the spec, the paper CSV and each cell's files."""
        try:
            table = copy.deepcopy(self.tables[name])
        except KeyError:
            raise ConfigError(f"unknown table {name!r}; declared: {', '.join(self.tables)}") from None
        plan: dict[str, Any] = {"name": name, **table}
        TABLE_KINDS.get(table["kind"]).plan(self, plan)
        return self.mark_run(plan)

    def figure_plan(self, name: str) -> dict[str, Any]:
        try:
            figure = copy.deepcopy(self.figures[name])
        except KeyError:
            raise ConfigError(f"unknown figure {name!r}; declared: {', '.join(self.figures)}") from None
        plan: dict[str, Any] = {"name": name, **figure}
        FIGURE_KINDS.get(figure["kind"]).plan(self, plan)
        return self.mark_run(plan)

    def compare_plan(self) -> dict[str, Any]:
        """A ``kind: metrics`` table plan without paper values: the compared method, then the baselines."""
        comparison = self.experiments.require_comparison()
        variants = self.experiments.variants
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
            row: dict[str, Any] = {"variant": variant, "label": variants[variant].get("label", variant)}
            row["cells"] = {g["protocol"]: self.cell(variant, g["configuration"], g["protocol"], True) for g in groups}
            row["status"] = row_status(row)
            self.standin_label(row)
            rows.append(row)
        baselines = ", ".join(variants[b].get("label", b) for b in comparison.baselines)
        return self.mark_run({
            "name": comparison.name,
            "kind": "metrics",
            "title": f"{comparison.label} ({comparison.method}) compared with {baselines}",
            "caption": "Every row is scored by the same evaluation code on the same clips; no paper values.",
            "paper": None,
            "compared": comparison.name,  # the first row; every other row gets a paired difference to it
            "cumulative": True,
            "groups": groups,
            "rows": rows,
        })

    def compare_protocols(self) -> list[str]:
        """The protocols of the compare table, in its column order."""
        return [group["protocol"] for group in self.compare_plan()["groups"]]

    def compare_files(self, name: str | None = None) -> list[str]:
        return self.paths.compare_files(name or self.experiments.require_comparison().name, self.compare_protocols())

    # -- what an artefact reads -----------------------------------------------------------------------------
    @staticmethod
    def cell_files(cells: Iterable[Mapping[str, Any] | None]) -> list[str]:
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
        return [plan["paper"], *self.cell_files(cells)]

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
        for f in self.cell_files(cells):
            if f not in files:
                files.append(f)
        return files

    def compare_inputs(self) -> list[str]:
        return self.cell_files(cell for row in self.compare_plan()["rows"] for cell in row["cells"].values())

    def report_targets(self) -> list[str]:
        targets: list[str] = []
        for table in self.tables:
            targets += self.paths.table_files(table)
        for figure in self.figures:
            targets += self.paths.figure_files(figure)
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
