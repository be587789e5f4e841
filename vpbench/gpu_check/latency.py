"""Latency part: per predicted 720p frame, DVF against DMVFN (all blocks, routed), in several inference variants.

Timing is :mod:`vpbench.benchmarks.latency`'s (batch 1, the Big Buck Bunny frames, warm-up, interleaved rounds, the
device synchronised before and after every call, medians). Variants, each against ``eager`` (fp32, NCHW: what
``vpbench evaluate`` runs on CUDA):

* ``channels_last``: weights and inputs in NHWC;
* ``amp_fp16``: ``torch.autocast`` fp16 (weights stay fp32);
* ``channels_last_amp_fp16``: both;
* ``compile``: ``torch.compile`` of DVF's U-Net and of each DMVFN block and its routing head (fp32, NCHW; the
  per-sample routing between blocks stays eager); its compile time is reported apart.

Each variant's all-blocks DMVFN and DVF frames are compared with eager's (max absolute difference), so a speed-up
that changes the output is visible.
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from vpbench.gpu_check.runner import CheckFailed, traceback_summary

SEED = 0
#: the eager-mode variants (one part) and torch.compile against eager (its own part: compiling takes the longest)
VARIANTS = ("eager", "channels_last", "amp_fp16", "channels_last_amp_fp16")
COMPILE_VARIANTS = ("eager", "compile")


def _models(device: torch.device) -> tuple[nn.Module, nn.Module]:
    from models.registry import create_method

    torch.manual_seed(SEED)
    return create_method("dvf").to(device).eval(), create_method("dmvfn").to(device).eval()


def _compiled(dvf: nn.Module, dmvfn: nn.Module) -> tuple[nn.Module, nn.Module]:
    dvf, dmvfn = copy.deepcopy(dvf), copy.deepcopy(dmvfn)
    dvf.net = torch.compile(dvf.net)
    for i in range(dmvfn.n_blocks):
        setattr(dmvfn, f"block{i}", torch.compile(getattr(dmvfn, f"block{i}")))
    if dmvfn.has_routing_head:
        dmvfn.routing = torch.compile(dmvfn.routing)
    return dvf, dmvfn


def _cases(dvf: nn.Module, dmvfn: nn.Module, device: torch.device, channels_last: bool,
           autocast_dtype: torch.dtype | None) -> list[Any]:
    from vpbench.benchmarks.latency import Case

    layout = torch.channels_last if channels_last else torch.contiguous_format
    ones = torch.ones(1, dmvfn.n_blocks, dtype=torch.bool, device=device)

    def wrap(fn: Callable[[Tensor, Tensor], Any]) -> Callable[[Tensor], Any]:
        def run(context: Tensor) -> Any:
            prev = context[:, -2].contiguous(memory_format=layout)
            cur = context[:, -1].contiguous(memory_format=layout)
            with _autocast(device, autocast_dtype):
                return fn(prev, cur)
        return run

    return [
        Case("dvf", "dvf", {}, wrap(lambda p, c: _none(dvf(p, c)))),
        Case("dmvfn_all_blocks", "dmvfn", {"active": "all"}, wrap(lambda p, c: _none(dmvfn(p, c, active=ones)))),
        # what evaluation runs: DMVFN.predict (routing head, draw, the selected blocks)
        Case("dmvfn_routed", "dmvfn", {"active": "routed", "call": "predict"},
             wrap(lambda p, c: dmvfn.predict(torch.stack((p, c), 1)).active_blocks)),
        # the same draw, then only the selected blocks with no per-block outputs kept
        Case("dmvfn_routed_frame_only", "dmvfn", {"active": "routed", "call": "forward(active=drawn)"},
             wrap(lambda p, c: _routed_frame_only(dmvfn, p, c))),
    ]


def _routed_frame_only(dmvfn: nn.Module, prev: Tensor, cur: Tensor) -> Tensor:
    from models.routing import decide

    active = decide(dmvfn.activation_probabilities(prev, cur), dmvfn.inference_routing, prev, cur)
    dmvfn(prev, cur, active=active)
    return active


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def _none(_: Any) -> None:
    return None


def _frames(dvf: nn.Module, dmvfn: nn.Module, context: Tensor, device: torch.device, channels_last: bool,
            autocast_dtype: torch.dtype | None) -> dict[str, Tensor]:
    layout = torch.channels_last if channels_last else torch.contiguous_format
    prev, cur = (context[:, k].contiguous(memory_format=layout) for k in (-2, -1))
    ones = torch.ones(1, dmvfn.n_blocks, dtype=torch.bool, device=device)
    scope = _autocast(device, autocast_dtype)
    with torch.inference_mode(), scope:
        return {"dvf": dvf(prev, cur).float(), "dmvfn_all_blocks": dmvfn(prev, cur, active=ones).float()}


def run_latency(device: torch.device, height: int, width: int, warmup: int, repeats: int,
                variants: tuple[str, ...] = VARIANTS) -> dict[str, Any]:
    from vpbench.benchmarks.latency import PAPER_LATENCY, real_context

    context = real_context(height, width).to(device)
    dvf, dmvfn = _models(device)
    reference = _frames(dvf, dmvfn, context, device, False, None)
    out: dict[str, Any] = {
        "size": f"{height}x{width}", "batch": 1, "warmup": warmup, "repeats": repeats, "frames": "bigbuckbunny",
        "weights": "untrained (seeded); routed DMVFN draws each block with p ~ 0.5",
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "paper": PAPER_LATENCY | {"ratio": PAPER_LATENCY["dvf_s"] / PAPER_LATENCY["dmvfn_s"]},
        "variants": {},
    }
    failed: dict[str, str] = {}
    for variant in variants:
        try:  # one variant failing (e.g. torch.compile without a working compiler) keeps the others' numbers
            out["variants"][variant] = _time_variant(variant, dvf, dmvfn, context, reference, device, warmup, repeats)
        except Exception as error:
            failed[variant] = f"{type(error).__name__}: {error}"
            out.setdefault("variant_errors", {})[variant] = traceback_summary(error)
    eager = out["variants"].get("eager")
    if eager:
        for entry in out["variants"].values():
            entry["speedup_over_eager"] = {name: eager["median_s"][name] / t for name, t in entry["median_s"].items()}
        out["best_median_s"] = {
            name: min((v["median_s"][name], k) for k, v in out["variants"].items()) for name in eager["median_s"]
        }
    out["summary"] = _summary(out)
    if failed:
        raise CheckFailed(f"inference variant(s) failed: {failed}", out)
    return out


def _time_variant(variant: str, dvf: nn.Module, dmvfn: nn.Module, context: Tensor, reference: dict[str, Tensor],
                  device: torch.device, warmup: int, repeats: int) -> dict[str, Any]:
    from vpbench.benchmarks.latency import ratios, run_benchmark

    channels_last = variant.startswith("channels_last")
    autocast_dtype = torch.float16 if variant.endswith("amp_fp16") else None
    models = (dvf, dmvfn)
    if variant == "compile":
        models = _compiled(dvf, dmvfn)
    elif channels_last:
        models = (copy.deepcopy(dvf).to(memory_format=torch.channels_last),
                  copy.deepcopy(dmvfn).to(memory_format=torch.channels_last))
    entry: dict[str, Any] = {}
    started = time.perf_counter()
    frames = _frames(*models, context, device, channels_last, autocast_dtype)  # also compiles, for "compile"
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    entry["first_call_s"] = time.perf_counter() - started
    entry["max_abs_diff_from_eager"] = {k: float((frames[k] - reference[k]).abs().max()) for k in frames}
    cases = _cases(*models, device, channels_last, autocast_dtype)
    torch.manual_seed(SEED)
    run_benchmark(cases, context, device, warmup, repeats, progress=False)
    summaries = {case.name: case.summary() for case in cases}
    entry["median_s"] = {name: s["median_s"] for name, s in summaries.items()}
    entry["min_s"] = {name: s["min_s"] for name, s in summaries.items()}
    entry["mean_active_blocks_routed"] = summaries["dmvfn_routed"].get("mean_active_blocks")
    entry["ratios"] = ratios(summaries)
    return entry


def _summary(out: dict[str, Any]) -> str:
    eager = out["variants"].get("eager")
    if not eager:
        return ""
    ratio = eager["ratios"].get("dvf_over_dmvfn_routed", float("nan"))
    return (f"eager {out['size']}: DVF {eager['median_s']['dvf']:.4f} s, DMVFN routed "
            f"{eager['median_s']['dmvfn_routed']:.4f} s, all blocks {eager['median_s']['dmvfn_all_blocks']:.4f} s; "
            f"DVF/DMVFN(routed) {ratio:.2f}x (paper, 2080Ti: 0.130 / 0.023 = "
            f"{out['paper']['ratio']:.2f}x); medians of {out['repeats']}; mean speed-up over eager: "
            + ", ".join(f"{k} {statistics.fmean(v['speedup_over_eager'].values()):.2f}x"
                        for k, v in out["variants"].items()))
