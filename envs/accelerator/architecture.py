"""A general description of a DNN accelerator: an operational array and a memory hierarchy.

The description follows the abstraction of ZigZag (Mei et al., "ZigZag: Enlarging Joint
Architecture-Mapping Design Space Exploration for DNN Accelerators", IEEE TC 2021) and
Timeloop (Parashar et al., ISPASS 2019):

* :class:`OperationalArray`: named spatial dimensions (``D1: 32, D2: 32``), the energy and
  area of one MAC unit, and which dimensions are systolic (results drain one unit a cycle).
* :class:`MemoryLevel`: size in bits, the operands it holds (``W`` weights, ``I`` inputs,
  ``O`` outputs/partial sums -- one level may hold several, sharing its capacity), its ports
  (read / write / read-write, each with a minimum and maximum bandwidth in bits per cycle)
  and which port serves each data movement, the energy of one access of ``max bandwidth``
  bits (given, or derived from the size, see :func:`derived_access_pj`), its area, and the
  array dimensions one instance serves (``[]``: one instance per MAC unit; ``[D1, D2]``: one
  instance for the whole array, multicasting inputs and reducing outputs over it).
* :class:`Architecture`: the array, the memory levels from the innermost outwards, the
  spatial mapping (which layer dimension each array dimension unrolls, with a factor), the
  operand precisions (partial sums are usually wider than final outputs) and the clock.

Data movements use ZigZag's four directions: ``fh`` (written from the higher level), ``tl``
(read out to the lower level), ``fl`` (written from the lower level) and ``th`` (read out to
the higher level). Layer dimensions use ZigZag's names: ``B K G OX OY C FX FY``.

:meth:`Architecture.from_zigzag` reads ZigZag's hardware and mapping YAML files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from archgym.errors import InputFormatError

from .imc import ImcError, ImcMacro, macro_from_zigzag
from .technology import DEFAULT_TECHNOLOGY, Technology

OPERANDS: tuple[str, ...] = ("W", "I", "O")
DIRECTIONS: tuple[str, ...] = ("fh", "tl", "fl", "th")
LAYER_DIMS: tuple[str, ...] = ("B", "K", "G", "OX", "OY", "C", "FX", "FY")
#: the layer dimensions each operand depends on (inputs also on OX/OY/FX/FY through the window)
RELEVANT: dict[str, frozenset[str]] = {
    "W": frozenset({"K", "G", "C", "FX", "FY"}),
    "I": frozenset({"B", "G", "C", "OX", "OY", "FX", "FY"}),
    "O": frozenset({"B", "K", "G", "OX", "OY"}),
}
#: the loops of a GEMM as ZigZag's ONNX parser names them (zigzag-dse 3.9.1,
#: ``parser/onnx/gemm_parser.py``: ``I[b][h][d][c] * W[c][k] -> O[b][h][d][k]``) -> the same
#: loops in our convolution form (tokens ``D`` = ``OY``, heads ``H`` = groups ``G``)
ZIGZAG_GEMM_DIMS: dict[str, str] = {"K": "K", "C": "C", "D": "OY", "B": "B", "H": "G"}
#: ZigZag's aliases for the memory operands (``I1`` inputs, ``I2`` weights)
_ZZ_OPERAND = {"I1": "I", "I2": "W", "O": "O"}


class ArchitectureError(InputFormatError):
    """An architecture description that is inconsistent or cannot be read."""


@dataclass(frozen=True)
class Port:
    """A memory port: ``kind`` read / write / read_write; bandwidths in bits per cycle."""

    name: str
    kind: str
    bw_max: float
    bw_min: float

    def __post_init__(self) -> None:
        if self.kind not in ("read", "write", "read_write"):
            raise ArchitectureError(f"port {self.name!r}: kind must be read, write or read_write")
        if not (0 < self.bw_min <= self.bw_max):
            raise ArchitectureError(
                f"port {self.name!r}: need 0 < bw_min <= bw_max, got {self.bw_min}, {self.bw_max}"
            )


@dataclass(frozen=True)
class MemoryLevel:
    """One memory level (see the module docstring). Energies in pJ per ``bw_max``-bit access."""

    name: str
    size_bits: float
    operands: tuple[str, ...]
    ports: tuple[Port, ...]
    allocation: Mapping[tuple[str, str], str]  # (operand, direction) -> port name
    served_dims: tuple[str, ...]
    read_pj: float
    write_pj: float
    area_mm2: float = 0.0

    def __post_init__(self) -> None:
        bad = [o for o in self.operands if o not in OPERANDS]
        if bad or not self.operands:
            raise ArchitectureError(
                f"memory {self.name!r}: operands must be among W, I, O, got {self.operands}"
            )
        if self.size_bits <= 0:
            raise ArchitectureError(f"memory {self.name!r}: size must be > 0 bits")
        names = {p.name for p in self.ports}
        for (op, d), port in self.allocation.items():
            if port not in names:
                raise ArchitectureError(f"memory {self.name!r}: ({op}, {d}) uses unknown port {port!r}")

    @cached_property
    def _port_of(self) -> dict[tuple[str, str], Port]:
        by_name = {p.name: p for p in self.ports}
        return {key: by_name[name] for key, name in self.allocation.items()}

    def port(self, operand: str, direction: str) -> Port | None:
        """The port serving ``operand`` in ``direction`` (None if that movement has none)."""
        return self._port_of.get((operand, direction))


@dataclass(frozen=True)
class OperationalArray:
    """The MAC array: ``dims`` maps each spatial dimension to its size.

    ``imc``: an in-memory-compute macro (:class:`~.imc.ImcMacro`) whose model gives the MAC
    energy per layer and mapping (``mac_pj`` is then its energy per MAC at full use) and
    the array cycles per temporal iteration (bit-serial inputs).
    """

    dims: Mapping[str, int]
    mac_pj: float
    mac_area_mm2: float = 0.0
    systolic_dims: tuple[str, ...] = ()
    imc: ImcMacro | None = None

    def __post_init__(self) -> None:
        if self.imc is not None:
            for d in (self.imc.row_dim, self.imc.col_dim):
                if d not in self.dims:
                    raise ArchitectureError(f"IMC macro dimension {d!r} is not an array dimension")

    @property
    def units(self) -> int:
        return math.prod(self.dims.values())

    @property
    def cycles_per_iteration(self) -> float:
        """Array cycles per temporal loop iteration: 1, or the bit-serial cycles of an IMC macro."""
        return 1.0 if self.imc is None else self.imc.cycles_per_mac


@dataclass(frozen=True)
class Architecture:
    """Operational array + memory levels (innermost first) + spatial mapping + precisions.

    ``spatial_mapping`` maps an array dimension to ``((layer_dim, factor), ...)``: the layer
    dimensions it unrolls, filled in order, each by at most ``factor`` (clipped to the layer's
    extent and to the room left on that array dimension).

    ``spatial_hints`` maps an array dimension that ``spatial_mapping`` leaves out to the layer
    dimensions it may unroll: per layer, the mapper tries one of them at a time (ZigZag's
    ``spatial_mapping_hint``, see :func:`~.hierarchy_model.spatial_candidates`); a hint of
    all of :data:`LAYER_DIMS` means any dimension the layer has.

    ``gemm_dims`` says how the spatial mapping and hints name a GEMM's loops: empty (our
    templates) they use our convolution form, a GEMM's tokens being ``OY``; ZigZag's files
    (:data:`ZIGZAG_GEMM_DIMS`) name them ``K C D B H``, so an entry on ``OX``/``OY`` does
    not unroll a GEMM (:meth:`for_kind`).
    """

    name: str
    array: OperationalArray
    memories: tuple[MemoryLevel, ...]
    spatial_mapping: Mapping[str, tuple[tuple[str, int], ...]]
    precision: Mapping[str, int] = field(default_factory=lambda: {"W": 8, "I": 8, "O": 16, "O_final": 8})
    clock_mhz: float = 1000.0
    area_mm2_extra: float = 0.0
    spatial_hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``{array dim: {layer dim: most}}``: the largest unrolling the mapper may generate there
    #: (ZigZag's memory-bandwidth limit, see :meth:`from_zigzag`)
    spatial_limits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    #: ``{a GEMM loop as the spatial mapping names it: our layer dim}`` (empty: our own names)
    gemm_dims: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for op in OPERANDS:
            if not self.levels(op):
                raise ArchitectureError(f"architecture {self.name!r}: no memory level holds operand {op}")
        for d, entries in self.spatial_mapping.items():
            if d not in self.array.dims:
                raise ArchitectureError(
                    f"architecture {self.name!r}: spatial mapping names unknown array dim {d!r}"
                )
            for ld, f in entries:
                if int(f) < 1:
                    raise ArchitectureError(f"architecture {self.name!r}: unrolling {ld} x {f} on {d}")
        for d, hinted in self.spatial_hints.items():
            bad = [ld for ld in hinted if ld not in LAYER_DIMS and ld not in self.gemm_dims]
            if d not in self.array.dims or d in self.spatial_mapping or bad or not hinted:
                raise ArchitectureError(
                    f"architecture {self.name!r}: spatial hint {d}: {list(hinted)} needs an array dim "
                    f"without a spatial mapping and layer dims among {LAYER_DIMS}"
                )
        for m in self.memories:
            unknown = [d for d in m.served_dims if d not in self.array.dims]
            if unknown:
                raise ArchitectureError(f"memory {m.name!r} serves unknown array dims {unknown}")
        for k in ("W", "I", "O", "O_final"):
            if int(self.precision.get(k, 0)) < 1:
                raise ArchitectureError(f"architecture {self.name!r}: precision of {k} must be >= 1 bit")

    def levels(self, operand: str) -> tuple[MemoryLevel, ...]:
        """The memory levels holding ``operand``, innermost first."""
        return tuple(m for m in self.memories if operand in m.operands)

    def instances(self, memory: MemoryLevel) -> int:
        """How many copies of ``memory`` there are: one per unit of the dimensions it does not serve."""
        return math.prod(s for d, s in self.array.dims.items() if d not in memory.served_dims)

    @property
    def area_mm2(self) -> float:
        mem = sum(m.area_mm2 * self.instances(m) for m in self.memories)
        return self.array.units * self.array.mac_area_mm2 + mem + self.area_mm2_extra

    def with_spatial_mapping(self, mapping: Mapping[str, Sequence[tuple[str, int]]]) -> Architecture:
        """This architecture with ``mapping`` (in our layer dims, also for a GEMM) as its whole
        spatial mapping (no hints left)."""
        return replace(
            self,
            spatial_mapping={d: tuple((ld, int(f)) for ld, f in e) for d, e in mapping.items()},
            spatial_hints={},
            gemm_dims={},
        )

    def for_kind(self, kind: str) -> Architecture:
        """This architecture as it applies to a layer of ``kind``: itself, except for a GEMM
        under :attr:`gemm_dims` -- then only the entries and hints on a GEMM's loops, renamed
        to ours (as ZigZag drops an unrolling of a dimension the layer lacks, and fills an
        array dimension whose hints name none of the layer's with any of them)."""
        if kind != "gemm" or not self.gemm_dims:
            return self
        names = self.gemm_dims
        mapping = {}
        for d, entries in self.spatial_mapping.items():
            most = self.spatial_limits.get(d, {})
            kept = tuple((names[ld], min(f, most.get(names[ld], f))) for ld, f in entries if ld in names)
            if kept:
                mapping[d] = kept
        hints = {}
        for d, hinted in self.spatial_hints.items():
            any_dim = set(hinted) >= set(LAYER_DIMS) or not any(ld in names for ld in hinted)
            hints[d] = tuple(dict.fromkeys(names[ld] for ld in (names if any_dim else hinted) if ld in names))
        return replace(self, spatial_mapping=mapping, spatial_hints=hints, gemm_dims={})

    # ------------------------------------------------------------------ ZigZag
    @classmethod
    def from_zigzag(
        cls,
        hardware_yaml: str | Path,
        mapping_yaml: str | Path | None = None,
        *,
        layer: str = "default",
        clock_mhz: float | None = None,
    ) -> Architecture:
        """Read ZigZag's hardware YAML (and the spatial mapping and operand links of one
        entry of its mapping YAML: the entry named ``layer``, else ``default``).

        Without a mapping file, each array dimension unrolls output channels ``K`` first
        and input channels ``C`` on the second (ZigZag's own default mapping). The
        ``spatial_mapping_hint`` of array dimensions without a ``spatial_mapping`` becomes
        :attr:`spatial_hints` (the mapper picks the unrolling per layer, as ZigZag does);
        an array dimension the mapping file leaves without both (e.g. D3 and D4 of
        ``meta_prototype`` with ``default.yaml``) may unroll any layer dimension, as
        ZigZag's spatial-mapping generator completes its hints. Factors larger than the
        array dimension or the layer are clipped to them, and, as ZigZag limits them, an
        innermost memory serving an array dimension can feed it at most ``bandwidth /
        precision`` distinct elements of an operand: the layer dimensions relevant to that
        operand unroll at most that far there (:attr:`spatial_limits`).

        An in-memory-compute array (``is_imc: True``) is costed with :mod:`.imc`; its clock
        is the macro's critical path unless ``clock_mhz`` is given (otherwise 1000 MHz).
        """
        import yaml

        hw = _load_yaml(hardware_yaml, yaml)
        where = str(hardware_yaml)
        try:
            oa = hw["operational_array"]
            dims = {str(d): int(s) for d, s in zip(oa["dimensions"], oa["sizes"])}
        except (KeyError, TypeError) as exc:
            raise ArchitectureError(
                f"{where}: no operational_array with dimensions and sizes ({exc})"
            ) from None
        imc: ImcMacro | None = None
        if oa.get("is_imc"):
            try:
                imc = macro_from_zigzag(oa, (hw.get("memories") or {}).get("cells"))
            except ImcError as exc:
                raise ArchitectureError(f"{where}: {exc}") from None
            mac_pj = imc.peak_pj_per_mac()
            mac_area = sum(imc.area_mm2().values()) / math.prod(dims.values())
            if clock_mhz is None:
                clock_mhz = 1e3 / sum(imc.clock_period_ns().values())
        else:
            mac_pj = float(oa.get("unit_energy", 0.0))
            mac_area = float(oa.get("unit_area", 0.0))
        array = OperationalArray(
            dims, mac_pj, mac_area, tuple(str(d) for d in oa.get("systolic_dimensions", ())), imc
        )
        spatial, hints, mem_links = _zigzag_spatial(mapping_yaml, layer, dims, yaml)
        memories = []
        for name, m in (hw.get("memories") or {}).items():
            memories.append(_zigzag_memory(str(name), m, mem_links, where))
        if not memories:
            raise ArchitectureError(f"{where}: no memories")
        limits = _bandwidth_limits(memories, DEFAULT_ZIGZAG_PRECISION)
        spatial = {
            d: tuple((ld, max(1, min(f, limits.get(d, {}).get(ld, f)))) for ld, f in entries)
            for d, entries in spatial.items()
        }
        return cls(
            str(hw.get("name", Path(hardware_yaml).stem)),
            array,
            tuple(memories),
            spatial,
            clock_mhz=1000.0 if clock_mhz is None else clock_mhz,
            spatial_hints=hints,
            spatial_limits=limits,
            gemm_dims=ZIGZAG_GEMM_DIMS,
        )


#: operand precisions ZigZag uses for ONNX layers (bits; outputs: partial sums)
DEFAULT_ZIGZAG_PRECISION: dict[str, int] = {"W": 8, "I": 8, "O": 16}


def _bandwidth_limits(
    memories: Sequence[MemoryLevel], precision: Mapping[str, int]
) -> dict[str, dict[str, int]]:
    """ZigZag's limit of spatial unrolling by memory bandwidth: an innermost memory (the
    first level of every operand it holds) serving array dimension ``d`` delivers at most
    ``bandwidth / precision`` distinct elements of an operand a cycle (read to the array;
    outputs: written from it), so a layer dimension relevant to that operand unrolls at most
    that far on ``d``."""
    limits: dict[str, dict[str, int]] = {}
    for i, m in enumerate(memories):
        inner = all(not any(op in lower.operands for lower in memories[:i]) for op in m.operands)
        if not inner:
            continue
        for op in m.operands:
            port = m.port(op, "fl" if op == "O" else "tl")
            if port is None:
                continue
            cap = max(1, int(port.bw_max // precision[op]))
            for d in m.served_dims:
                for ld in RELEVANT[op]:
                    limits.setdefault(d, {})[ld] = min(cap, limits.get(d, {}).get(ld, cap))
    return limits


def _zigzag_spatial(
    mapping_yaml: str | Path | None, layer: str, dims: Mapping[str, int], yaml: Any
) -> tuple[dict[str, tuple[tuple[str, int], ...]], dict[str, tuple[str, ...]], dict[str, str]]:
    """``(spatial_mapping, spatial_hints, memory operand links)`` of one entry of a ZigZag
    mapping file (see :meth:`Architecture.from_zigzag`)."""
    mem_links = {"I1": "I", "I2": "W", "O": "O"}
    spatial: dict[str, tuple[tuple[str, int], ...]] = {}
    hints: dict[str, tuple[str, ...]] = {}
    if mapping_yaml is not None:
        entries = _load_yaml(mapping_yaml, yaml)
        if not isinstance(entries, list):
            raise ArchitectureError(f"{mapping_yaml}: a ZigZag mapping file is a list of entries")
        entry = next((e for e in entries if e.get("name") == layer), None)
        entry = entry or next((e for e in entries if e.get("name") == "default"), None)
        if entry is None:
            raise ArchitectureError(f"{mapping_yaml}: no entry named {layer!r} or 'default'")
        for d, items in (entry.get("spatial_mapping") or {}).items():
            pairs = []
            for it in items:
                ld, f = (s.strip() for s in str(it).split(","))
                pairs.append((ld, int(f)))
            spatial[str(d)] = tuple(pairs)
        for d, hinted in (entry.get("spatial_mapping_hint") or {}).items():
            if str(d) in dims and str(d) not in spatial:
                hints[str(d)] = tuple(str(ld) for ld in hinted)
        links = entry.get("memory_operand_links") or {}
        mem_links = {str(v): str(k) for k, v in links.items()} or mem_links
    else:
        names = list(dims)
        spatial = {names[0]: (("K", dims[names[0]]),)}
        if len(names) > 1:
            spatial[names[1]] = (("C", dims[names[1]]),)
    for d in dims:  # ZigZag's generator fills the dimensions left open with any layer dim
        if d not in spatial and d not in hints:
            hints[d] = LAYER_DIMS
    return spatial, hints, mem_links


def _load_yaml(path: str | Path, yaml: Any) -> Any:
    p = Path(path)
    if not p.is_file():
        raise ArchitectureError(f"file not found: {p}")
    try:
        return yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ArchitectureError(f"{p}: not valid YAML ({exc})") from None


def _zigzag_memory(name: str, m: Mapping[str, Any], links: Mapping[str, str], where: str) -> MemoryLevel:
    try:
        operands = tuple(links.get(str(o), _ZZ_OPERAND.get(str(o), str(o))) for o in m["operands"])
        ports, alloc = [], {}
        for p in m["ports"]:
            port = Port(str(p["name"]), str(p["type"]), float(p["bandwidth_max"]), float(p["bandwidth_min"]))
            ports.append(port)
            for a in p.get("allocation") or ():
                op, d = (s.strip() for s in str(a).split(","))
                alloc[(links.get(op, _ZZ_OPERAND.get(op, op)), d)] = port.name
        return MemoryLevel(
            name=name,
            size_bits=float(m["size"]),
            operands=operands,
            ports=tuple(ports),
            allocation=alloc,
            served_dims=tuple(str(d) for d in (m.get("served_dimensions") or ())),
            read_pj=float(m["r_cost"]),
            write_pj=float(m["w_cost"]),
            area_mm2=float(m.get("area", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchitectureError(f"{where}: memory {name!r}: {exc}") from None


# ------------------------------------------------------------------------- derived costs
def derived_access_pj(size_bits: float, width_bits: float, tech: Technology = DEFAULT_TECHNOLOGY) -> float:
    """Energy of one ``width_bits`` access to an SRAM/RF of ``size_bits``, from its size.

    Per bit, a 0.5 kB register file costs 1x and a 108 kB buffer 6x a 16-bit MAC per 16-bit
    word (Eyeriss, Chen et al. ISCA 2016, Table IV); between and beyond, the per-bit energy
    grows as sqrt(capacity) (Horowitz, ISSCC 2014: 64-bit reads cost 10 pJ at 8 kB, 20 pJ at
    32 kB, 100 pJ at 1 MB). The two anchors agree with the square root within 20 %.
    """
    rf_bits, glb_bits = tech.rf_ref_bytes * 8, tech.glb_ref_kib * 8192
    per_bit_rf = tech.word_pj("rf", 1.0)
    per_bit_glb = tech.word_pj("glb", 1.0)
    if size_bits <= rf_bits:
        per_bit = per_bit_rf * (size_bits / rf_bits) ** tech.capacity_exponent
    elif size_bits <= glb_bits:  # geometric interpolation between the two anchors
        t = math.log(size_bits / rf_bits) / math.log(glb_bits / rf_bits)
        per_bit = per_bit_rf * (per_bit_glb / per_bit_rf) ** t
    else:
        per_bit = per_bit_glb * (size_bits / glb_bits) ** tech.capacity_exponent
    return per_bit * width_bits


def derived_area_mm2(size_bits: float, tech: Technology = DEFAULT_TECHNOLOGY) -> float:
    """Area of a memory from its size: flip-flops up to 4 kbit, 6T SRAM above (see technology.py)."""
    if size_bits <= 4096:
        return size_bits * tech.dff_um2_per_bit * 1e-6
    return size_bits / 8192 * tech.glb_mm2_per_kib()
