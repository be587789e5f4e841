"""``kind: usage``: per-block usage rates (Table 3): the fraction of routing decisions that ran each block, ×10⁻²;
one row per (variant, configuration, protocol)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.reporting.kind import TableKind, register_table_kind, row_status

if TYPE_CHECKING:
    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

SCHEMA = {
    "required": ["rows"],
    "properties": {
        "rows": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["paper", "variant", "configuration", "protocol"],
            "properties": {
                "paper": {"type": "string"},
                "label": {"type": "string"},
                "variant": {"$ref": "#/$defs/variant"},
                "configuration": {"$ref": "#/$defs/name"},
                "protocol": {"$ref": "#/$defs/name"},
            },
        }},
    },
}


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """One cell per row, each its own protocol."""
    for row in plan["rows"]:
        row["cells"] = {row["protocol"]: artefacts.cell(row["variant"], row["configuration"], row["protocol"], False)}
        row["status"] = row_status(row)


def build(plan: dict[str, Any], base: Path) -> TableResult:
    from vpbench.evaluation.metric_records import get_quantity
    from vpbench.reporting import cells as c
    from vpbench.reporting.aggregate import per_clip_usage
    from vpbench.reporting.intervals import estimate

    paper = c.read_paper_csv(base / plan["paper"])
    blocks = [column for column in paper.columns if column.startswith("block")]
    columns = [(b, f"{b.replace('block', 'block ')} (x{int(paper.at['scale', b])})" if "scale" in paper.index else b)
               for b in blocks]
    scale = get_quantity("usage").scale
    records = []
    cache: dict[str, Any] = {}
    for row in plan["rows"]:
        cell = row["cells"].get(row["protocol"])
        usage = None
        if cell:
            usage = per_clip_usage(c.cell_scores(cell, row["protocol"], base, cache))
        for index, block in enumerate(blocks):
            record = c.base_record(plan, row, cell)
            record.update(protocol=row["protocol"], metric="usage", horizon=0, column=block)
            record["paper"] = c.paper_value(paper, row.get("paper"), block)
            if usage is not None:
                hit = usage[usage["block"] == index]
                if not hit.empty:
                    where = f"{cell['experiment']}/{row['protocol']} block {index}"
                    c.set_estimate(record, estimate(c.interval_frame(hit.rename(columns={"usage_rate": "value"})),
                                                    where=where), scale)
            records.append(c.finish(record, plan))
    notes = [
        "Usage rate (x10^-2): fraction of routing decisions (clips x steps x routing seeds) that ran the block.",
        c.INTERVAL_NOTE,
        c.CONSISTENCY_NOTE,
    ]
    return c.TableResult.of_records(plan, records, columns, notes)


KIND = register_table_kind(TableKind("usage", SCHEMA, plan=plan, build=build))
