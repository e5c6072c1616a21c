"""Running ZigZag (zigzag-dse, Mei et al., IEEE TC 2021) on our layers, one record per layer.

ZigZag is an optional dependency (``pip install archgym[zigzag]``). This module turns a
:class:`~.layers.Layer` into ZigZag's workload-dictionary form (the seven-loop convolution
``O[b][g][k][oy][ox] += W[g][k][c][fy][fx] * I[b][g][c][iy][ix]`` with its real input
extents and padding, as ZigZag's own ONNX parser writes it), runs ZigZag's standard
pipeline (LOMA temporal mapping search, minimal-latency mapping by default) and reads back
per layer: total latency with stalls, on/off-loading, energy, and the word accesses and
energy of every memory level. Nothing here computes a cost itself.

Precisions follow ZigZag's ONNX defaults unless given: 8-bit weights and activations,
16-bit partial sums.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archgym.errors import ArchGymError

from .layers import Layer

#: our mapper goal (``mapper_objective``) -> ZigZag's ``opt``
ZIGZAG_OPT: dict[str, str] = {"latency": "latency", "energy": "energy", "edp": "EDP"}
#: ZigZag's default operand precisions for ONNX layers (bits)
DEFAULT_PRECISION: dict[str, int] = {"W": 8, "I": 8, "O": 16, "O_final": 8}


class ZigZagUnavailableError(ArchGymError, ImportError):
    """zigzag-dse is not installed."""


def zigzag_available() -> bool:
    try:
        import zigzag.api  # noqa: F401
    except ImportError:
        return False
    return True


def zigzag_inputs_dir() -> Path:
    """The ``inputs/`` folder bundled with zigzag-dse (hardware, mapping, workload)."""
    try:
        import zigzag
    except ImportError as exc:
        raise ZigZagUnavailableError("ZigZag is not installed: pip install 'archgym[zigzag]'") from exc
    return Path(zigzag.__file__).resolve().parent / "inputs"


def layer_to_zigzag(
    layer: Layer, layer_id: int, precision: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """One layer in ZigZag's workload-dictionary form (a grouped convolution)."""
    prec = dict(DEFAULT_PRECISION, **(precision or {}))
    t, b, lft, rgt = layer.padding
    return {
        "id": layer_id,
        "name": layer.name,
        "operator_type": "Conv",
        "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
        "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
        "loop_sizes": [
            layer.N,
            layer.k_per_group,
            layer.groups,
            layer.Q,
            layer.P,
            layer.c_per_group,
            layer.S,
            layer.R,
        ],
        "dimension_relations": [f"ix={layer.stride}*ox+1*fx", f"iy={layer.stride}*oy+1*fy"],
        "operand_precision": prec,
        "pr_loop_dims": ["IX", "IY"],
        "pr_loop_sizes": [layer.in_w, layer.in_h],
        "padding": [[lft, rgt], [t, b]],
    }


@dataclass(frozen=True)
class ZigZagLayerResult:
    """What ZigZag reports for one layer."""

    name: str
    latency_cycles: float  # ZigZag's latency_total2: compute + stalls + on/off-loading + drain
    ideal_cycles: float  # MACs / array size
    ideal_temporal_cycles: float  # temporal loop iterations of the chosen mapping
    stall_cycles: float
    onloading_cycles: float
    offloading_cycles: float
    energy_pj: float
    mac_energy_pj: float
    level_energy_pj: dict[str, float]  # memory name -> energy over all operands
    level_accesses: dict[str, float]  # memory name -> word accesses (all directions, operands)
    spatial_utilization: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _quiet_logging() -> None:
    for name in ("zigzag", "root"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)


def _zigzag_api(
    workload: Any, hardware_yaml: str | Path, mapping_yaml: str | Path, opt: str, lpf_limit: int
) -> Any:
    """ZigZag's ``get_hardware_performance_zigzag`` in a temporary dump folder, its logging kept quiet.

    Raises:
        ZigZagUnavailableError: ZigZag is not installed.
    """
    try:
        from zigzag.api import get_hardware_performance_zigzag
    except ImportError as exc:
        raise ZigZagUnavailableError("ZigZag is not installed: pip install 'archgym[zigzag]'") from exc
    with tempfile.TemporaryDirectory(prefix="archgym-zigzag-") as tmp:
        _quiet_logging()
        result = get_hardware_performance_zigzag(
            workload,
            str(hardware_yaml),
            str(mapping_yaml),
            opt=opt,
            dump_folder=tmp,
            lpf_limit=lpf_limit,
            loma_show_progress_bar=False,
        )
        _quiet_logging()  # ZigZag's API configures the root logger at INFO
    return result


def run_zigzag(
    layers: Sequence[Layer],
    hardware_yaml: str | Path,
    mapping_yaml: str | Path,
    *,
    opt: str = "latency",
    precision: Mapping[str, int] | None = None,
    lpf_limit: int = 6,
) -> list[ZigZagLayerResult]:
    """Run ZigZag on ``layers`` (each independently) and return one result per layer, in order."""
    if not layers:
        return []
    workload = [layer_to_zigzag(layer, i, precision) for i, layer in enumerate(layers)]
    result = _zigzag_api(workload, hardware_yaml, mapping_yaml, opt, lpf_limit)
    cmes = result[-1]
    per_layer = [cme for cme, _ in cmes[0][1]]
    by_id = {int(cme.layer.id): cme for cme in per_layer}
    return [_result(layer.name, by_id[i]) for i, layer in enumerate(layers)]


def run_zigzag_mapping(
    layer: Layer,
    hardware_yaml: str | Path,
    spatial: Mapping[str, Sequence[tuple[str, int]]],
    loops: Sequence[tuple[str, int]],
    *,
    opt: str = "latency",
) -> ZigZagLayerResult:
    """ZigZag's cost of one given mapping of ``layer``: the spatial unrolling ``{array dim:
    ((layer dim, factor), ...)}`` and the temporal loops ``(layer dim, factor)`` innermost first,
    written as a mapping file whose ``temporal_ordering`` fixes LOMA's loop order (ZigZag still
    allocates the loops to the memory levels itself). An array dimension ``spatial`` leaves out
    is filled by ZigZag's spatial-mapping generator: give ``((dim, 1),)`` to leave it idle."""
    import yaml

    entry = {
        "name": "default",
        "spatial_mapping": {d: [f"{ld}, {int(f)}" for ld, f in e] for d, e in spatial.items()},
        "temporal_ordering": [[ld, int(f)] for ld, f in loops],
        "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"},
    }
    with tempfile.TemporaryDirectory(prefix="archgym-zigzag-map-") as tmp:
        mapping = Path(tmp) / "mapping.yaml"
        mapping.write_text(yaml.safe_dump([entry]))
        return run_zigzag([layer], hardware_yaml, mapping, opt=opt)[0]


def _result(name: str, cme: Any) -> ZigZagLayerResult:
    hierarchy = cme.accelerator.memory_hierarchy
    energy: dict[str, float] = {}
    accesses: dict[str, float] = {}
    for layer_op, per_level in cme.mem_energy_breakdown.items():
        mem_op = cme.memory_operand_links.layer_to_mem_op(layer_op)
        levels = hierarchy.get_memory_levels(mem_op)
        for lvl, e, acc in zip(levels, per_level, cme.memory_word_access[layer_op]):
            energy[lvl.name] = energy.get(lvl.name, 0.0) + float(e)
            accesses[lvl.name] = accesses.get(lvl.name, 0.0) + float(sum(acc.data.values()))
    return ZigZagLayerResult(
        name=name,
        latency_cycles=float(cme.latency_total2),
        ideal_cycles=float(cme.ideal_cycle),
        ideal_temporal_cycles=float(cme.ideal_temporal_cycle),
        stall_cycles=float(cme.stall_slack_comb),
        onloading_cycles=float(cme.data_onloading_cycle),
        offloading_cycles=float(cme.data_offloading_cycle),
        energy_pj=float(cme.energy_total),
        mac_energy_pj=float(cme.mac_energy),
        level_energy_pj=energy,
        level_accesses=accesses,
        spatial_utilization=float(cme.mac_spatial_utilization),
    )


def run_zigzag_onnx(
    onnx_path: str | Path,
    hardware_yaml: str | Path,
    mapping_yaml: str | Path,
    *,
    opt: str = "latency",
    lpf_limit: int = 6,
) -> dict[str, ZigZagLayerResult]:
    """Run ZigZag on an ONNX file as ZigZag itself reads it (its ONNX parser: a Gemm/MatMul
    becomes the loops ``C D K`` (+ ``B H``), not a convolution); one result per compute node,
    by node name."""
    result = _zigzag_api(str(onnx_path), hardware_yaml, mapping_yaml, opt, lpf_limit)
    return {str(cme.layer.name): _result(str(cme.layer.name), cme) for cme, _ in result[-1][0][1]}
