"""The accelerator design space.

The tiling is **not** a knob: the built-in mapper (:mod:`.mapper`) picks the best legal
buffer tiling and loop order per layer, and the dataflow template fixes the spatial
unrolling, so every point of this space is a complete, legal design.
"""

from __future__ import annotations

from archgym.design_space import Categorical, DesignSpace, Integer, Ordinal

from .dataflows import DATAFLOWS

PE_DIMS: tuple[int, ...] = (4, 8, 12, 14, 16, 24, 32, 48, 64, 128)
GLB_KIB: tuple[int, ...] = (16, 32, 64, 108, 128, 256, 512, 1024, 2048, 4096)
DRAM_GBPS: tuple[float, ...] = (6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
CLOCK_MHZ: tuple[int, ...] = (200, 400, 600, 800, 1000, 1200, 1600, 2000)
PRECISION_BITS: tuple[int, ...] = (8, 16, 32)


def accelerator_design_space() -> DesignSpace:
    """Knobs: dataflow, PE array rows x cols, RF bytes per PE, global buffer KiB, NoC
    bytes/cycle, DRAM GB/s, clock MHz and data precision (bits)."""
    return DesignSpace(
        [
            Categorical("dataflow", DATAFLOWS),
            Ordinal("pe_rows", PE_DIMS),
            Ordinal("pe_cols", PE_DIMS),
            Integer("rf_bytes", 16, 1024, log2=True),
            Ordinal("glb_kib", GLB_KIB),
            Integer("noc_bw", 8, 512, log2=True),
            Ordinal("dram_bw", DRAM_GBPS),
            Ordinal("clock_mhz", CLOCK_MHZ),
            Ordinal("precision_bits", PRECISION_BITS),
        ]
    )


#: an Eyeriss-like design (Chen et al., JSSC 2017: 12 x 14 PEs, 0.5 kB RF per PE, 108 kB
#: global buffer, 16-bit, 200 MHz); NoC and DRAM bandwidth are our choice
EYERISS_LIKE: dict = dict(
    dataflow="rs",
    pe_rows=12,
    pe_cols=14,
    rf_bytes=512,
    glb_kib=108,
    noc_bw=64,
    dram_bw=25.6,
    clock_mhz=200,
    precision_bits=16,
)
