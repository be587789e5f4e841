"""One short run that exercises every CUDA path of the harness and writes a report to keep.

    python -m vpbench.gpu_check [--out results/benchmarks/gpu-<device>.json] [--quick]   (also: make gpu-check)

Parts, each timed and isolated (a failure is recorded with its reason and the next part runs):

* ``data``: training triplets at 224x224 and the smoke Cityscapes tree, from the offline clips (CPU);
* ``train_<method>_<fp16|bf16>``: DMVFN (paper recipe, STEBS), DMVFN-Gumbel, DVF and PredNet on CUDA with AMP fp16 +
  GradScaler and bf16: finite, falling losses, steps/s, clips/s, peak memory (:mod:`.training`);
* ``ddp_nccl_resume``: torchrun + NCCL on every visible GPU, interrupted and resumed from its CUDA checkpoint;
* ``eval_cuda_vs_cpu``: one protocol, all four metrics, on CUDA and on CPU, within a stated tolerance
  (:mod:`.evaluation`);
* ``latency_720p`` and ``latency_720p_compile``: DVF vs DMVFN per 720p frame, eager, channels_last, AMP, then
  torch.compile (:mod:`.latency`);
* ``plan_estimate`` (CPU) and ``gpu_hours_measured``: the plan's GPU-hours and a recomputation from the measured
  speeds (:mod:`.hours`).

Without CUDA the CUDA parts read "skipped: no CUDA" and the CPU parts run. Sizes are constants at the top of
:mod:`.check`, scaled by command-line flags.
"""
