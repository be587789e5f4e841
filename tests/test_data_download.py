"""Downloads: resume, verification, truncation, trust-on-first-use lock; all against a local server."""

from __future__ import annotations

import hashlib
import os

import pytest

from data_prep.download import RemoteFile, download
from data_prep.errors import ChecksumError, MissingInputError, TruncatedDownloadError
from data_prep.integrity import HashLock
from tests.data_fixtures import http_server

PAYLOAD = os.urandom(300_000)
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def test_download_verifies_size_and_hash(tmp_path):
    with http_server(PAYLOAD) as (url, _):
        path = download(RemoteFile("a.bin", url, len(PAYLOAD), DIGEST), tmp_path / "a.bin")
    assert path.read_bytes() == PAYLOAD
    assert not (tmp_path / "a.bin.part").exists()


def test_download_resumes_a_partial_file_with_a_range_request(tmp_path):
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD[:100_000])
    with http_server(PAYLOAD) as (url, handler):
        download(RemoteFile("a.bin", url, len(PAYLOAD), DIGEST), tmp_path / "a.bin")
    assert handler.ranges_seen == ["bytes=100000-"]
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_cleanly(tmp_path):
    (tmp_path / "a.bin.part").write_bytes(b"x" * 1000)  # not even a prefix of the real file
    with http_server(PAYLOAD, honour_range=False) as (url, _):
        download(RemoteFile("a.bin", url, len(PAYLOAD), DIGEST), tmp_path / "a.bin")
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD


def test_truncated_transfer_keeps_part_and_next_run_completes(tmp_path):
    remote_args = ("a.bin", len(PAYLOAD), DIGEST)
    with http_server(PAYLOAD, cut_after=50_000) as (url, _):
        with pytest.raises(TruncatedDownloadError, match="run the same command again"):
            download(RemoteFile(remote_args[0], url, *remote_args[1:]), tmp_path / "a.bin")
    assert not (tmp_path / "a.bin").exists()
    assert (tmp_path / "a.bin.part").stat().st_size == 50_000
    with http_server(PAYLOAD) as (url, handler):
        download(RemoteFile(remote_args[0], url, *remote_args[1:]), tmp_path / "a.bin")
    assert handler.ranges_seen == ["bytes=50000-"]
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD


def test_wrong_hash_is_rejected_and_nothing_kept(tmp_path):
    with http_server(PAYLOAD) as (url, _):
        with pytest.raises(ChecksumError, match="does not match the published"):
            download(RemoteFile("a.bin", url, len(PAYLOAD), "0" * 64), tmp_path / "a.bin")
    assert not (tmp_path / "a.bin").exists() and not (tmp_path / "a.bin.part").exists()


def test_wrong_size_of_existing_file_names_it(tmp_path):
    (tmp_path / "a.bin").write_bytes(PAYLOAD[:10])
    with pytest.raises(TruncatedDownloadError, match="a.bin"):
        download(RemoteFile("a.bin", "http://unused.invalid/", len(PAYLOAD)), tmp_path / "a.bin")


def test_file_url_and_trust_on_first_use_lock(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(PAYLOAD)
    lock = HashLock(tmp_path / "raw" / "lock.json")
    remote = RemoteFile("a.bin", source.as_uri())  # no published size or hash
    download(remote, tmp_path / "raw" / "a.bin", lock)
    assert lock.recorded("a.bin") is None  # a download alone pins nothing: the archive must be checked first
    lock.record("a.bin", tmp_path / "raw" / "a.bin", DIGEST, "checked")
    # a later file with other content under the same name fails against the pinned hash, and says how to un-pin
    (tmp_path / "raw" / "a.bin").unlink()
    source.write_bytes(PAYLOAD[::-1])
    with pytest.raises(ChecksumError, match=r"differs from .* pinned for a.bin.*--forget-hash a.bin"):
        download(remote, tmp_path / "raw" / "a.bin", lock)
    assert not (tmp_path / "raw" / "a.bin").exists() and not (tmp_path / "raw" / "a.bin.part").exists()


def test_no_url_and_unreachable_url_say_what_to_do(tmp_path):
    with pytest.raises(MissingInputError, match="place it there by hand"):
        download(RemoteFile("a.bin", None), tmp_path / "a.bin")
    with pytest.raises(MissingInputError, match="place a.bin at"):
        download(RemoteFile("a.bin", "http://127.0.0.1:9/none"), tmp_path / "a.bin", timeout=2)
