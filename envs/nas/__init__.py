"""Neural architecture search environments: ``archgym/NAS-v0`` and ``archgym/CoDesign-v0``.

Public API:

* spaces -- :class:`CellSpace` (NAS-Bench-201 cells), :class:`BlockSpace` (MobileNetV2 /
  Once-for-All blocks), :class:`ViTSpace` (ViT/DeiT, AutoFormer-style), all
  :class:`NetworkSpace` (design space + ``nn.Module`` builder);
* data -- :func:`load_dataset` (scikit-learn's 8x8 digits by default; CIFAR-10/100 and
  image folders from local files), seeded splits;
* evaluators -- :class:`ProxyEvaluator` (zero-cost proxies), :class:`TrainEvaluator`
  (trained accuracy), :class:`NB201Evaluator` (NAS-Bench-201 / NATS-Bench tables),
  :class:`MeasuredHardware` (HW-NAS-Bench device figures), :class:`HardwareCost`
  (accelerator latency/energy/area of the traced layers), combined by :class:`NASSimulator`;
* environments -- :func:`make_nas_env`, :func:`make_codesign_env`.
"""

from .block_space import BlockSpace, BlockSpaceConfig
from .cell_space import CellSpace, CellSpaceConfig, arch_string, parse_arch_string, uniform_cell
from .codesign import CoDesignSimulator, make_codesign_env
from .data import ImageData, load_dataset, load_digits_data
from .env import make_nas_env
from .evaluators import NASSimulator
from .hardware import HardwareCost
from .hwnasbench import HWNASBenchTable, MeasuredHardware
from .nasbench import NB201Evaluator
from .proxies import PROXIES, ProxyEvaluator, ProxySettings
from .search_space import NetworkSpace
from .training import TrainEvaluator, TrainSettings
from .vit_space import ViTSpace, ViTSpaceConfig

__all__ = [
    "PROXIES",
    "BlockSpace",
    "BlockSpaceConfig",
    "CellSpace",
    "CellSpaceConfig",
    "CoDesignSimulator",
    "HWNASBenchTable",
    "HardwareCost",
    "ImageData",
    "MeasuredHardware",
    "NASSimulator",
    "NB201Evaluator",
    "NetworkSpace",
    "ProxyEvaluator",
    "ProxySettings",
    "TrainEvaluator",
    "TrainSettings",
    "ViTSpace",
    "ViTSpaceConfig",
    "arch_string",
    "load_dataset",
    "load_digits_data",
    "make_codesign_env",
    "make_nas_env",
    "parse_arch_string",
    "uniform_cell",
]
