"""Training throughput: optimiser steps/s and clips/s, ours beside a re-statement of the authors' training step.

    python -m vpbench.benchmarks.train [--batch 2] [--crop 224] [--repeats 5] [--quick] [--out results/benchmarks/train.json]

One step is what the training engine (``vpbench.training.trainer.Trainer.optimizer_step``) does per window: the method's
loss on a batch of triplets (I_{t-1}, I_t -> I_{t+1}) at the crop size, the finiteness check, ``zero_grad``,
``backward``, ``AdamW.step``; one clip = one training triplet, so clips/s = batch x steps/s. Data loading is not
timed (random frames are made once). Timed methods:

* ``dmvfn``: the paper recipe (AdamW, weight decay 1e-4, lr 1e-4; Eq. 13 with gamma = 0.8 over all 9 blocks,
  STEBS routing, the paper's gated block outputs), in the layout the engine trains in
  (``optimize_for_training``: channels_last on CPU);
* ``reference``: the authors' step re-stated (``vpbench.benchmarks.reference``): their training-mode forward (all 9
  blocks run, per-sample gates, un-gated outputs for blocks 0-7), their loss sum_i 0.8^(8-i) LapLoss, AdamW with
  weight decay 1e-3;
* ``reference_vgg``: the same plus their 0.5 x VGG19 term (random VGG weights: the cost is the same);
* ``dvf``, ``prednet``: our baselines with their own losses and the paper recipe's optimiser;
* ``dmvfn_default_layout`` (CPU): ours in the default (NCHW) layout, to show what the engine's layout buys;
* ``reference_channels_last`` (CPU): the authors' step with channels_last weights, to show how much of the gap is
  the layout alone (their release trains NCHW).

DMVFN and the reference alternate every repeat (same process, same random weights). Before timing, the two
losses are compared with every block on and the same weights (they must agree within 1e-4 relative).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from models import create_method
from models.dmvfn import DMVFN
from models.losses import laplacian_l1
from vpbench.argtypes import NON_NEGATIVE_INT, POSITIVE_INT
from vpbench.benchmarks.inference import environment, interleaved
from vpbench.benchmarks.reference import ReferenceDMVFN, reference_loss
from vpbench.training.losses import VGGPerceptualLoss
from vpbench.training.recipes import RECIPES
from vpbench.utils import atomic_write_json

LOSS_TOLERANCE = 1e-4  # relative
OFFICIAL_WEIGHT_DECAY = 1e-3
OFFICIAL_LR = 1e-4


def triplets(batch: int, crop: int, device: torch.device, seed: int = 0) -> tuple[Tensor, Tensor]:
    """A context [B, 2, 3, crop, crop] and target [B, 3, crop, crop]: a texture panning 2 px per frame."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.rand(batch, 3, crop, crop + 4, generator=gen)
    clip = torch.stack([base[..., 2 * t : 2 * t + crop] for t in range(3)], dim=1).contiguous().to(device)
    return clip[:, :2], clip[:, 2]


class Step:
    """One optimiser step of a model with its loss, as the engine takes it."""

    def __init__(self, model: nn.Module, loss: Callable[[], Tensor], weight_decay: float, lr: float) -> None:
        self.model, self.loss = model.train(), loss
        self.optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr,
                                           weight_decay=weight_decay)

    def __call__(self) -> None:
        total = self.loss()
        if not bool(torch.isfinite(total.detach())):
            raise FloatingPointError("non-finite loss in the benchmark step")
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()


def method_step(name: str, context: Tensor, target: Tensor, device: torch.device, engine_layout: bool = True,
                **options: Any) -> tuple[Step, nn.Module]:
    """One optimiser step of method ``name`` as the engine runs it (``engine_layout=False``: the default layout)."""
    torch.manual_seed(0)
    method = create_method(name, **options).to(device)
    if engine_layout:
        method = method.optimize_for_training(device)
    paper = RECIPES["paper"]
    return Step(method, lambda: method.loss(context, target).total, paper.weight_decay, paper.lr_max), method


def reference_step(state: dict[str, Tensor], context: Tensor, target: Tensor, device: torch.device,
                   vgg: nn.Module | None = None, channels_last: bool = False) -> Step:
    model = ReferenceDMVFN().to(device)
    model.load_state_dict(state)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    x = torch.cat((context[:, 0], context[:, 1], target), 1)  # the release passes the target along; unused
    return Step(model, lambda: reference_loss(model(x, training=True), target, vgg), OFFICIAL_WEIGHT_DECAY, OFFICIAL_LR)


def loss_agreement(ours: DMVFN, state: dict[str, Tensor], context: Tensor, target: Tensor) -> dict[str, Any]:
    """Our Eq. 13 and the re-stated loss, every block on (gated and un-gated outputs then coincide)."""
    reference = ReferenceDMVFN().to(context.device).train()
    reference.load_state_dict(state)
    with torch.no_grad():
        on = torch.ones(context.shape[0], ours.n_blocks, device=context.device)
        preds = ours.train()._forward_train(context[:, 0], context[:, 1], on).block_predictions
        n = len(preds)
        mine = float(sum(ours.gamma ** (n - 1 - i) * laplacian_l1(p, target) for i, p in enumerate(preds)))
        theirs = float(reference_loss(reference(torch.cat((context[:, 0], context[:, 1]), 1), training=True, run_all=True), target))
    relative = abs(mine - theirs) / max(abs(theirs), 1e-12)
    return {"ours": mine, "reference": theirs, "relative_diff": relative, "tolerance": LOSS_TOLERANCE,
            "passed": relative <= LOSS_TOLERANCE}


def summarise(times: dict[str, list[float]], batch: int) -> dict[str, float]:
    median = statistics.median(times["wall"])
    return {"median_step_s": median, "steps_per_s": 1.0 / median, "clips_per_s": batch / median,
            "median_step_cpu_s": statistics.median(times["cpu"])}


def bench_device(device: torch.device, batch: int, crop: int, warmup: int, repeats: int, with_vgg: bool) -> dict[str, Any]:
    context, target = triplets(batch, crop, device)
    dmvfn, ours = method_step("dmvfn", context, target, device)
    state = {k: v.detach().clone() for k, v in ours.state_dict().items()}
    agreement = loss_agreement(ours, state, context, target)
    runners: dict[str, Callable[[], Any]] = {"dmvfn": dmvfn, "reference": reference_step(state, context, target, device)}
    if with_vgg:
        vgg = VGGPerceptualLoss("random-for-tests").to(device)
        runners["reference_vgg"] = reference_step(state, context, target, device, vgg)
    if device.type == "cpu":
        runners["dmvfn_default_layout"] = method_step("dmvfn", context, target, device, engine_layout=False)[0]
        runners["reference_channels_last"] = reference_step(state, context, target, device, channels_last=True)
    times = interleaved(runners, device, warmup, repeats)
    for name in ("dvf", "prednet"):
        step = method_step(name, context, target, device)[0]
        times.update(interleaved({name: step}, device, warmup, repeats))
    methods = {name: summarise(t, batch) for name, t in times.items()}
    ratios = {
        name: statistics.median(o / r for o, r in zip(times[name]["wall"], times["reference"]["wall"]))
        for name in ("dmvfn", "dmvfn_default_layout", "reference_channels_last", "reference_vgg") if name in times
    }
    return {"device": str(device), "loss_agreement": agreement, "methods": methods,
            "ratio_to_reference_wall_median": ratios, "times": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=POSITIVE_INT, default=2, help="triplets per step (default 2: feasible on 2 CPU cores)")
    parser.add_argument("--crop", type=POSITIVE_INT, default=RECIPES["paper"].crop)
    parser.add_argument("--repeats", type=POSITIVE_INT, default=5)
    parser.add_argument("--warmup", type=NON_NEGATIVE_INT, default=1)
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda when present")
    parser.add_argument("--threads", type=POSITIVE_INT, default=None)
    parser.add_argument("--no-vgg", action="store_true", help="skip the reference step with the VGG19 term")
    parser.add_argument("--quick", action="store_true", help="smoke mode: CPU, batch 1, 64 px crops, 1 repeat, no warm-up")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/train.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.crop, args.repeats, args.warmup, args.devices = 1, 64, 1, 0, ["cpu"]
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    report: dict[str, Any] = {
        "settings": {"batch": args.batch, "crop": args.crop, "warmup": args.warmup, "repeats": args.repeats,
                     "threads": torch.get_num_threads(), "quick": args.quick, "timed": "optimiser step, no data loading"},
        "environment": {d: environment(torch.device(d)) for d in devices},
        "results": [],
    }
    for device_name in devices:
        started = time.perf_counter()
        result = bench_device(torch.device(device_name), args.batch, args.crop, args.warmup, args.repeats, not args.no_vgg)
        report["results"].append(result)
        print(f"{device_name}: batch {args.batch}, crop {args.crop} ({time.perf_counter() - started:.0f} s); "
              f"losses agree: {result['loss_agreement']['passed']} (relative diff {result['loss_agreement']['relative_diff']:.1e})")
        for name, row in result["methods"].items():
            ratio = result["ratio_to_reference_wall_median"].get(name)
            extra = f"  time / reference {ratio:.3f}" if ratio is not None else ""
            print(f"  {name:20} {row['median_step_s']:7.3f} s/step  {row['steps_per_s']:6.3f} steps/s  "
                  f"{row['clips_per_s']:6.3f} clips/s{extra}", flush=True)
    report["agreement_passed"] = all(r["loss_agreement"]["passed"] for r in report["results"])
    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0 if report["agreement_passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
