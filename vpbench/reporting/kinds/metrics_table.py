"""``kind: metrics``: rows of variants x column groups of (configuration, protocol), each with [GFLOPs], [params]
and metrics at horizons (Tables 1, 2, 4-7, and the table of ``snakemake compare``).

``plan["paper"]`` may be None (``snakemake compare``): the table then has reproduced lines only, and with
``plan["compared"]`` every row after the first gets its paired difference to the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from vpbench.reporting.kind import TableKind, register_table_kind, row_status

if TYPE_CHECKING:
    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

SCHEMA = {
    "required": ["groups", "rows"],
    "properties": {
        "cumulative": {"type": "boolean", "description": "t+k = mean over t+1..t+k (the paper's convention)"},
        "groups": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["protocol", "configuration", "metrics", "horizons"],
            "properties": {
                "protocol": {"$ref": "#/$defs/name"},
                "configuration": {"$ref": "#/$defs/name"},
                "label": {"type": "string"},
                "gflops": {"type": "boolean"},
                "metrics": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/metric"}, "uniqueItems": True},
                "horizons": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1},
                             "uniqueItems": True},
            },
        }},
        "rows": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "label": {"type": "string", "description": "row label (default: the paper's label, else the variant)"},
                "paper": {"type": "string", "description": "row label in the paper's CSV (its numbers are shown beside)"},
                "variant": {"$ref": "#/$defs/variant", "description": "the variant whose experiments fill the row"},
            },
            "anyOf": [{"required": ["paper"]}, {"required": ["variant"]}],
        }},
    },
}


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """One cell per row and group: the row's variant on the group's (configuration, protocol)."""
    for group in plan["groups"]:
        group["available"] = group["protocol"] in artefacts.config["protocols"]
    for row in plan["rows"]:
        row["cells"] = {
            g["protocol"]: artefacts.cell(row.get("variant"), g["configuration"], g["protocol"], bool(g.get("gflops")))
            for g in plan["groups"]
        }
        row["status"] = row_status(row)
        artefacts.standin_label(row)


class Column(NamedTuple):
    key: str  # "<protocol>/<metric>/t<horizon>", or "<protocol>/<quantity>" for a counted quantity
    header: str
    metric: str
    horizon: int  # 0 for a counted quantity


def group_columns(group: Mapping[str, Any], cumulative: bool) -> list[Column]:
    """A group's columns in display order: GFLOPs, parameters (where asked), then each metric at each horizon."""
    from vpbench.evaluation.metric_records import get_quantity

    protocol = group["protocol"]
    label = group.get("label", protocol)
    columns = [Column(f"{protocol}/{quantity}", f"{label} {get_quantity(quantity).label}", quantity, 0)
               for quantity in ("gflops", "params") if group.get(quantity)]
    for metric in group["metrics"]:
        for horizon in group["horizons"]:
            # The header itself says when t+k is a cumulative mean (the paper's convention), not frame t+k.
            when = f"t+{horizon} (cum. t+1..t+{horizon})" if cumulative and horizon > 1 else f"t+{horizon}"
            columns.append(Column(f"{protocol}/{metric}/t{horizon}", f"{label} {get_quantity(metric).label} {when}",
                                  metric, horizon))
    return columns


def build(plan: dict[str, Any], base: Path) -> TableResult:
    """Every cell of the table: one record per row and column, counted ones from the complexity file."""
    from vpbench.evaluation.metric_records import get_quantity
    from vpbench.reporting import cells as c
    from vpbench.reporting.comparison import differences

    paper = c.read_paper_csv(base / plan["paper"]) if plan.get("paper") else None
    cumulative = bool(plan.get("cumulative", True))
    columns = [group_columns(group, cumulative) for group in plan["groups"]]
    records: list[dict[str, Any]] = []
    cache: dict[str, Any] = {}
    compared_values: dict[str, Any] = {}  # protocol -> the compared method's per-clip values
    for index, row in enumerate(plan["rows"]):
        for group, group_cols in zip(plan["groups"], columns):
            protocol = group["protocol"]
            cell = row["cells"].get(protocol)
            estimates: dict[tuple[str, int], Any] = {}
            paired: dict[tuple[str, int], dict[str, Any]] = {}
            complexity = None
            if cell:
                values = c.cell_values(c.cell_scores(cell, protocol, base, cache), group["horizons"], cumulative)
                estimates = c.cell_estimates(values, where=f"{cell['experiment']}/{protocol}")
                if plan.get("compared") and index == 0:
                    compared_values[protocol] = values
                elif plan.get("compared") and protocol in compared_values:
                    found = differences(compared_values[protocol], values, name=row["variant"],
                                        label=c.row_label(row), protocol=protocol)
                    paired = {(d["metric"], d["horizon"]): d for d in found}
                if "complexity" in cell and (group.get("gflops") or group.get("params")):
                    complexity = c.read_complexity(base / cell["complexity"])
            for column in group_cols:
                key = (column.metric, column.horizon)
                record = c.base_record(plan, row, cell)
                record.update(protocol=protocol, metric=column.metric, horizon=column.horizon, column=column.key)
                record["paper"] = c.paper_value(paper, row.get("paper"), column.key)
                if column.metric in c.COUNTED_READERS:
                    c.set_counted(record, cell, complexity)
                else:
                    scale = get_quantity(column.metric).scale
                    if key in estimates:
                        c.set_estimate(record, estimates[key], scale)
                    if key in paired:
                        c.set_difference(record, paired[key], plan["compared"], scale)
                records.append(c.finish(record, plan))
    notes = [
        "t+3 / t+5: cumulative means over t+1..t+k (the paper's convention)." if cumulative else
        "t+k: the score of frame t+k alone (not cumulative).",
        c.METRICS_UNITS_NOTE,
        c.INTERVAL_NOTE,
        c.CONSISTENCY_NOTE if paper is not None else c.PAIRED_NOTE,
    ]
    missing_groups = [g["protocol"] for g in plan["groups"] if not g.get("available", True)]
    if missing_groups:
        notes.append(f"Protocols not in this configuration: {', '.join(missing_groups)}.")
    headers = [(column.key, column.header) for group_cols in columns for column in group_cols]
    return c.TableResult.of_records(plan, records, headers, notes)


KIND = register_table_kind(TableKind("metrics", SCHEMA, plan=plan, build=build))
