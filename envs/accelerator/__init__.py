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

from archgym.lazy import lazy_exports

# each name imports its submodule on first use, so reading the design space or the metrics
# (``archgym envs``) does not load torch
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        ".architecture": ("Architecture", "ArchitectureError"),
        ".layers": ("Layer", "LayerArrays", "to_arrays", "total_macs"),
        ".networks": ("UnknownWorkloadError", "Workload", "load_workload", "workload_names"),
        ".simulator": ("AcceleratorSimulator", "HierarchySimulator", "TemplateSimulator", "network_totals"),
        ".space": ("DATAFLOWS", "EYERISS_LIKE", "accelerator_design_space"),
        ".technology": ("DEFAULT_TECHNOLOGY", "Technology"),
        ".templates": ("template_architecture",),
        ".tracing": ("MatMul", "TracingError", "trace_layers"),
    },
)
