"""The training loop, in process, with a tiny method and random clips (a few seconds in all)."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from tests.test_train_support import RandomClips, TinyPredictor, state_dicts_equal, tiny_spec
from vpbench.training.checkpoints import CheckpointError, load_method, load_training_checkpoint, save_checkpoint
from vpbench.training.recipes import WarmupCosineSchedule
from vpbench.pipeline.spec import SpecError
from vpbench.training.trainer import AlreadyTrained, EpochBatchSampler, TrainingDiverged, spec_hash, train

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _log_rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _run(spec, out, **kwargs):
    kwargs.setdefault("device", "cpu")
    kwargs.setdefault("progress", False)
    return train(spec, out, **kwargs)


def test_paper_recipe_writes_checkpoint_logs_and_follows_the_schedule(tmp_path):
    spec = tiny_spec(max_steps=6, lr_max=1e-3, lr_min=1e-4)
    result = _run(spec, tmp_path)
    assert result.steps == 6 and result.optimizer_steps == 6  # one triplet per item: one step per batch
    checkpoint = load_training_checkpoint(tmp_path / "final.pt")
    assert checkpoint["format"] == "vpbench-checkpoint-v1" and checkpoint["finished"] is True
    assert checkpoint["step"] == 6 and checkpoint["method"] == spec.method
    assert (tmp_path / "last.pt").exists() and (tmp_path / "spec.json").exists()
    assert any((tmp_path / "tensorboard").iterdir())
    # 16 clips / batch 4 = 4 batches per epoch: step 6 is epoch 1, batch 2
    assert (checkpoint["epoch"], checkpoint["batch_in_epoch"]) == (1, 2)

    rows = _log_rows(tmp_path / "train_log.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {"lr", "epoch", "seconds", "step_seconds", "loss", "l1"} <= set(rows[0])
    # cosine from lr_max to lr_min over 6 batches, lr of batch k evaluated at k - 1
    expected = [1e-4 + (1e-3 - 1e-4) * 0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(6)]
    assert [float(r["lr"]) for r in rows] == pytest.approx(expected, rel=1e-9)

    model = load_method(tmp_path / "final.pt")
    assert isinstance(model, TinyPredictor) and not model.training
    assert not state_dicts_equal(model.state_dict(), result.method.state_dict())


def test_training_changes_the_weights_and_reports_progress(tmp_path):
    spec = tiny_spec(max_steps=4)
    result = _run(spec, tmp_path)
    torch.manual_seed(spec.seed)
    untrained = TinyPredictor()
    assert state_dicts_equal(untrained.state_dict(), result.method.state_dict())  # something was learned
    assert result.method.progress == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_official_recipe_steps_on_every_triplet_and_adds_the_vgg_term(tmp_path):
    spec = tiny_spec(recipe="official", max_steps=2, clip_length=5, crop=32, warmup_steps=1)
    result = _run(spec, tmp_path, perceptual_weights="random-for-tests", tensorboard=False)
    assert result.steps == 2 and result.optimizer_steps == 2 * 3  # n - 2 = 3 steps per batch of 5-frame clips
    progress = result.method.progress
    assert progress == pytest.approx([0, 1 / 6, 2 / 6, 0.5, 0.5 + 1 / 6, 0.5 + 2 / 6])
    rows = _log_rows(tmp_path / "train_log.csv")
    assert float(rows[0]["perceptual"]) > 0
    # the logged loss is the method's term plus 0.5 x the perceptual term
    assert float(rows[0]["loss"]) == pytest.approx(float(rows[0]["l1"]) + 0.5 * float(rows[0]["perceptual"]), rel=1e-5)
    assert load_training_checkpoint(tmp_path / "final.pt")["recipe"]["weight_decay"] == 1e-3


def test_paper_recipe_rejects_items_longer_than_one_window(tmp_path):
    with pytest.raises(ValueError, match="exactly 3"):
        _run(tiny_spec(), tmp_path, dataset=RandomClips(8, clip_length=5))


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    spec = tiny_spec(max_steps=8, checkpoint_every=2, method_options={"nan_after": 5})
    with pytest.raises(TrainingDiverged, match="step 6"):
        _run(spec, tmp_path, tensorboard=False)
    last = load_training_checkpoint(tmp_path / "last.pt")
    assert last["step"] == 4
    assert all(torch.isfinite(t).all() for t in last["model"].values())
    assert not (tmp_path / "final.pt").exists()


def test_refuses_to_overwrite_or_retrain(tmp_path):
    spec = tiny_spec(max_steps=2)
    save_checkpoint({"format": "vpbench-checkpoint-v1"}, tmp_path / "last.pt")
    with pytest.raises(CheckpointError, match="--resume"):
        _run(spec, tmp_path)
    (tmp_path / "last.pt").unlink()
    _run(spec, tmp_path, tensorboard=False)
    with pytest.raises(AlreadyTrained):
        _run(spec, tmp_path, resume=True)


@pytest.mark.parametrize("keep_final", [False, True], ids=["interrupted", "finished"])
def test_resume_after_a_spec_change_moves_the_old_run_aside_and_starts_over(tmp_path, capsys, keep_final):
    old = tiny_spec(max_steps=4, checkpoint_every=2)
    _run(old, tmp_path, tensorboard=False)
    if not keep_final:
        (tmp_path / "final.pt").unlink()  # what Snakemake does before re-running a changed job
    result = _run(tiny_spec(max_steps=4, lr_max=5e-4), tmp_path, resume=True, tensorboard=False)
    assert result.resumed_from_step is None and result.steps == 4
    assert "train.lr_max" in capsys.readouterr().err
    (moved,) = (tmp_path / "superseded").iterdir()
    assert moved.name == spec_hash(old.to_dict())
    # the finished weights are kept beside the superseded run even when Snakemake deleted final.pt (finished.pt)
    assert (moved / "last.pt").is_file() and load_training_checkpoint(moved / "final.pt")["step"] == 4
    assert not (moved / "finished.pt").exists()
    assert load_training_checkpoint(moved / "last.pt")["spec"]["train"]["lr_max"] is None
    assert load_training_checkpoint(tmp_path / "final.pt")["spec"]["train"]["lr_max"] == 5e-4
    assert [int(r["step"]) for r in _log_rows(tmp_path / "train_log.csv")] == [1, 2, 3, 4]


def test_resume_of_an_unchanged_spec_continues_in_place(tmp_path):
    spec = tiny_spec(max_steps=4, checkpoint_every=2)
    _run(spec, tmp_path, tensorboard=False)
    (tmp_path / "final.pt").unlink()
    assert _run(spec, tmp_path, resume=True, tensorboard=False).resumed_from_step == 2
    assert not (tmp_path / "superseded").exists()


def test_in_process_resume_is_bitwise_identical(tmp_path):
    full = _run(tiny_spec(max_steps=7, checkpoint_every=3), tmp_path / "full", tensorboard=False)
    partial_spec = tiny_spec(max_steps=7, checkpoint_every=3)
    _run(partial_spec, tmp_path / "cut", tensorboard=False)
    (tmp_path / "cut" / "final.pt").unlink()  # as if the run died after the step-6 checkpoint
    torch.manual_seed(12345)  # a different RNG state in the resuming process must not matter
    resumed = _run(partial_spec, tmp_path / "cut", resume=True, tensorboard=False)
    assert resumed.resumed_from_step == 6
    assert state_dicts_equal(full.method.state_dict(), resumed.method.state_dict()) == []
    rows = _log_rows(tmp_path / "cut" / "train_log.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 8))


def test_unknown_recipe_and_missing_train_section_are_clear_errors(tmp_path):
    with pytest.raises(SpecError, match="unknown recipe 'fancy'"):
        _run(tiny_spec(recipe="fancy"), tmp_path)
    spec = tiny_spec()
    spec.train = None
    with pytest.raises(SpecError, match="no 'train' section"):
        _run(spec, tmp_path)


def test_dataset_smaller_than_a_batch_is_a_clear_error(tmp_path):
    with pytest.raises(SpecError, match="fewer than one global batch"):
        _run(tiny_spec(batch_size=32), tmp_path)


@pytest.mark.parametrize("world_size", [1, 2, 4])
def test_sampler_resumes_at_the_same_global_position(world_size):
    global_batch, length, seed = 4, 18, 7
    reference = EpochBatchSampler(length, global_batch, 1, 0, seed)
    reference.set_position(epoch=2, start_batch=0)
    order = list(reference)
    assert len(order) == 16 and len(set(order)) == 16  # whole batches only, no repeats
    for start in (0, 1, 3):
        per_rank = []
        for rank in range(world_size):
            sampler = EpochBatchSampler(length, global_batch, world_size, rank, seed)
            sampler.set_position(epoch=2, start_batch=start)
            per_rank.append(list(sampler))
            assert len(sampler) == len(per_rank[-1])
        merged = sorted(i for indices in per_rank for i in indices)
        assert merged == sorted(order[start * global_batch :])
    other_epoch = EpochBatchSampler(length, global_batch, 1, 0, seed)
    other_epoch.set_position(epoch=3, start_batch=0)
    assert list(other_epoch) != order


def test_schedule_matches_the_official_formula():
    total = 10_000
    schedule = WarmupCosineSchedule(1e-4, 1e-5, total, warmup_steps=2000, warmup_start_lr=1e-5)
    for step in (0, 1, 999, 1999, 2000, 2001, 5000, 9999, 10_000):
        if step < 2000:
            official = 1e-5 + 9e-5 * step / 2000
        else:
            official = 1e-5 + 9e-5 * (0.5 + 0.5 * math.cos(math.pi * (step - 2000) / (total - 2000)))
        assert schedule.lr(step) == pytest.approx(official, rel=1e-12, abs=1e-15)
    paper = WarmupCosineSchedule(1e-4, 1e-5, total)
    assert paper.lr(0) == pytest.approx(1e-4) and paper.lr(total) == pytest.approx(1e-5)
    assert paper.lr(total // 2) == pytest.approx(5.5e-5)


def test_gradient_clipping_bounds_the_update(tmp_path):
    torch.manual_seed(3)  # tiny_spec's seed: the initial weights of every run below
    initial = TinyPredictor().state_dict()

    def largest_change(result) -> float:
        return max((result.method.state_dict()[k] - v).abs().max().item() for k, v in initial.items())

    free = _run(tiny_spec(max_steps=2, lr_max=1e-2, lr_min=1e-2, weight_decay=0.0), tmp_path / "free", tensorboard=False)
    # Adam divides by the gradient's scale, so only a clip far below eps (1e-8) shows: the update vanishes
    clipped = _run(tiny_spec(max_steps=2, lr_max=1e-2, lr_min=1e-2, weight_decay=0.0, grad_clip=1e-14),
                   tmp_path / "clipped", tensorboard=False)
    assert largest_change(free) > 1e-3 and largest_change(clipped) < 1e-4


def test_bad_method_options_are_named(tmp_path):
    with pytest.raises(SpecError, match="cannot build method .* 'colour'"):
        _run(tiny_spec(method_options={"colour": 1}), tmp_path)
