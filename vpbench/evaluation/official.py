"""The authors' released DMVFN weights as a source of results.

* ``dmvfn_city.pkl``  (Cityscapes-Train) -> Table 1 Cityscapes rows
* ``dmvfn_kitti.pkl`` (KITTI-Train)      -> Table 1 KITTI rows
* ``dmvfn_vimeo.pkl`` (UCF101-Train, despite its name, by the authors' own account) -> Table 2 DAVIS and Vimeo rows

They are acquired by download from the Google Drive links of the official README, or placed by hand, and then
verified twice: structurally (every key and shape of the released layout, via ``models.load_official_checkpoint``)
and by sha256. No hash is published, so the first verified file's sha256 is recorded in ``<dir>/sha256.lock.json``
("trust on first use") and every later use must match it; pass ``pinned`` hashes to enforce known values instead.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from vpbench.pipeline.paths import DEFAULT_OFFICIAL_DIR
from vpbench.utils import atomic_path, atomic_write_json, sha256_file

LOCK_NAME = "sha256.lock.json"
DEFAULT_DIR = Path(DEFAULT_OFFICIAL_DIR)
_GDRIVE_URL = "https://drive.usercontent.google.com/download?id={id}&export=download&confirm=t"


@dataclass(frozen=True)
class OfficialWeights:
    name: str  # file name as released
    gdrive_id: str  # from the official README
    trained_on: str
    protocols: tuple[str, ...]  # evaluation sets the paper reports for it


OFFICIAL_WEIGHTS: dict[str, OfficialWeights] = {
    w.name: w
    for w in (
        OfficialWeights("dmvfn_city.pkl", "1jILbS8Gm4E5Xx4tDCPZh_7rId0eo8r9W", "cityscapes", ("cityscapes",)),
        OfficialWeights("dmvfn_kitti.pkl", "1WrV30prRiS4hWOQBnVPUxdaTlp9XxmVK", "kitti", ("kitti",)),
        OfficialWeights("dmvfn_vimeo.pkl", "14_xQ3Yl3mO89hr28hbcQW3h63lLrcYY0", "ucf101", ("davis", "vimeo")),
    )
}


class OfficialWeightsError(RuntimeError):
    """Official weights are missing, fail verification, or cannot be downloaded."""


def placement_message(weights: OfficialWeights, directory: Path) -> str:
    return (
        f"{directory / weights.name} is missing. Download it from the official DMVFN README "
        f"(Google Drive file id {weights.gdrive_id}: https://drive.google.com/file/d/{weights.gdrive_id}) and place it "
        f"at {directory / weights.name}, or run `vpbench official-weights fetch --dir {directory}` with internet access."
    )


def _read_lock(directory: Path) -> dict[str, str]:
    path = directory / LOCK_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise OfficialWeightsError(f"{path} is not valid JSON ({err}); fix or delete it") from None
    if not isinstance(data, dict):
        raise OfficialWeightsError(f"{path} must map file names to sha256 hashes")
    return {str(k): str(v) for k, v in data.items()}


def _write_lock(directory: Path, lock: dict[str, str]) -> None:
    atomic_write_json(directory / LOCK_NAME, dict(sorted(lock.items())))


def verify(name: str, directory: Path = DEFAULT_DIR, pinned: dict[str, str] | None = None) -> Path:
    """Check one placed file (structure + sha256; record the hash on first use). Returns its path."""
    from models.checkpoint import CheckpointError, load_official_checkpoint

    if name not in OFFICIAL_WEIGHTS:
        raise OfficialWeightsError(f"unknown official weights {name!r}; known: {sorted(OFFICIAL_WEIGHTS)}")
    weights = OFFICIAL_WEIGHTS[name]
    path = directory / name
    if not path.exists():
        raise OfficialWeightsError(placement_message(weights, directory))
    digest = sha256_file(path)
    expected = (pinned or {}).get(name) or _read_lock(directory).get(name)
    if expected and digest != expected:
        raise OfficialWeightsError(
            f"{path}: sha256 {digest} does not match the recorded {expected} ({directory / LOCK_NAME}). "
            "The file changed or is corrupt: download it again, or delete its lock entry if you replaced it on purpose."
        )
    try:
        load_official_checkpoint(path)
    except (CheckpointError, OSError) as err:
        raise OfficialWeightsError(f"{path} is not a usable DMVFN release file:\n{err}") from err
    if not expected:
        lock = _read_lock(directory)
        lock[name] = digest
        _write_lock(directory, lock)
    return path


def fetch(name: str, directory: Path = DEFAULT_DIR, timeout: float = 60.0) -> Path:
    """Download one released file (resumable is not needed: ~14 MB), verify it, and record its hash."""
    weights = OFFICIAL_WEIGHTS[name]
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    if target.exists():
        return verify(name, directory)
    url = _GDRIVE_URL.format(id=weights.gdrive_id)
    with atomic_path(target) as part:  # renamed into place only once the download is complete and not a web page
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as err:
            raise OfficialWeightsError(
                f"could not download {name} ({err}).\n{placement_message(weights, directory)}"
            ) from err
        if part.read_bytes()[:15].lstrip().lower().startswith((b"<!doctype", b"<html")):
            raise OfficialWeightsError(
                f"Google Drive answered {name} with a web page instead of the file (quota or consent page).\n"
                + placement_message(weights, directory)
            )
    try:
        return verify(name, directory)
    except OfficialWeightsError:
        target.unlink(missing_ok=True)  # never leave an unverified file where a later step would take it
        raise
