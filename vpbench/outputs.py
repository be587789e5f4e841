"""Output folders and files a long job writes: one writer at a time, writability checked before the work, and write
failures that name the path ("no space left", "read-only").

* :func:`output_lock` takes ``<target>.lock`` with ``O_CREAT | O_EXCL`` (atomic on local and network file systems)
  and records who holds it (process id, host, command, start time). A second ``vpbench train`` on the same folder,
  or ``vpbench evaluate`` on the same score file, is refused with the holder named. The holder touches the lock every
  :data:`HEARTBEAT_SECONDS` (a daemon thread). A lock is stale, and taken over, when its process is gone (same host)
  or when it was not touched for :data:`STALE_AFTER_SECONDS` (any host: a preempted cluster job restarted on
  another node finds the lock of its dead predecessor).
* Taking the lock writes beside the output, so a read-only or missing-permission folder fails there, before any
  rollout or training step (:func:`check_writable` says which folder and why).
* :func:`write_error` turns ``OSError`` of a write into one line naming the path: ENOSPC/EDQUOT -> "no space left".

Torch-free.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from vpbench.utils import process_alive

LOCK_SUFFIX = ".lock"
HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 120.0


class OutputError(RuntimeError):
    """An output cannot be written (busy, read-only, no space); the message names the path."""


class OutputBusy(OutputError):
    """Another live process holds the output's lock."""


_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "no space left (disk quota exceeded)",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def write_error(err: OSError, path: str | Path, kept: str = "") -> OutputError:
    """One line for a failed write of ``path``: the reason in words (``no space left on device``) and what is kept."""
    reason = _REASONS.get(err.errno or -1, err.strerror or str(err))
    free = ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        with contextlib.suppress(OSError):
            import shutil

            free = f", {shutil.disk_usage(Path(path).parent).free / 2**20:.0f} MiB free"
    return OutputError(f"cannot write {path}: {reason}{free}{'; ' + kept if kept else ''}")


def check_writable(folder: str | Path) -> None:
    """Create ``folder`` if needed and prove a file can be written in it (before hours of work)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise write_error(err, folder, "nothing was run") from None


def _holder(what: str) -> dict[str, object]:
    return {"what": what, "pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)[:300],
            "started": time.strftime("%Y-%m-%d %H:%M:%S")}


def _read_holder(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _is_stale(lock: Path, holder: dict[str, object]) -> bool:
    pid = holder.get("pid")
    if holder.get("host") == socket.gethostname() and isinstance(pid, int) and pid != os.getpid():
        return not process_alive(pid)
    try:
        return time.time() - lock.stat().st_mtime > STALE_AFTER_SECONDS
    except FileNotFoundError:
        return True


def _heartbeat(lock: Path, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        with contextlib.suppress(OSError):
            os.utime(lock)


def lock_path_of(target: str | Path) -> Path:
    """``results/checkpoints/x`` -> ``results/checkpoints/x.lock`` (beside it, so moving the folder leaves it)."""
    target = Path(target)
    return target.with_name(target.name + LOCK_SUFFIX)


@contextlib.contextmanager
def output_lock(target: str | Path, what: str = "output") -> Iterator[Path]:
    """Hold ``<target>.lock`` while writing ``target`` (a run folder or a file); released on exit, even on error."""
    target = Path(target)
    lock = lock_path_of(target)
    check_writable(lock.parent)
    payload = json.dumps(_holder(what)).encode()
    for attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_holder(lock)
            if attempt == 0 and _is_stale(lock, holder):
                # the holder died without cleaning up (kill -9, power loss): take the lock over
                with contextlib.suppress(FileNotFoundError):
                    os.replace(lock, lock.with_name(f"{lock.name}.stale.{os.getpid()}"))
                    os.unlink(lock.with_name(f"{lock.name}.stale.{os.getpid()}"))
                continue
            who = (f"process {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('started', '?')} "
                   f"({holder.get('command', '?')})") if holder else "an unknown process"
            raise OutputBusy(
                f"{target}: {holder.get('what', what)} is in use by {who}; wait for it to finish, or delete {lock} if "
                f"that process is gone (a lock not refreshed for {STALE_AFTER_SECONDS:.0f} s is taken over)",
            ) from None
        except OSError as err:
            raise write_error(err, lock, "nothing was run") from None
        try:
            os.write(fd, payload)
        finally:
            os.close(fd)
        break
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(lock, stop), name="vpbench-lock-heartbeat", daemon=True)
    beat.start()
    try:
        yield lock
    finally:
        stop.set()
        beat.join()
        if _read_holder(lock).get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()


__all__ = ["LOCK_SUFFIX", "OutputBusy", "OutputError", "check_writable", "lock_path_of", "output_lock", "write_error"]
