r"""DNN-accelerator environment: analytical loop-nest models (Timeloop/ZigZag-style).

Public API:

* :func:`load_workload`, :func:`workload_names`, :func:`trace_layers`, :class:`Layer` --
  workloads as layer lists, traced from ``torch.nn.Module`` definitions;
* :class:`HierarchySimulator` (the env's default: each design as an :class:`Architecture`, a
  compiled mapper with port stalls) and :class:`TemplateSimulator` (the vectorised
  four-template roofline model), both :class:`AcceleratorSimulator`\ s
  (``AcceleratorSimulator(model=...)`` builds either);
* :func:`accelerator_design_space`, :func:`make_accelerator_env`;
* :class:`Architecture` -- general accelerator descriptions (``Architecture.from_zigzag``),
  :func:`template_architecture` for design-space points; ``evaluate_layers`` costs them.

The environment factory lives in :mod:`.env` (imported lazily by the registry).
"""

from .architecture import Architecture, ArchitectureError
from .dataflows import DATAFLOWS
from .layers import Layer, LayerArrays, to_arrays, total_macs
from .networks import UnknownWorkloadError, Workload, load_workload, workload_names
from .simulator import AcceleratorSimulator, HierarchySimulator, TemplateSimulator, network_totals
from .space import EYERISS_LIKE, accelerator_design_space
from .technology import DEFAULT_TECHNOLOGY, Technology
from .templates import template_architecture
from .tracing import MatMul, TracingError, trace_layers

__all__ = [
    "DATAFLOWS",
    "DEFAULT_TECHNOLOGY",
    "EYERISS_LIKE",
    "AcceleratorSimulator",
    "HierarchySimulator",
    "Architecture",
    "ArchitectureError",
    "Layer",
    "LayerArrays",
    "MatMul",
    "TemplateSimulator",
    "Technology",
    "TracingError",
    "UnknownWorkloadError",
    "Workload",
    "accelerator_design_space",
    "load_workload",
    "network_totals",
    "template_architecture",
    "to_arrays",
    "total_macs",
    "trace_layers",
    "workload_names",
]
