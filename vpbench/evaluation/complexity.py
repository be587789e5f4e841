"""Parameters and GFLOPs of any method, under written conventions.

Counters
    fvcore counts one multiply-add as one FLOP (so its "GFLOPs" are GMACs, the unit the paper uses); convolutions
    without bias, bilinear interpolation and grid_sample at 4 per output element, adaptive pooling at 1 per input
    element; element-wise ops (PReLU, add, sigmoid, clamp) are free. ptflops (pytorch backend) also counts MACs, plus
    bias, activation and interpolation elements, and does not see grid_sample.

Conventions (fvcore is the headline counter, as in the paper)
    paper_convention  every block's convolutions and interpolations, all blocks on; no warps (grid_sample) and no
                      routing head. This is what the paper's DMVFN (w/o r) figures measure: 24.51 / 9.96 / 19.39 /
                      5.36 GFLOPs at 512x1024 / 256x832 / 480x864 / 256x448 (its counter did not record grid_sample).
                      For other methods: everything except grid_sample.
    full              all that runs with every block on: warps and the full-resolution routing head included.
    routed_expected_* the expected cost under per-block usage rates u_i: sum_i u_i * cost(block i) (+ its two warps
                      and the routing head for "full"). The paper's DMVFN figures (12.71 / 5.15 / 9.96 / 2.77) are
                      consistent with the paper convention of this quantity (they leave the routing head out).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from models.base import VideoPredictor
from models.dmvfn import DMVFN

GIGA = 1e9
WARP_OPERATOR = "grid_sampler"


@dataclass
class ComplexityReport:
    method: str
    options: dict[str, Any]
    height: int
    width: int
    params: int
    params_routing: int
    gflops: dict[str, float]
    usage_rates: list[float] | None = None
    usage_source: str | None = None
    per_block_gflops: list[float] | None = None  # paper convention, one per block (DMVFN)
    counters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _PredictWrapper(nn.Module):
    """Traceable module: context [B,T,3,H,W] -> next frame, for any VideoPredictor (all blocks on for DMVFN)."""

    def __init__(self, method: VideoPredictor, all_blocks: bool) -> None:
        super().__init__()
        self.method = method
        self.all_blocks = all_blocks

    def forward(self, context: Tensor) -> Tensor:
        if isinstance(self.method, DMVFN):
            prev, cur = context[:, -2], context[:, -1]
            active = None
            if self.all_blocks:
                active = torch.ones(prev.shape[0], self.method.n_blocks, dtype=torch.bool, device=prev.device)
            return self.method(prev, cur, active=active)  # type: ignore[return-value]
        return self.method.predict(context).frame


class _RoutingHead(nn.Module):
    def __init__(self, model: DMVFN) -> None:
        super().__init__()
        self.model = model

    def forward(self, prev: Tensor, cur: Tensor) -> Tensor:
        return self.model.routing_logits(prev, cur)


@contextlib.contextmanager
def _quiet():
    """fvcore and the jit tracer warn about every element-wise op they skip; that is the documented convention."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            logger.setLevel(level)


def _fvcore(module: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[float, dict[str, float], dict[str, float]]:
    """(total, by operator, by module) in FLOPs (fvcore's MAC convention)."""
    with _quiet(), torch.no_grad():
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(module, inputs)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total = float(analysis.total())
        by_op = {k: float(v) for k, v in analysis.by_operator().items()}
        by_module = {k: float(v) for k, v in analysis.by_module().items()}
    return total, by_op, by_module


def _ptflops(module: nn.Module, context_shape: tuple[int, ...]) -> float | None:
    """ptflops (pytorch backend) MACs of ``module`` on a random context, or None if ptflops cannot count it."""
    try:
        from ptflops import get_model_complexity_info
    except ImportError:  # pragma: no cover - ptflops is a dependency
        return None
    with _quiet(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        macs, _ = get_model_complexity_info(
            module,
            tuple(context_shape),
            input_constructor=lambda shape: {"context": torch.rand(1, *shape)},
            as_strings=False,
            print_per_layer_stat=False,
            verbose=False,
            backend="pytorch",
        )
    return None if macs is None else float(macs)


def count_params(model: nn.Module) -> tuple[int, int]:
    """(all parameters, those of the routing head)."""
    total = sum(p.numel() for p in model.parameters())
    routing = sum(p.numel() for n, p in model.named_parameters() if n.split(".")[0] in ("routing", "l1"))
    return total, routing


def analyse(
    method: VideoPredictor,
    height: int,
    width: int,
    name: str = "",
    options: dict[str, Any] | None = None,
    usage_rates: Sequence[float] | None = None,
    usage_source: str | None = None,
    with_ptflops: bool = True,
) -> ComplexityReport:
    """Count params and GFLOPs of ``method`` for one ``height`` x ``width`` frame (batch 1)."""
    method = method.eval()
    params, params_routing = count_params(method)
    context_len = max(getattr(method, "context_length", 2), 2)
    context = torch.rand(1, context_len, 3, height, width)
    total, by_op, by_module = _fvcore(_PredictWrapper(method, all_blocks=True), (context,))
    warps = by_op.get(WARP_OPERATOR, 0.0)
    counters: dict[str, Any] = {"fvcore": {"by_operator_gflops": {k: v / GIGA for k, v in by_op.items()}}}
    gflops = {"paper_convention": (total - warps) / GIGA}

    if not isinstance(method, DMVFN):
        gflops["full"] = total / GIGA
        gflops["routed_expected_paper_convention"] = gflops["paper_convention"]
        gflops["routed_expected_full"] = gflops["full"]
        if with_ptflops:
            counters["ptflops"] = {"all": _macs(_ptflops(_PredictWrapper(method, True), tuple(context.shape[1:])))}
        return ComplexityReport(name, options or {}, height, width, params, params_routing, gflops, counters=counters)

    n = method.n_blocks
    per_block = [by_module.get(f"method.block{i}", 0.0) / GIGA for i in range(n)]
    warp_per_block = warps / GIGA / n  # every executed block warps both frames once: equal cost per block
    routing = 0.0
    if method.has_routing_head:
        frame = torch.rand(1, 3, height, width)
        routing = _fvcore(_RoutingHead(method), (frame, frame))[0] / GIGA
    gflops["full"] = total / GIGA + routing
    counters["fvcore"]["routing_head_gflops"] = routing
    counters["fvcore"]["warps_gflops"] = warps / GIGA

    if usage_rates is None:
        usage_rates = [1.0] * n if method.routing_method == "none" else [_default_usage(method)] * n
        usage_source = usage_source or (
            "all blocks (no routing)" if method.routing_method == "none" else f"assumed {usage_rates[0]:g} per block"
        )
    if len(usage_rates) != n:
        raise ValueError(f"{len(usage_rates)} usage rates for {n} blocks")
    usage = [float(u) for u in usage_rates]
    gflops["routed_expected_paper_convention"] = sum(u * c for u, c in zip(usage, per_block))
    gflops["routed_expected_full"] = routing + sum(u * (c + warp_per_block) for u, c in zip(usage, per_block))

    if with_ptflops:
        blocks_only = _ptflops(_PredictWrapper(method, all_blocks=True), tuple(context.shape[1:]))
        counters["ptflops"] = {
            "paper_convention": _macs(blocks_only),
            "full_without_grid_sample": _macs(None if blocks_only is None else blocks_only + _ptflops_routing(method, height, width)),
            "note": "ptflops counts bias, PReLU and interpolation elements and cannot see grid_sample",
        }
    return ComplexityReport(
        name or "dmvfn",
        options or {},
        height,
        width,
        params,
        params_routing,
        gflops,
        usage_rates=usage,
        usage_source=usage_source,
        per_block_gflops=per_block,
        counters=counters,
    )


def _ptflops_routing(method: DMVFN, height: int, width: int) -> float:
    if not method.has_routing_head:
        return 0.0
    from ptflops import get_model_complexity_info

    head = _RoutingHead(method)
    with _quiet(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        macs, _ = get_model_complexity_info(
            head,
            (3, height, width),
            input_constructor=lambda shape: {"prev": torch.rand(1, *shape), "cur": torch.rand(1, *shape)},
            as_strings=False,
            print_per_layer_stat=False,
            verbose=False,
            backend="pytorch",
        )
    return float(macs or 0.0)


def _macs(value: float | None) -> float | None:
    return None if value is None else value / GIGA


def _default_usage(method: DMVFN) -> float:
    if method.routing_method == "stebs":
        return method.beta  # Eq. 10 normalises the expected number of blocks to beta * n (before the min(., 1))
    return 0.5

