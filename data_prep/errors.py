"""Errors of the data pipeline. Every message names the file (or key) at fault and says what to do."""

from __future__ import annotations


class DataPrepError(RuntimeError):
    """Base class: something about a dataset's input or prepared tree is wrong."""


class MissingInputError(DataPrepError):
    """A raw archive, list or folder the preparation needs is not where it should be."""


class ChecksumError(DataPrepError):
    """A file's size or sha256 differs from the published or locked value."""


class TruncatedDownloadError(ChecksumError):
    """A download ended before the expected number of bytes arrived."""


class UnsafeArchiveError(DataPrepError):
    """An archive member would land outside the extraction folder (absolute path, ``..`` or a link)."""


class CorruptFrameError(DataPrepError):
    """A frame image is missing, empty or cannot be decoded."""


class LayoutError(DataPrepError):
    """The raw tree or a list file does not have the structure the dataset's protocol expects."""


class CountMismatchError(DataPrepError):
    """A full (non-subset) dataset does not have the published number of clips or windows."""


class PreparedTreeError(DataPrepError):
    """A prepared tree is missing, incomplete or was made by an incompatible version."""
