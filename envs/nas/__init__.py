"""Neural architecture search environments: ``archgym/NAS-v0`` and ``archgym/CoDesign-v0``.

Public API:

* spaces -- :class:`CellSpace` (NAS-Bench-201 cells), :class:`BlockSpace` (MobileNetV2 /
  Once-for-All blocks), both :class:`NetworkSpace` (design space + ``nn.Module`` builder);
* data -- :func:`load_digits_data` (scikit-learn's 8x8 digits, seeded splits);
* evaluators -- :class:`ProxyEvaluator` (zero-cost proxies), :class:`TrainEvaluator`
  (trained accuracy), :class:`HardwareCost` (accelerator latency/energy/area of the traced
  layers), combined by :class:`NASSimulator`;
* environments -- :func:`make_nas_env`, :func:`make_codesign_env`.
"""

from .block_space import BlockSpace, BlockSpaceConfig
from .cell_space import CellSpace, CellSpaceConfig, arch_string, parse_arch_string, uniform_cell
from .codesign import CoDesignSimulator, make_codesign_env
from .data import ImageData, load_digits_data
from .env import make_nas_env
from .evaluators import NASSimulator
from .hardware import HardwareCost
from .proxies import PROXIES, ProxyEvaluator, ProxySettings
from .search_space import NetworkSpace
from .training import TrainEvaluator, TrainSettings

__all__ = [
    "PROXIES",
    "BlockSpace",
    "BlockSpaceConfig",
    "CellSpace",
    "CellSpaceConfig",
    "CoDesignSimulator",
    "HardwareCost",
    "ImageData",
    "NASSimulator",
    "NetworkSpace",
    "ProxyEvaluator",
    "ProxySettings",
    "TrainEvaluator",
    "TrainSettings",
    "arch_string",
    "load_digits_data",
    "make_codesign_env",
    "make_nas_env",
    "parse_arch_string",
    "uniform_cell",
]
