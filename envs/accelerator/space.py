"""The accelerator design space.

The tiling is **not** a knob: the built-in mapper (:mod:`.mapper`) picks the best legal
buffer tiling and loop order per layer, and the dataflow template fixes the spatial
unrolling, so every point of this space is a complete, legal design.
"""

from __future__ import annotations

from archgym.design_space import Categorical, DesignSpace, Integer, Ordinal

#: the dataflow templates (the ``dataflow`` knob); :mod:`.dataflows` holds their reuse models
DATAFLOWS: tuple[str, ...] = ("ws", "os", "rs", "is")

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


#: words per per-PE scratchpad (ArchGym's Timeloop space: memory_depth 2 ... 65536 per spad)
SPAD_WORDS: tuple[int, ...] = tuple(2**i for i in range(1, 13))
#: words per access (Timeloop's block-size) and words per cycle (read/write bandwidth)
BLOCK_WORDS: tuple[int, ...] = (1, 2, 4)
SPAD_BW_WORDS: tuple[int, ...] = (1, 2, 4, 8)
#: the optional per-column buffer between the scratchpads and the global buffer (0: none)
COLUMN_BUFFER_KIB: tuple[float, ...] = (0, 0.5, 1, 2, 4, 8, 16, 32)
COLUMN_BUFFER_OPERANDS: tuple[str, ...] = ("W", "I", "O", "WI", "IO", "WIO")
GLB_BANKS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
WEIGHT_BITS: tuple[int, ...] = (4, 8, 16)
ACT_BITS: tuple[int, ...] = (8, 16, 32)


def extended_design_space() -> DesignSpace:
    """A Timeloop-sized space (``space="extended"``): 26 knobs, a superset of the kinds of
    ArchGym's Timeloop space (Krishnan et al., ISCA 2023: PEs and mesh, per-operand
    scratchpads' depth, block size and read/write bandwidth, a dummy buffer, the shared
    buffer's depth, banks, block size and bandwidth).

    Knobs: dataflow; PE rows x cols; per operand (``w``, ``i``, ``o``) a per-PE scratchpad's
    ``*_spad_words``, ``*_spad_block`` (words per access: the word width), ``*_spad_rd`` /
    ``*_spad_wr`` (words a cycle); a per-column buffer (``col_buf_kib``, 0 = none: three or
    four memory levels) with the operands it holds and its block; the global buffer's
    ``glb_kib``, ``glb_banks`` and ``glb_block``; NoC bytes a cycle, DRAM GB/s, clock MHz,
    weight and activation bits. Built by :func:`~.templates.extended_architecture`.
    """
    per_operand = [
        p
        for op in ("w", "i", "o")
        for p in (
            Ordinal(f"{op}_spad_words", SPAD_WORDS),
            Ordinal(f"{op}_spad_block", BLOCK_WORDS),
            Ordinal(f"{op}_spad_rd", SPAD_BW_WORDS),
            Ordinal(f"{op}_spad_wr", SPAD_BW_WORDS),
        )
    ]
    return DesignSpace(
        [
            Categorical("dataflow", DATAFLOWS),
            Ordinal("pe_rows", PE_DIMS),
            Ordinal("pe_cols", PE_DIMS),
            *per_operand,
            Ordinal("col_buf_kib", COLUMN_BUFFER_KIB),
            Categorical("col_buf_operands", COLUMN_BUFFER_OPERANDS),
            Ordinal("col_buf_block", BLOCK_WORDS),
            Ordinal("glb_kib", GLB_KIB),
            Ordinal("glb_banks", GLB_BANKS),
            Ordinal("glb_block", BLOCK_WORDS),
            Integer("noc_bw", 8, 512, log2=True),
            Ordinal("dram_bw", DRAM_GBPS),
            Ordinal("clock_mhz", CLOCK_MHZ),
            Ordinal("weight_bits", WEIGHT_BITS),
            Ordinal("act_bits", ACT_BITS),
        ]
    )


#: the Eyeriss-like design in the extended space: Eyeriss's per-PE spads (Chen et al., JSSC
#: 2017: 12 x 16-bit inputs, 224 x 16-bit weights, 24 x 16-bit partial sums; we round the
#: depths to powers of two), no column buffer, a 108 KiB global buffer (25 banks on the chip;
#: 32 here)
EYERISS_LIKE_EXTENDED: dict = dict(
    dataflow="rs",
    pe_rows=12,
    pe_cols=14,
    w_spad_words=256,
    w_spad_block=1,
    w_spad_rd=1,
    w_spad_wr=1,
    i_spad_words=16,
    i_spad_block=1,
    i_spad_rd=1,
    i_spad_wr=1,
    o_spad_words=32,
    o_spad_block=1,
    o_spad_rd=1,
    o_spad_wr=1,
    col_buf_kib=0,
    col_buf_operands="I",
    col_buf_block=1,
    glb_kib=108,
    glb_banks=32,
    glb_block=4,
    noc_bw=64,
    dram_bw=25.6,
    clock_mhz=200,
    weight_bits=16,
    act_bits=16,
)
