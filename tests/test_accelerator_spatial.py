"""One spatial unrolling: the compiled kernel unrolls every bundled architecture as the Python
:func:`~archgym.envs.accelerator.hierarchy_model.spatial_unrolling` does.

The kernel's temporal cycles are the product of the temporal loop extents (what the spatial
unrolling leaves of each layer dimension) times the array's cycles per iteration, whatever loop
order it picks; so ``temporal_cycles == prod(ceil(extent / unroll)) * cycles_per_iteration``
checks its unrolling against the Python one, layer by layer."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from archgym.envs.accelerator import EYERISS_LIKE, load_workload
from archgym.envs.accelerator.architecture import Architecture
from archgym.envs.accelerator.dataflows import DATAFLOWS
from archgym.envs.accelerator.hierarchy_model import (
    evaluate_layers,
    layer_dims,
    spatial_unrolling,
    unique_layers,
)
from archgym.envs.accelerator.templates import template_architecture

# ZigZag's hardware files with the mapping file that gives every array dimension its unrolling
ZIGZAG_PAIRS = {
    "tpu_like": "tpu_like",
    "eyeriss_like": "default",
    "edge_tpu_like": "edge_tpu_like",
    "meta_prototype": "meta_prototype_like",
    "tesla_npu_like": "tesla_npu_like",
    "ascend_like": "ascend_like",
    "aimc": "default_imc",
    "dimc": "default_imc",
}


def _bundled_architectures() -> dict[str, Architecture]:
    archs = {
        f"template-{df}{'' if im2col else '-no-im2col'}": template_architecture(
            dict(EYERISS_LIKE, dataflow=df), im2col=im2col
        )
        for df in DATAFLOWS
        for im2col in (True, False)
    }
    try:
        import zigzag
    except ImportError:  # the templates alone without the zigzag extra
        return archs
    inputs = Path(zigzag.__file__).resolve().parent / "inputs"
    for hw, mp in ZIGZAG_PAIRS.items():
        arch = Architecture.from_zigzag(inputs / f"hardware/{hw}.yaml", inputs / f"mapping/{mp}.yaml")
        if not arch.spatial_hints:  # hinted dimensions are the mapper's choice, not a fixed unrolling
            archs[hw] = arch
    return archs


def _expected_temporal(arch: Architecture, dims: dict[str, int]) -> float:
    unroll = dict.fromkeys(dims, 1)
    for used in spatial_unrolling(arch, dims).values():
        for ld, u in used.items():
            unroll[ld] *= u
    return math.prod(math.ceil(dims[ld] / unroll[ld]) for ld in dims) * arch.array.cycles_per_iteration


@pytest.mark.parametrize("name", sorted(_bundled_architectures()))
def test_the_kernel_unrolls_as_the_python_spatial_unrolling(name):
    arch = _bundled_architectures()[name]
    layers, _ = unique_layers(load_workload("resnet18").layers)
    layers = layers[:: max(1, len(layers) // 6)]  # a stem, convolutions of every stage, the fc
    for layer, cost in zip(layers, evaluate_layers(arch, layers, max_orders=24)):
        assert cost.temporal_cycles == pytest.approx(
            _expected_temporal(arch, layer_dims(layer)), rel=1e-12
        ), (
            name,
            layer.name,
        )
