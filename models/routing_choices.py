"""DMVFN's routing choices as plain facts (torch-free): the planner reads them before any model is built.

``models.routing`` implements each choice; ``models.dmvfn.DMVFN`` takes ``routing=`` (default :data:`DEFAULT_ROUTING`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROUTING_METHODS: tuple[str, ...] = ("stebs", "gumbel", "random", "none")
INFERENCE_ROUTINGS: tuple[str, ...] = ("sample", "sample0", "deterministic", "threshold")
DEFAULT_ROUTING = "stebs"  # the paper's


def routes(routing: str) -> bool:
    """True when the blocks that run vary per sample (every choice but "none", which runs all of them)."""
    return routing != "none"


def dmvfn_is_routed(options: Mapping[str, Any]) -> bool:
    """Whether a DMVFN built with ``options`` routes (its expected GFLOPs then weight blocks by measured usage)."""
    return routes(options.get("routing", DEFAULT_ROUTING))
