"""Templates: design-space points -> :class:`~.architecture.Architecture` descriptions.

:func:`template_architecture` turns a point of the 9-knob ``archgym/Accelerator-v0`` space
into the general description, with:

* a ``pe_rows x pe_cols`` array (``D1`` rows, ``D2`` columns) whose unrolling follows the
  dataflow template of :mod:`.dataflows` (ws: C[, FX, FY] x K; os: OX, OY, B x K, G;
  rs: FY, C, G x OY, K, B; is: C[, FX, FY] x OX, OY, B). ``im2col=False`` keeps ws and is to
  input channels on the rows, as a plain TPU-like array does;
* a per-PE register file of ``rf_bytes`` holding all three operands, a global buffer of
  ``glb_kib`` shared by the array (read/write ports of ``noc_bw`` bytes a cycle) and DRAM
  (``dram_bw`` GB/s at ``clock_mhz``);
* access energies derived from the sizes (:func:`~.architecture.derived_access_pj`), the
  ``precision_bits`` MAC energy of :mod:`.technology`, and partial sums twice as wide as the
  data (a ``b``-bit multiply feeds a ``2b``-bit accumulator).

:func:`split_memory_architecture` is a second template with per-operand memories: separate
weight, input and output register files and buffers whose sizes are knobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .architecture import (
    Architecture,
    MemoryLevel,
    OperationalArray,
    Port,
    derived_access_pj,
    derived_area_mm2,
)
from .technology import DEFAULT_TECHNOLOGY, Technology

#: DRAM energy per bit: 200x a 16-bit MAC per 16-bit word (Eyeriss ISCA 2016, Table IV)
_DRAM_BITS = 64


def _spatial(dataflow: str, rows: int, cols: int, im2col: bool) -> dict[str, tuple[tuple[str, int], ...]]:
    reduce_rows = (("C", rows), ("FX", rows), ("FY", rows)) if im2col else (("C", rows),)
    table = {
        "ws": (reduce_rows, (("K", cols),)),
        "is": (reduce_rows, (("OX", cols), ("OY", cols), ("B", cols))),
        "os": ((("OX", rows), ("OY", rows), ("B", rows)), (("K", cols), ("G", cols))),
        "rs": ((("FY", rows), ("C", rows), ("G", rows)), (("OY", cols), ("K", cols), ("B", cols))),
    }
    if dataflow not in table:
        raise ValueError(f"unknown dataflow {dataflow!r}; allowed: {', '.join(table)}")
    r, c = table[dataflow]
    return {"D1": r, "D2": c}


def _one_read_one_write_port(operands: Sequence[str]) -> dict[tuple[str, str], str]:
    """Every operand read through ``r_port_1`` and written through ``w_port_1`` (outputs' partial
    sums both ways)."""
    alloc = {}
    for op in operands:
        alloc[(op, "tl")] = "r_port_1"
        alloc[(op, "fh")] = "w_port_1"
        if op == "O":
            alloc[(op, "th")] = "r_port_1"
            alloc[(op, "fl")] = "w_port_1"
    return alloc


def _level(
    name: str,
    size_bits: float,
    operands: tuple[str, ...],
    bw_bits: float,
    served: tuple[str, ...],
    tech: Technology,
    energy_pj: float | None = None,
    min_bits: float | None = None,
) -> MemoryLevel:
    e = derived_access_pj(size_bits, bw_bits, tech) if energy_pj is None else energy_pj
    gran = min(min_bits or bw_bits, bw_bits)
    ports = (Port("r_port_1", "read", bw_bits, gran), Port("w_port_1", "write", bw_bits, gran))
    alloc = _one_read_one_write_port(operands)
    return MemoryLevel(
        name, size_bits, operands, ports, alloc, served, e, e, derived_area_mm2(size_bits, tech)
    )


def _dram(bits_per_cycle: float, word_bits: int, tech: Technology) -> MemoryLevel:
    per_bit = tech.word_pj("dram", 1.0)
    port = Port("rw_port_1", "read_write", bits_per_cycle, min(float(word_bits), bits_per_cycle))
    alloc = {(op, d): "rw_port_1" for op in ("W", "I", "O") for d in ("fh", "tl", "fl", "th")}
    e = per_bit * bits_per_cycle
    return MemoryLevel("dram", 1e15, ("W", "I", "O"), (port,), alloc, ("D1", "D2"), e, e, 0.0)


def template_architecture(
    design: Mapping[str, Any], tech: Technology = DEFAULT_TECHNOLOGY, im2col: bool = True
) -> Architecture:
    """The 9-knob design ``design`` (see :func:`~.space.accelerator_design_space`) as an Architecture."""
    bits = int(design["precision_bits"])
    rows, cols = int(design["pe_rows"]), int(design["pe_cols"])
    clock = float(design["clock_mhz"])
    rf_bits = float(design["rf_bytes"]) * 8
    glb_bits = float(design["glb_kib"]) * 8192
    noc_bits = float(design["noc_bw"]) * 8
    dram_bits = float(design["dram_bw"]) * 1e9 * 8 / (clock * 1e6)
    array = OperationalArray({"D1": rows, "D2": cols}, tech.mac_pj(bits), tech.mac_um2(bits) * 1e-6)
    rf = _level("rf", rf_bits, ("W", "I", "O"), 4.0 * bits, (), tech)  # a W, an I and a psum a cycle
    glb = _level("glb", glb_bits, ("W", "I", "O"), noc_bits, ("D1", "D2"), tech, min_bits=bits)
    return Architecture(
        name=f"{design['dataflow']}-{rows}x{cols}",
        array=array,
        memories=(rf, glb, _dram(dram_bits, bits, tech)),
        spatial_mapping=_spatial(str(design["dataflow"]), rows, cols, im2col),
        precision={"W": bits, "I": bits, "O": 2 * bits, "O_final": bits},
        clock_mhz=clock,
    )


def split_memory_architecture(
    design: Mapping[str, Any], tech: Technology = DEFAULT_TECHNOLOGY, im2col: bool = True
) -> Architecture:
    """A template with per-operand memories: ``rf_w_bytes``, ``rf_i_bytes``, ``rf_o_bytes`` per
    PE and ``wbuf_kib`` (weights) / ``abuf_kib`` (inputs and outputs) shared buffers, plus
    the knobs of :func:`template_architecture` other than ``rf_bytes`` and ``glb_kib``."""
    bits = int(design["precision_bits"])
    rows, cols = int(design["pe_rows"]), int(design["pe_cols"])
    clock = float(design["clock_mhz"])
    noc_bits = float(design["noc_bw"]) * 8
    dram_bits = float(design["dram_bw"]) * 1e9 * 8 / (clock * 1e6)
    array = OperationalArray({"D1": rows, "D2": cols}, tech.mac_pj(bits), tech.mac_um2(bits) * 1e-6)
    mems = (
        _level("rf_w", float(design["rf_w_bytes"]) * 8, ("W",), bits, (), tech),
        _level("rf_i", float(design["rf_i_bytes"]) * 8, ("I",), bits, (), tech),
        _level("rf_o", float(design["rf_o_bytes"]) * 8, ("O",), 2.0 * bits, (), tech),
        _level("wbuf", float(design["wbuf_kib"]) * 8192, ("W",), noc_bits, ("D1", "D2"), tech, min_bits=bits),
        _level(
            "abuf", float(design["abuf_kib"]) * 8192, ("I", "O"), noc_bits, ("D1", "D2"), tech, min_bits=bits
        ),
        _dram(dram_bits, bits, tech),
    )
    return Architecture(
        name=f"{design['dataflow']}-{rows}x{cols}-split",
        array=array,
        memories=mems,
        spatial_mapping=_spatial(str(design["dataflow"]), rows, cols, im2col),
        precision={"W": bits, "I": bits, "O": 2 * bits, "O_final": bits},
        clock_mhz=clock,
    )


def _ported_level(
    name: str,
    size_bits: float,
    operands: tuple[str, ...],
    read_bits: float,
    write_bits: float,
    gran_bits: float,
    served: tuple[str, ...],
    tech: Technology,
    bank_bits: float | None = None,
) -> MemoryLevel:
    """A memory with a read and a write port of their own widths (bits a cycle), transfers in
    ``gran_bits`` granules; access energies from the size of one bank (default: the memory)."""
    bank = size_bits if bank_bits is None else bank_bits
    ports = (
        Port("r_port_1", "read", read_bits, min(gran_bits, read_bits)),
        Port("w_port_1", "write", write_bits, min(gran_bits, write_bits)),
    )
    alloc = _one_read_one_write_port(operands)
    return MemoryLevel(
        name,
        size_bits,
        operands,
        ports,
        alloc,
        served,
        derived_access_pj(bank, read_bits, tech),
        derived_access_pj(bank, write_bits, tech),
        derived_area_mm2(size_bits, tech),
    )


def extended_architecture(
    design: Mapping[str, Any], tech: Technology = DEFAULT_TECHNOLOGY, im2col: bool = True
) -> Architecture:
    """A design of the extended space (:func:`~.space.extended_design_space`) as an Architecture.

    Per PE, a scratchpad per operand (``*_spad_words`` deep; ports of ``*_spad_rd`` /
    ``*_spad_wr`` accesses a cycle of ``*_spad_block`` words each); optionally a buffer per PE
    column (``col_buf_kib``, holding ``col_buf_operands``, fed and read at the NoC width);
    the global buffer of ``glb_banks`` banks (each delivers ``glb_block`` words a cycle, up to
    the NoC's ``noc_bw`` bytes; access energy from one bank's size); DRAM. Weights are
    ``weight_bits`` wide, inputs and final outputs ``act_bits``, partial sums twice the wider.
    Energies and areas come from the sizes (:func:`~.architecture.derived_access_pj`,
    :func:`~.architecture.derived_area_mm2`) and :mod:`.technology`'s MAC tables.
    """
    wb, ab = int(design["weight_bits"]), int(design["act_bits"])
    bits = {"W": wb, "I": ab, "O": 2 * max(wb, ab)}
    rows, cols = int(design["pe_rows"]), int(design["pe_cols"])
    clock = float(design["clock_mhz"])
    noc_bits = float(design["noc_bw"]) * 8
    dram_bits = float(design["dram_bw"]) * 1e9 * 8 / (clock * 1e6)
    array = OperationalArray(
        {"D1": rows, "D2": cols}, tech.mac_pj(max(wb, ab)), tech.mac_um2(max(wb, ab)) * 1e-6
    )
    mems = []
    for op in ("W", "I", "O"):
        k, b = op.lower(), bits[op]
        block = int(design[f"{k}_spad_block"]) * b
        mems.append(
            _ported_level(
                f"{k}_spad",
                float(design[f"{k}_spad_words"]) * b,
                (op,),
                int(design[f"{k}_spad_rd"]) * block,
                int(design[f"{k}_spad_wr"]) * block,
                block,
                (),
                tech,
            )
        )
    if float(design["col_buf_kib"]) > 0:
        ops = tuple(str(design["col_buf_operands"]))
        gran = int(design["col_buf_block"]) * min(bits[o] for o in ops)
        mems.append(
            _ported_level(
                "col_buf", float(design["col_buf_kib"]) * 8192, ops, noc_bits, noc_bits, gran, ("D1",), tech
            )
        )
    glb_bits = float(design["glb_kib"]) * 8192
    banks = int(design["glb_banks"])
    glb_bw = min(noc_bits, banks * int(design["glb_block"]) * max(wb, ab))
    gran = int(design["glb_block"]) * min(wb, ab)
    mems.append(
        _ported_level(
            "glb", glb_bits, ("W", "I", "O"), glb_bw, glb_bw, gran, ("D1", "D2"), tech, glb_bits / banks
        )
    )
    mems.append(_dram(dram_bits, min(wb, ab), tech))
    return Architecture(
        name=f"{design['dataflow']}-{rows}x{cols}-extended",
        array=array,
        memories=tuple(mems),
        spatial_mapping=_spatial(str(design["dataflow"]), rows, cols, im2col),
        precision={"W": wb, "I": ab, "O": bits["O"], "O_final": ab},
        clock_mhz=clock,
    )
