# TEMP STUB
from dataclasses import dataclass
@dataclass
class M:
    name: str
    def check_size(self, h, w):
        if self.name != "ms_ssim": return None
        from vpbench.evaluation.metrics import MetricInputError, check_ms_ssim_size
        try: check_ms_ssim_size(h, w)
        except MetricInputError as e: return str(e)
METRICS = {n: M(n) for n in ("psnr", "ms_ssim", "lpips")}
