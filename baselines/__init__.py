"""Baselines compared with DMVFN, each a ``models.VideoPredictor`` registered by name.

* ``copy_last``: I_{t+1} = I_t (Table 5, first row)
* ``dvf``: Deep Voxel Flow (Liu et al. 2017), U-Net voxel flow with linear-motion extrapolation
* ``prednet``: PredNet (Lotter et al. 2017), official KITTI configuration

Importing this package registers them (``models.registry`` imports it on first use).
"""

from baselines.copy_last import CopyLastFrame
from baselines.dvf import DVF
from baselines.prednet import PredNet

__all__ = ["CopyLastFrame", "DVF", "PredNet"]
