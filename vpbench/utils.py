"""The helpers every stage shares, each in one place: atomic writes, hashing, frame sizes, seeding.

Torch-free at import (seeding imports torch and NumPy when it is called), so the planner, the data tools and the
report renderers can use it without paying for torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------------------------------------------
# Atomic writes: a reader (or a later Snakemake job) never sees half a file, and a crash leaves no output behind
# that could be mistaken for a finished one.


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write to; on success it is renamed to ``path``, on error removed.

    The temporary name keeps ``path``'s suffix (``x.npz`` -> ``.x.npz.<random>.part.npz``) because some writers
    (``np.savez``, ``matplotlib``, ``pyarrow``) pick a format from it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes to ``path`` atomically."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")


def atomic_write_json(path: str | Path, payload: Any, indent: int | None = 2, sort_keys: bool = False) -> None:
    """``payload`` as newline-terminated JSON, written atomically."""
    atomic_write(path, json.dumps(payload, indent=indent, sort_keys=sort_keys) + "\n")


# ---------------------------------------------------------------------------------------------------------------
# Hashing


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_json(payload: Any) -> str:
    """The hex sha256 of ``payload``'s canonical JSON (sorted keys, no spaces; unknown types as ``str``)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# Sizes


def parse_size(text: str) -> tuple[int, int]:
    """``"512x1024"`` -> ``(512, 1024)``: height x width, both positive. Raises ValueError naming the text.

    Command lines wrap it with :func:`size_argument` so that argparse reports a bad value as a usage error.
    """
    try:
        height, width = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ValueError(f"size must be HEIGHTxWIDTH, e.g. 512x1024, got {text!r}") from None
    if height <= 0 or width <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return height, width


def size_argument(text: str) -> tuple[int, int]:
    """:func:`parse_size` as an argparse ``type=`` (a bad size is argparse's one-line usage error, exit 2)."""
    import argparse

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def format_size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


# ---------------------------------------------------------------------------------------------------------------
# Seeding


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (the holder of a lock or of a work folder)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def seed_everything(seed: int) -> None:
    """Seed every RNG a run draws from: Python's, NumPy's and torch's (CPU and every CUDA device).

    Training seeds all three (augmentation uses NumPy and Python); evaluation seeds them too, so that a routing
    draw gives the same scores whatever ran before it in the process.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
