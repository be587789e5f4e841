"""``kind: beta``: GFLOPs, LPIPS and MS-SSIM of DMVFN evaluated with other betas (Tables 8, 13): panels of one
protocol, one column per beta, one row per quantity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.reporting.kind import TableKind, register_table_kind, row_variants

if TYPE_CHECKING:
    import pandas as pd

    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

#: the rows of the paper's beta tables
QUANTITIES = ("gflops", "lpips", "ms_ssim")

SCHEMA = {
    "required": ["panels", "betas"],
    "properties": {
        "panels": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["protocol", "configuration"],
            "properties": {
                "protocol": {"$ref": "#/$defs/name"},
                "configuration": {"$ref": "#/$defs/name"},
                "label": {"type": "string"},
            },
        }},
        "betas": {
            "type": "object", "minProperties": 1,
            "propertyNames": {"pattern": "^[0-9]+(\\.[0-9]+)?$"},
            "additionalProperties": {"$ref": "#/$defs/variant"},
            "description": "beta -> variant evaluated at that beta",
        },
        "horizon": {"type": "integer", "minimum": 1},
    },
}


def variants(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return [*row_variants(entry), *((f"betas.{beta}", variant) for beta, variant in (entry.get("betas") or {}).items())]


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """Panels of one protocol, one cell per beta value."""
    for panel in plan["panels"]:
        panel["cells"] = {
            beta: artefacts.cell(variant, panel["configuration"], panel["protocol"], True)
            for beta, variant in plan["betas"].items()
        }


def by_quantity(cells: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """One block of display lines per quantity (the rows of the paper's beta tables)."""
    from vpbench.evaluation.metric_records import get_quantity

    return [(get_quantity(q).label, cells[cells["row"] == q]) for q in QUANTITIES]


def build(plan: dict[str, Any], base: Path) -> TableResult:
    from vpbench.evaluation.metric_records import get_quantity
    from vpbench.reporting import cells as c

    paper = c.read_paper_csv(base / plan["paper"])
    horizon = int(plan.get("horizon", 1))
    records = []
    columns = []
    cache: dict[str, Any] = {}
    for panel in plan["panels"]:
        protocol = panel["protocol"]
        for beta in plan["betas"]:
            column = f"{protocol}/beta={beta}"
            columns.append((column, f"{panel.get('label', protocol)} β={beta}"))
            cell = panel["cells"].get(beta)
            estimates = (c.cell_estimates(c.cell_values(c.cell_scores(cell, protocol, base, cache), [horizon], True),
                                          where=f"{cell['experiment']}/{protocol}") if cell else {})
            complexity = c.read_complexity(base / cell["complexity"]) if cell and "complexity" in cell else None
            for quantity in QUANTITIES:
                row = {"paper": quantity, "label": get_quantity(quantity).label, "variant": plan["betas"][beta],
                       "status": "run" if cell else "not-run"}
                record = c.base_record(plan, row, cell)
                record.update(protocol=protocol, metric=quantity, horizon=0 if quantity in c.COUNTED_READERS else horizon,
                              column=column)
                record["paper"] = c.paper_value(paper, quantity, column)
                if quantity in c.COUNTED_READERS:
                    c.set_counted(record, cell, complexity)
                elif (quantity, horizon) in estimates:
                    c.set_estimate(record, estimates[(quantity, horizon)], get_quantity(quantity).scale)
                records.append(c.finish(record, plan))
    notes = [
        f"Scores at t+{horizon}; MS-SSIM and LPIPS in x10^-2; GFLOPs: expected cost under the measured block usage.",
        "beta is changed at inference only: every column evaluates the same trained DMVFN.",
        c.INTERVAL_NOTE,
        c.CONSISTENCY_NOTE,
    ]
    return c.TableResult.of_records(plan, records, columns, notes, display_groups=by_quantity)


KIND = register_table_kind(TableKind("beta", SCHEMA, plan=plan, build=build, variants=variants))
