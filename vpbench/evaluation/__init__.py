"""Evaluation: the step after training, before reporting.

Flow: data -> pipeline plan -> training -> **evaluation** (rollout, metrics, scores) -> reporting (tables, figures).
Trained or released weights are rolled out on a protocol's clips, scored per clip, step and metric, and written as
raw score files; the complexity of each method is measured here too.

* ``rollout``: autoregressive multi-step prediction over a protocol, once per routing seed.
* ``metrics``: per-frame image metrics (PSNR, SSIM, MS-SSIM, LPIPS).
* ``lpips_offline``: LPIPS (AlexNet, v0.1) built from hash-verified offline weights.
* ``scores``: the raw score files (parquet) that reporting aggregates.
* ``predictions``: prediction strips and DMVFN's voxel flow for the qualitative figures.
* ``complexity``: parameters and GFLOPs of any method, under written conventions.
* ``official``: the authors' released DMVFN weights, placed, verified and evaluated as a source of results.
"""
