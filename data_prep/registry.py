"""The dataset registry: every preparable dataset as one record, registered by its module in ``data_prep.catalog``.

A record (:class:`Dataset`) holds the dataset's splits, resolution, storage codec, full-set counts, the published
source formats it is prepared from, its evaluation protocols (with their resolution and label), its acquisition
step and its smoke builder. Two registries (:class:`vpbench.registry.Registry`) hold them, :data:`DATASETS` and
:data:`PROTOCOLS` (also importable from ``data_prep.catalog`` and ``data_prep.protocols``), filled when the catalog is
first read. The shared machinery reads them from here: ``data_prep.acquire``, ``data_prep.preprocess``,
``data_prep.smoke``, and the config loader (``vpbench.pipeline.config.resolve_protocols`` fills each protocol's
dataset, size and label into the config, which holds overrides only).

Torch-free and light at import (no NumPy, OpenCV or PyAV either): the planner imports it at ``snakemake -n`` time.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from data_prep.errors import LayoutError
from vpbench.registry import Registry

if TYPE_CHECKING:
    from data_prep.acquire import Acquirer
    from data_prep.layout import SplitPlan
    from data_prep.smoke import Clips

    Planner = Callable[[Path, str, bool], SplitPlan]  # (raw root, split, is_subset) -> plan
    ListPlanner = Callable[[Path, str, Path], SplitPlan]  # (raw root, split, window list) -> plan

CATALOG = "data_prep.catalog"  # the package whose every module registers one dataset


@dataclass(frozen=True)
class EvalProtocol:
    """Which prepared frames are context and which are targets, at which resolution.

    Frame indices are 0-based positions in a window (``EvalWindows`` returns ``frames[k]`` = window frame k).
    The horizon is ``len(target_indices)``; a protocol with no targets only records routing decisions.
    Frames are RGB; the official evaluation scripts fed OpenCV's BGR order (to LPIPS too): that is an option of
    the metric code (``channel_order_lpips``), not of the data.
    """

    name: str
    dataset: str  # prepared dataset (``resources/prepared/<dataset>``)
    height: int
    width: int
    input_indices: tuple[int, ...]
    target_indices: tuple[int, ...]
    channel_order: str = "RGB"
    description: str = ""
    split: str = "test"  # prepared split the windows come from
    subset: str = ""  # only windows with this subset label (Vimeo fast/medium/slow); "" = all
    label: str = ""  # how tables and figures name it (the paper's name for the test set); "" = the name

    @property
    def horizon(self) -> int:
        return len(self.target_indices)

    @property
    def frames_needed(self) -> int:
        """T of ``EvalWindows`` items: frames 0 .. max index."""
        return max(self.input_indices + self.target_indices) + 1

    @property
    def routing_only(self) -> bool:
        return not self.target_indices


@dataclass(frozen=True)
class SourceFormat:
    """One published form of a dataset that users hold, and how to read it."""

    name: str
    description: str
    planner: Planner
    detect: Callable[[Path], bool]  # is this format present under the raw root?
    splits: tuple[str, ...] | None = None  # the splits it holds (None: all of the dataset's)
    acquirable: bool = False  # the acquisition step (find/download/verify/extract archives) applies
    native_size: bool = False  # frames must already be at the target size: never resized without --size
    list_planner: ListPlanner | None = None  # reads a user's window list (``--list``) instead of the default one


@dataclass(frozen=True)
class SmokeData:
    """How the dataset appears in the smoke data (``vpbench smoke-data``)."""

    size: tuple[int, int]  # prepared (H, W): multiples of 16, shortest side >= 176 (MS-SSIM's 5 scales)
    build: Callable[[Path, Clips], None] | None = None  # writes the mini raw tree; None: lives in another's tree
    root: str = ""  # folder under the smoke output that is its ``--root`` ("": the dataset's name)


@dataclass(frozen=True)
class Dataset:
    name: str
    splits: tuple[str, ...]
    size: tuple[int, int] | None  # (H, W) of the protocol; None: frames keep their native size
    codec: str  # "raw" (memory-mapped RGB, fastest) | "encoded" (source JPEG bytes or PNG; small)
    formats: tuple[SourceFormat, ...]  # the first is the default when nothing under the root says otherwise
    #: accepted counts of windows per split for the full dataset (several when sources disagree)
    expected_windows: dict[str, tuple[int, ...]] = field(default_factory=dict)
    description: str = ""
    protocols: tuple[EvalProtocol, ...] = ()
    #: makes the raw layout exist under ``acq.root`` (download, verify, extract, or say what to place)
    acquire: Callable[[Acquirer], None] | None = None
    smoke: SmokeData | None = None
    #: list files whose content is pinned for full (non-subset) preparations: file name -> accepted sha256s
    pinned_lists: dict[str, frozenset[str]] = field(default_factory=dict)
    #: full-set count of windows per subset label (Vimeo's motion lists)
    expected_subsets: dict[str, int] = field(default_factory=dict)

    def format(self, name: str) -> SourceFormat:
        for fmt in self.formats:
            if fmt.name == name:
                return fmt
        raise KeyError(f"{self.name} has no source format {name!r}; choose from {[f.name for f in self.formats]}")


def _load(name: str | None = None) -> None:
    """Import the catalog (each of its modules registers its dataset) unless that has begun already."""
    if CATALOG not in sys.modules:
        importlib.import_module(CATALOG)


#: every dataset by name, and every evaluation protocol by name (filled by the catalog, imported when first read)
DATASETS: Registry[Dataset] = Registry("dataset", KeyError, load=_load)
PROTOCOLS: Registry[EvalProtocol] = Registry("protocol", KeyError, load=_load)


def register_dataset(dataset: Dataset) -> Dataset:
    """Add ``dataset`` and its protocols to the registry (once, at the import of its catalog module)."""
    if dataset.name in DATASETS:
        raise ValueError(f"dataset {dataset.name!r} is registered twice")
    if not dataset.formats:
        raise ValueError(f"dataset {dataset.name!r} has no source format")
    for protocol in dataset.protocols:
        if protocol.dataset != dataset.name:
            raise ValueError(f"protocol {protocol.name!r} reads dataset {protocol.dataset!r}, registered with {dataset.name!r}")
        if protocol.name in PROTOCOLS:
            raise ValueError(f"protocol {protocol.name!r} is registered twice")
        if protocol.split not in dataset.splits:
            raise ValueError(f"protocol {protocol.name!r} reads split {protocol.split!r}; {dataset.name} has {dataset.splits}")
    DATASETS.add(dataset.name, dataset)
    for protocol in dataset.protocols:
        PROTOCOLS.add(protocol.name, protocol)
    return dataset


def datasets() -> Mapping[str, Dataset]:
    """Every registered dataset by name (a read-only view)."""
    return DATASETS.view()


def protocols() -> Mapping[str, EvalProtocol]:
    """Every registered evaluation protocol by name (a read-only view)."""
    return PROTOCOLS.view()


def get_dataset(name: str) -> Dataset:
    return DATASETS.get(name)


def get_protocol(name: str) -> EvalProtocol:
    return PROTOCOLS.get(name)


def choose_format(spec: Dataset, root: Path, requested: str | None = None) -> SourceFormat:
    """The source format to prepare from: the one asked for, else the one found under ``root``.

    With nothing found, the default (first) format: its acquisition then downloads or says what to place.
    Several found at once is an error: which of them the user means cannot be guessed.
    """
    if requested is not None:
        try:
            return spec.format(requested)
        except KeyError as err:
            raise LayoutError(str(err.args[0])) from None
    if len(spec.formats) == 1:
        return spec.formats[0]
    found = [fmt for fmt in spec.formats if fmt.detect(Path(root))]
    if len(found) > 1:
        raise LayoutError(
            f"{root} holds several {spec.name} formats ({', '.join(f.name for f in found)}); "
            "choose one with --source"
        )
    return found[0] if found else spec.formats[0]
