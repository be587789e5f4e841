"""Extraction refuses members that would escape, extracts selectively, and never leaves partial trees."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest

from data_prep.errors import MissingInputError, UnsafeArchiveError
from data_prep.extract import extract


def make_zip(path, members: dict[str, bytes], links: dict[str, str] | None = None):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def make_tar(path, members: dict[str, bytes], symlinks: dict[str, str] | None = None):
    with tarfile.open(path, "w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    return path


def test_selective_zip_extraction_merges_into_existing_tree(tmp_path):
    target = tmp_path / "raw"
    (target / "2011_09_26" / "other_drive").mkdir(parents=True)
    archive = make_zip(tmp_path / "d.zip", {
        "2011_09_26/drive_1/image_02/data/0.png": b"a",
        "2011_09_26/drive_1/velodyne/0.bin": b"b",
    })
    assert extract(archive, target, lambda n: "/image_02/" in n) == 1
    assert (target / "2011_09_26/drive_1/image_02/data/0.png").read_bytes() == b"a"
    assert not (target / "2011_09_26/drive_1/velodyne").exists()
    assert (target / "2011_09_26/other_drive").is_dir()
    assert not [p for p in target.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt"])
def test_zip_members_escaping_the_target_are_refused(tmp_path, name):
    archive = make_zip(tmp_path / "bad.zip", {"ok.txt": b"x", name: b"y"})
    with pytest.raises(UnsafeArchiveError, match="refusing"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "ok.txt").exists()  # checked before anything is written
    assert not (tmp_path / "evil.txt").exists()


def test_zip_symlink_is_refused(tmp_path):
    archive = make_zip(tmp_path / "bad.zip", {"ok.txt": b"x"}, links={"link": "/etc/passwd"})
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        extract(archive, tmp_path / "out")


def test_tar_links_and_parent_paths_are_refused(tmp_path):
    with pytest.raises(UnsafeArchiveError, match="link"):
        extract(make_tar(tmp_path / "a.tar", {"ok.txt": b"x"}, symlinks={"l": "../../x"}), tmp_path / "out")
    with pytest.raises(UnsafeArchiveError, match=r"'\.\.'"):
        extract(make_tar(tmp_path / "b.tar", {"../x.txt": b"x"}), tmp_path / "out")


def test_tar_extraction_works(tmp_path):
    extract(make_tar(tmp_path / "a.tar", {"S1/images/a.jpg": b"j"}), tmp_path / "out")
    assert (tmp_path / "out/S1/images/a.jpg").read_bytes() == b"j"


def test_truncated_or_missing_archive_is_named(tmp_path):
    archive = make_zip(tmp_path / "d.zip", {"a.txt": b"x" * 10_000})
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsafeArchiveError, match="d.zip"):
        extract(archive, tmp_path / "out")
    with pytest.raises(MissingInputError, match="nothing.zip"):
        extract(tmp_path / "nothing.zip", tmp_path / "out")
