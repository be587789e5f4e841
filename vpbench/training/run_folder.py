"""The bookkeeping of a training run's output folder: one writer, resume checks, superseding, kept finished weights.

A run folder ``<out>/`` holds ``last.pt``, ``final.pt``, ``train_log.csv``, ``tensorboard/`` and ``spec.json``
(:data:`RUN_FILES`), plus:

* ``train_log.csv`` and ``tensorboard/`` (:class:`TrainingLog`), cut back to the checkpoint's step on resume.
* ``<out>.lock`` while a ``vpbench train`` writes it (:func:`vpbench.outputs.output_lock`): a second run on the same
  folder is refused with the holder named; a lock of a dead process is taken over.
* ``<out>/finished.pt``: a hard link (a copy where links are not supported) of ``final.pt``, made when a run
  finishes. Snakemake deletes a job's declared output (``final.pt``) before re-running it, so without this the
  finished weights of the old configuration would be gone when a config change retrains the experiment; the link
  is no declared output, so nothing deletes it behind the run's back.
* ``<out>/superseded/<old spec hash>/``: where ``--resume`` moves a run whose spec changed (its checkpoints, log,
  spec and, from ``finished.pt``, its finished weights as ``final.pt``), before training the new spec from scratch.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vpbench.pipeline.spec import ExperimentSpec
from vpbench.training.checkpoints import FINAL_NAME, LAST_NAME, CheckpointError, load_training_checkpoint
from vpbench.outputs import output_lock, write_error
from vpbench.utils import atomic_path, sha256_json

LOG_CSV_NAME = "train_log.csv"
TENSORBOARD_DIR = "tensorboard"
#: the finished weights, kept under a name no workflow rule declares (see the module docstring)
KEPT_FINAL_NAME = "finished.pt"
#: where ``--resume`` moves a run whose spec changed: ``<out>/superseded/<old spec hash>/``
SUPERSEDED_DIR = "superseded"
#: what a training run writes into its output folder (and what is moved aside with it)
RUN_FILES = (LAST_NAME, FINAL_NAME, KEPT_FINAL_NAME, LOG_CSV_NAME, TENSORBOARD_DIR, "spec.json")
# spec keys that may change between an interrupted run and its resumption without changing the result
RESUME_FREE_KEYS = frozenset({"num_workers", "log_every", "checkpoint_every", "data_root"})


def spec_changes(saved: dict[str, Any], spec: ExperimentSpec) -> list[str]:
    """The keys that differ between a checkpoint's spec and ``spec`` and change what training produces."""
    current = spec.to_dict()
    differences = [key for key in ("method", "method_options", "seed") if saved.get(key) != current.get(key)]
    saved_train, current_train = saved.get("train") or {}, current.get("train") or {}
    differences += [
        f"train.{key}"
        for key in sorted(set(saved_train) | set(current_train))
        if key not in RESUME_FREE_KEYS and saved_train.get(key) != current_train.get(key)
    ]
    return differences


def spec_hash(spec: dict[str, Any]) -> str:
    """A short, stable name for a spec (the first 12 hex digits of the sha256 of its canonical JSON)."""
    return sha256_json(spec)[:12]


def check_resumable(checkpoint: dict[str, Any], spec: ExperimentSpec, path: Path) -> None:
    differences = spec_changes(checkpoint["spec"], spec)
    if differences:
        raise CheckpointError(
            f"{path}: cannot resume, the spec changed since this checkpoint ({', '.join(differences)}); "
            "use a new output folder"
        )


def newest_checkpoint(out_dir: Path) -> Path | None:
    """The checkpoint that tells which spec the folder's run was trained with: ``final.pt``, else the kept finished
    weights, else ``last.pt``."""
    return next((out_dir / name for name in (FINAL_NAME, KEPT_FINAL_NAME, LAST_NAME) if (out_dir / name).is_file()), None)


def supersede_changed_run(out_dir: Path, spec: ExperimentSpec) -> tuple[Path, list[str]] | None:
    """Move a run of an older spec out of ``out_dir`` (kept under ``superseded/<old spec hash>/``).

    Returns where it went and what changed, or None when ``out_dir`` holds no run or a run of this spec. The kept
    finished weights become the superseded run's ``final.pt`` when Snakemake deleted that file.
    """
    newest = newest_checkpoint(out_dir)
    if newest is None:
        return None
    saved = load_training_checkpoint(newest, map_location="cpu")["spec"]
    changes = spec_changes(saved, spec)
    if not changes:
        return None
    target = out_dir / SUPERSEDED_DIR / spec_hash(saved)
    suffix = 1
    while target.exists():  # the same old spec superseded before: keep both
        suffix += 1
        target = out_dir / SUPERSEDED_DIR / f"{spec_hash(saved)}-{suffix}"
    target.mkdir(parents=True)
    # the finished weights last: until they move, the folder still reads as the old finished run, never as a new one
    for name in sorted(RUN_FILES, key=lambda n: n in (FINAL_NAME, KEPT_FINAL_NAME)):
        if (out_dir / name).exists():
            os.replace(out_dir / name, target / name)
    kept = target / KEPT_FINAL_NAME
    if kept.exists():
        if (target / FINAL_NAME).exists():
            kept.unlink()  # the same file (a hard link) or the same weights
        else:
            os.replace(kept, target / FINAL_NAME)
    return target, changes


@contextlib.contextmanager
def claim_run_folder(out_dir: Path, spec: ExperimentSpec, resume: bool, is_main: bool) -> Iterator[None]:
    """Hold the run folder for the whole run (main process: the lock; the other ranks only wait at a barrier after).

    With ``resume``, or when the folder keeps finished weights, a run of a changed spec is moved aside first.
    """
    if not is_main:
        yield
        return
    # one writer per run folder; taking the lock also proves the folder writable before any step runs
    with output_lock(out_dir, "the run folder"):
        out_dir.mkdir(parents=True, exist_ok=True)
        if resume or (out_dir / KEPT_FINAL_NAME).exists():  # never train over another spec's finished weights
            moved = supersede_changed_run(out_dir, spec)
            if moved is not None:
                print(f"vpbench train: the spec of {spec.id} changed since the run in {out_dir} "
                      f"({', '.join(moved[1])}); moved that run to {moved[0]} and training from scratch",
                      file=sys.stderr, flush=True)
        yield


def keep_finished(out_dir: Path) -> Path:
    """Link ``final.pt`` as ``finished.pt`` (copied where the file system has no hard links); returns the kept path."""
    final, kept = out_dir / FINAL_NAME, out_dir / KEPT_FINAL_NAME
    staging = out_dir / f".{KEPT_FINAL_NAME}.{os.getpid()}.part"
    staging.unlink(missing_ok=True)
    try:
        os.link(final, staging)
    except OSError:
        shutil.copy2(final, staging)
    os.replace(staging, kept)
    return kept


class TrainingLog:
    """CSV (step, epoch, lr, seconds, step_seconds, loss terms) and TensorBoard scalars; main process only."""

    def __init__(self, out_dir: Path, resume_step: int | None, enabled: bool, tensorboard: bool = True) -> None:
        self.enabled = enabled
        self.csv_path = out_dir / LOG_CSV_NAME
        self.columns: list[str] | None = None
        self.writer = None
        if not enabled:
            return
        if resume_step is not None and self.csv_path.exists():
            self._truncate_after(resume_step)
        elif self.csv_path.exists():
            self.csv_path.unlink()
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = None if resume_step is None else resume_step + 1
            self.writer = SummaryWriter(log_dir=str(out_dir / TENSORBOARD_DIR), purge_step=purge)

    def _truncate_after(self, step: int) -> None:
        # rows logged after the checkpoint belong to the interrupted attempt; the resumed run logs them again
        with self.csv_path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
            handle.seek(0)
            header = next(csv.reader(handle), None)
        if not header:
            self.csv_path.unlink()
            return
        self.columns = header
        with atomic_path(self.csv_path) as tmp, tmp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(row for row in rows if int(row["step"]) <= step)

    def write(self, record: dict[str, float]) -> None:
        if not self.enabled:
            return
        try:
            self._write(record)
        except OSError as err:  # a full disk: the path and "no space left", not a bare errno
            raise write_error(err, self.csv_path, "training stopped") from None

    def _write(self, record: dict[str, float]) -> None:
        if self.columns is None:
            fixed = ["step", "epoch", "lr", "seconds", "step_seconds"]
            self.columns = fixed + sorted(k for k in record if k not in fixed)
            with self.csv_path.open("w", newline="") as handle:
                csv.writer(handle).writerow(self.columns)
        with self.csv_path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore").writerow(record)
        if self.writer is not None:
            step = int(record["step"])
            self.writer.add_scalar("lr", record["lr"], step)
            self.writer.add_scalar("step_seconds", record["step_seconds"], step)
            for key, value in record.items():
                if key not in ("step", "epoch", "lr", "seconds", "step_seconds"):
                    self.writer.add_scalar(f"train/{key}", value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()


__all__ = [
    "TrainingLog", "claim_run_folder", "KEPT_FINAL_NAME", "LOG_CSV_NAME", "RESUME_FREE_KEYS", "RUN_FILES", "SUPERSEDED_DIR", "TENSORBOARD_DIR",
    "check_resumable", "keep_finished", "newest_checkpoint", "spec_changes", "spec_hash", "supersede_changed_run",
]
