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

from archgym.lazy import lazy_exports

# each name imports its submodule on first use, so reading the design space or the metrics
# (``archgym envs``) does not load torch
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        ".block_space": ("BlockSpace", "BlockSpaceConfig"),
        ".cell_space": ("CellSpace", "CellSpaceConfig", "arch_string", "parse_arch_string", "uniform_cell"),
        ".codesign": ("CoDesignSimulator", "make_codesign_env"),
        ".data": ("ImageData", "load_dataset", "load_digits_data"),
        ".env": ("make_nas_env",),
        ".evaluators": ("NASSimulator",),
        ".hardware": ("HardwareCost",),
        ".hwnasbench": ("HWNASBenchTable", "MeasuredHardware"),
        ".nasbench": ("NB201Evaluator",),
        ".proxies": ("PROXIES", "ProxyEvaluator", "ProxySettings"),
        ".search_space": ("NetworkSpace",),
        ".training": ("TrainEvaluator", "TrainSettings"),
        ".vit_space": ("ViTSpace", "ViTSpaceConfig"),
    },
)
