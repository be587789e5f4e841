"""Routing: which MVFBs run for a sample (paper §3.2, Eqs. 7-12; Tables 5 and 10).

The routing head itself (``Convs -> AvgPool -> Linear``, Eq. 7) lives in :class:`models.dmvfn.DMVFN` under the
official parameter names (``routing.*``, ``l1.*``); this module holds what turns its logits ``v~`` into gates.

Methods (``routing=``):

* ``"stebs"`` (the paper's): w~_i = min(beta * n * sigma(v~_i) / sum_j sigma(v~_j), 1) (Eq. 10);
  v_i ~ Bernoulli(w~_i) forward (Eq. 11), identity gradient backward (Eq. 12). The official code adds 1e-6 to the
  denominator and hard-codes beta * n = 4.5; here beta is a parameter and the denominator is the paper's.
* ``"gumbel"``: v_i = exp((v~_i+G_i)/tau) / (exp((v~_i+G_i)/tau) + exp((2-v~_i-G_i)/tau)) (Eq. 9), which equals
  sigmoid(2 (v~_i + G_i - 1) / tau), with G_i ~ Gumbel(0, 1), soft during training, plus the regulariser
  (1/n) sum_i v_i. At inference a block runs when v~_i + G_i > 1, i.e. with probability 1 - exp(-exp(v~_i - 1)).
* ``"random"``: every block with probability 0.5, in training and at inference (no routing head).
* ``"none"``: every block always ("w/o routing"; no routing head).

Inference decisions (``inference_routing=``), all from the per-block activation probability p:

* ``"sample"``: an independent draw per sample (default).
* ``"sample0"``: the official scripts' behaviour: sample 0's draw gates the whole batch (they evaluate batch 1).
* ``"deterministic"``: a Bernoulli draw whose uniform noise is derived from the sample's pixels, so the same clip
  gets the same sub-network on every run, whatever the batch, while usage rates keep their expectation.
* ``"threshold"``: the most likely decision, p >= 0.5.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import torch
from torch import Tensor

RoutingMethod = Literal["stebs", "gumbel", "random", "none"]
InferenceRouting = Literal["sample", "sample0", "deterministic", "threshold"]
from models.routing_choices import INFERENCE_ROUTINGS, ROUTING_METHODS  # noqa: F401 - re-exported


class NonFiniteRouting(FloatingPointError):
    """Activation probabilities are NaN/inf (diverged weights): no sub-network can be drawn from them.

    Raised instead of letting ``torch.bernoulli`` fail or letting every comparison with NaN silently skip every
    block; the training and evaluation engines turn it into their non-finite stop.
    """


def check_finite_probabilities(probs: Tensor) -> Tensor:
    if not bool(torch.isfinite(probs).all()):
        bad = probs[~torch.isfinite(probs)].flatten()[0].item()
        raise NonFiniteRouting(f"routing probabilities are not finite ({bad} in a [{', '.join(map(str, probs.shape))}] batch)")
    return probs


class BernoulliSTE(torch.autograd.Function):
    """Eqs. 11-12: forward draws v ~ Bernoulli(p) (or thresholds given uniforms), backward passes dv -> dp."""

    @staticmethod
    def forward(ctx, probs: Tensor, uniforms: Tensor | None = None) -> Tensor:  # type: ignore[override]
        check_finite_probabilities(probs)
        if uniforms is None:
            return torch.bernoulli(probs)
        return (uniforms < probs).to(probs.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        return grad, None


def stebs_probabilities(logits: Tensor, beta: float) -> Tensor:
    """Eq. 10: normalised sampling rates w~ in [0, 1]; before the min(., 1) they sum to beta * n."""
    n = logits.shape[1]
    s = torch.sigmoid(logits.float())  # fp32 under autocast: bf16 would coarsen the rates the draw compares against
    return torch.clamp(beta * n * s / s.sum(dim=1, keepdim=True), max=1.0)


def gumbel_soft_gates(logits: Tensor, tau: float) -> Tensor:
    """Eq. 9 with fresh Gumbel(0, 1) noise: soft gates in (0, 1)."""
    logits = logits.float()  # under bf16 autocast the uniforms would take ~1,000 values and cut the noise off at 5.5
    u = torch.rand_like(logits).clamp_(1e-10, 1.0 - 1e-7)
    gumbel = -torch.log(-torch.log(u))
    return check_finite_probabilities(torch.sigmoid(2.0 * (logits + gumbel - 1.0) / tau))


def gumbel_activation_probability(logits: Tensor) -> Tensor:
    """P(v~ + G > 1) for G ~ Gumbel(0, 1): the chance a block runs at inference under Eq. 9."""
    return 1.0 - torch.exp(-torch.exp(logits - 1.0))


def gumbel_temperature(progress: float, tau_start: float, tau_end: float) -> float:
    """Exponential annealing from a high temperature (all paths candidates) to a low one (near-binary)."""
    progress = min(max(progress, 0.0), 1.0)
    return tau_start * (tau_end / tau_start) ** progress


def content_uniforms(prev: Tensor, cur: Tensor, n_blocks: int, salt: int = 0) -> Tensor:
    """Per-sample uniforms in [0, 1) derived from the sample's pixels (8-bit quantised), for deterministic routing."""
    pair = torch.cat((prev, cur), dim=1).detach()
    quantised = (pair.float().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()
    rows = []
    for b in range(quantised.shape[0]):
        digest = hashlib.blake2b(quantised[b].tobytes(), digest_size=8, person=b"dmvfn-route")
        digest.update(int(salt).to_bytes(8, "little", signed=True))
        seed = int.from_bytes(digest.digest(), "little") & ((1 << 63) - 1)
        gen = torch.Generator().manual_seed(seed)
        rows.append(torch.rand(n_blocks, generator=gen))
    return torch.stack(rows).to(prev.device)


def decide(probs: Tensor, mode: str, prev: Tensor, cur: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Boolean decisions [B, n] from activation probabilities [B, n] under an inference routing mode."""
    check_finite_probabilities(probs)
    if mode == "threshold":
        return probs >= 0.5
    if mode == "deterministic":
        return content_uniforms(prev, cur, probs.shape[1]) < probs
    if mode in ("sample", "sample0"):
        u = torch.rand(probs.shape, generator=generator, device="cpu" if generator is not None else probs.device)
        active = u.to(probs.device) < probs
        if mode == "sample0":
            active = active[:1].expand_as(active).clone()
        return active
    raise ValueError(f"inference_routing must be one of {INFERENCE_ROUTINGS}, got {mode!r}")


def expected_active_blocks(probs: Tensor) -> float:
    """Mean number of blocks a batch is expected to run (for reporting)."""
    return float(probs.sum(dim=1).mean())


__all__ = [
    "BernoulliSTE",
    "NonFiniteRouting",
    "check_finite_probabilities",
    "ROUTING_METHODS",
    "INFERENCE_ROUTINGS",
    "stebs_probabilities",
    "gumbel_soft_gates",
    "gumbel_activation_probability",
    "gumbel_temperature",
    "content_uniforms",
    "decide",
    "expected_active_blocks",
]
