"""End to end through the engine: a small DMVFN trained for 150 CPU steps on synthetic panning textures beats
copy-last-frame on held-out clips (new textures, larger frames) in PSNR and MS-SSIM."""

from __future__ import annotations

import pytest

from vpbench.benchmarks.sanity_train import (
    PANNING_VELOCITIES,
    PSNR_CAP_DB,
    TranslatingTextureClips,
    run_sanity,
    score_next_frame,
)


def test_texture_clips_translate_and_are_reproducible():
    clips = TranslatingTextureClips(4, clip_length=3, crop=24, seed=5)
    item = clips[2]
    assert item.shape == (3, 3, 24, 24) and item.dtype.is_floating_point is False
    assert (item == clips[2]).all() and not (item == TranslatingTextureClips(4, 3, 24, seed=6)[2]).all()
    # some velocity from the list maps frame t onto frame t+1 exactly (away from the borders)
    matches = []
    for vx, vy in PANNING_VELOCITIES:
        a, b = item[0, :, 4:-4, 4:-4], item[1, :, 4 - vy : 20 - vy, 4 - vx : 20 - vx]
        matches.append(bool((a == b).all()))
    assert any(matches)
    with pytest.raises(ValueError, match="still clip"):
        TranslatingTextureClips(2, velocities=((0, 0), (1, 0)))


def test_scores_come_from_the_evaluation_metrics_on_any_crop():
    import torch

    from vpbench.evaluation import metrics

    for crop in (64, 176):  # below MS-SSIM's 161 px (3-px window) and above it (the evaluation's 11-px window)
        clips = [TranslatingTextureClips(4, clip_length=3, crop=crop, seed=1)[i] for i in range(4)]
        copy_last = score_next_frame(None, clips)
        frames = torch.stack([clip[1] for clip in clips]).float() / 255
        targets = torch.stack([clip[2] for clip in clips]).float() / 255
        assert copy_last.psnr == pytest.approx(metrics.psnr(frames, targets).mean().item(), rel=1e-6)
        if crop > 160:
            assert copy_last.ms_ssim == pytest.approx(metrics.ms_ssim(frames, targets).mean().item(), rel=1e-6)
        assert 0.0 < copy_last.ms_ssim < 1.0
    still = [torch.stack([clips[0][0]] * 3)]  # nothing moves: copy-last is exact, PSNR capped instead of infinite
    assert score_next_frame(None, still).psnr == PSNR_CAP_DB
    assert score_next_frame(None, still).ms_ssim == pytest.approx(1.0, abs=1e-6)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_small_dmvfn_beats_copy_last_on_held_out_clips(tmp_path):
    stebs = {"scales": [4, 2, 1], "widths": [32, 32, 16], "routing": "stebs"}  # the routed model learns here too
    report = run_sanity("synthetic", steps=150, crop=32, batch_size=8, lr=3e-3, out_dir=tmp_path, progress=False,
                        method_options=stebs)
    model, copy_last = report["dmvfn"], report["copy_last"]
    assert model["psnr"] > copy_last["psnr"] + 1.0, report
    assert model["ms_ssim"] > copy_last["ms_ssim"], report
    assert (tmp_path / "final.pt").exists() and (tmp_path / "train_log.csv").exists()
