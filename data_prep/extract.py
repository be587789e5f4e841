"""Safe, selective, all-or-nothing extraction of zip and tar archives.

Members are checked before anything is written: absolute paths, ``..`` components, links and device
files are refused (an archive must not write outside its folder). Members go to a hidden staging folder
first and are moved into place subtree by subtree, so an interrupted run leaves no half-extracted folder
under its final name.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from data_prep.errors import MissingInputError, UnsafeArchiveError
from data_prep.integrity import remove_stale_work, work_folder

MemberFilter = Callable[[str], bool]


def _check_member_name(archive: Path, name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"{archive}: member {name!r} has an absolute path; refusing to extract")
    if any(part == ".." for part in path.parts):
        raise UnsafeArchiveError(f"{archive}: member {name!r} climbs out with '..'; refusing to extract")
    return path


def _zip_members(archive: Path, keep: MemberFilter) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    with zipfile.ZipFile(archive) as zf:
        chosen = []
        for info in zf.infolist():
            path = _check_member_name(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a symbolic link; refusing to extract")
            if not info.is_dir() and keep(str(path)):
                chosen.append((info, path))
        return chosen


def _tar_members(archive: Path, keep: MemberFilter) -> list[tuple[tarfile.TarInfo, PurePosixPath]]:
    with tarfile.open(archive) as tf:
        chosen = []
        for info in tf.getmembers():
            path = _check_member_name(archive, info.name)
            if info.issym() or info.islnk():
                raise UnsafeArchiveError(f"{archive}: member {info.name!r} is a link; refusing to extract")
            if not (info.isfile() or info.isdir()):
                raise UnsafeArchiveError(f"{archive}: member {info.name!r} is not a regular file; refusing to extract")
            if info.isfile() and keep(str(path)):
                chosen.append((info, path))
        return chosen


def _merge_into(staging: Path, target: Path) -> None:
    """Move ``staging``'s entries into ``target``, renaming whole subtrees that ``target`` lacks."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(staging.iterdir()):
        dest = target / entry.name
        if entry.is_dir() and dest.is_dir():
            _merge_into(entry, dest)
        else:
            os.replace(entry, dest)


def _check_tar_end(archive: Path, tf: tarfile.TarFile) -> None:
    """Refuse a tar without its end-of-archive marker (two zero blocks after the last member).

    ``tarfile`` stops quietly at the end of the data, so a download cut exactly at a member boundary lists and reads
    as a whole (shorter) archive; the marker is what tells it apart. Compressed tars are read through their
    decompressor (a cut gzip stream already fails there).
    """
    fileobj = tf.fileobj
    assert fileobj is not None
    fileobj.seek(tf.offset)
    end = fileobj.read(2 * tarfile.BLOCKSIZE)
    if end != bytes(2 * tarfile.BLOCKSIZE):
        raise UnsafeArchiveError(
            f"{archive} ends after {tf.offset:,} bytes of tar data without the end-of-archive marker (a download cut "
            "at a member boundary); nothing was recorded for it. Delete it and download it again."
        )


def verify_archive(archive: Path) -> str:
    """Open ``archive``, list every member and read every byte back (zip: every CRC checked); return how.

    Only an archive that passes is pinned by the trust-on-first-use lock: a truncated download fails here.
    """
    archive = Path(archive)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                count = len(zf.infolist())
                bad = zf.testzip()
            if bad is not None:
                raise UnsafeArchiveError(f"{archive}: member {bad!r} fails its CRC check (damaged download)")
            return f"zip opened, {count} members listed, every CRC checked"
        if tarfile.is_tarfile(archive):
            count = 0
            with tarfile.open(archive) as tf:
                for info in tf:
                    count += 1
                    if info.isfile():
                        src = tf.extractfile(info)
                        assert src is not None
                        with src:
                            while src.read(1 << 20):
                                pass
                            if src.tell() != info.size:
                                raise EOFError(f"member {info.name!r} ends after {src.tell()} of {info.size} bytes")
                _check_tar_end(archive, tf)
            return f"tar opened, {count} members listed and read, end-of-archive marker present"
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as err:
        raise UnsafeArchiveError(
            f"{archive} is damaged ({err}); nothing was recorded for it. Delete it and download it again."
        ) from err
    raise UnsafeArchiveError(
        f"{archive} is neither a zip nor a tar archive (a truncated or failed download?); nothing was recorded for it. "
        "Delete it and download it again."
    )


def extract(archive: Path, target: Path, keep: MemberFilter = lambda name: True) -> int:
    """Extract the members of ``archive`` accepted by ``keep`` under ``target``; return how many."""
    archive, target = Path(archive), Path(target)
    if not archive.exists():
        raise MissingInputError(f"archive {archive} does not exist")
    is_zip = zipfile.is_zipfile(archive)
    if not is_zip and not tarfile.is_tarfile(archive):
        raise UnsafeArchiveError(f"{archive} is neither a zip nor a tar archive (a truncated download?); delete it and download it again")
    target.mkdir(parents=True, exist_ok=True)
    remove_stale_work(target, archive.name)  # staging of an extraction that was killed
    staging = work_folder(target, archive.name)
    try:
        if is_zip:
            members = _zip_members(archive, keep)
            with zipfile.ZipFile(archive) as zf:
                for info, path in tqdm(members, desc=f"extract {archive.name}", unit="file", leave=False):
                    out = staging.joinpath(*path.parts)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        else:
            members = _tar_members(archive, keep)
            with tarfile.open(archive) as tf:
                for info, path in tqdm(members, desc=f"extract {archive.name}", unit="file", leave=False):
                    out = staging.joinpath(*path.parts)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    src = tf.extractfile(info)
                    assert src is not None  # regular files only, checked above
                    with src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        _merge_into(staging, target)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as err:
        raise UnsafeArchiveError(f"{archive} is damaged ({err}); delete it and download it again") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(members)
