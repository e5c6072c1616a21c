"""Energy, cycles, clock period and area of an SRAM in-memory-compute (IMC) macro.

The model is the one of Houshmand, Sun, Verhelst, "Benchmarking and modeling of analog and
digital SRAM in-memory computing architectures" (arXiv 2305.18335, 2023) and Sun, Houshmand,
Verhelst, "Analog or digital in-memory computing? Benchmarking through quantitative
modeling" (ICCAD 2023, arXiv 2405.14978), as the IMC extension of ZigZag (zigzag-dse 3.9.1,
``hardware/architecture/imc_array.py``) implements it; rewritten here from its equations,
which agree with ZigZag's to 1e-12 on the bundled aimc/dimc macros and variants of them:

* The macro is ``rows x cols`` weights (times ``banks`` macros). Weights stay in the cells;
  an input enters each row and every column of a row multiplies it; the products of a
  column are summed over the rows. Inputs are fed **bit-serially**, ``serial_bits`` per
  cycle, so one MAC takes ``input_bits / serial_bits`` macro cycles.
* **Analog IMC (AIMC)**: per cycle a DAC per active row (``serial_bits`` > 1 only), a 1-bit
  multiplier per weight bit, the charge sum on the bitlines of each weight bit, an ADC per
  bitline of each active column (``weight_bits`` per column), a place-value adder tree
  combining the ``weight_bits`` ADC outputs, and a shift-accumulator over the serial cycles.
* **Digital IMC (DIMC)**: per cycle ``serial_bits x weight_bits`` 1-bit multipliers per
  weight (the whole macro toggles), a ripple-carry adder tree per column and serial bit
  summing the active rows (only its active part toggles fully), a place-value tree over the
  serial bits, and the shift-accumulator.
* Gate-level constants are those of the papers' 28 nm model: a NAND2 gate of 0.7 fF and
  0.614 um^2 switching in 47.8 ps, XOR2 = 1.5x its capacitance and 2.4x its area and
  delay, D flip-flop = 3x its capacitance and 6x its area, a cell's word- and bitline load
  half a NAND2, VDD 0.9 V; a full adder is 3 NAND2 + 2 XOR2 (2 XOR2 when one input is idle);
  a 1-bit multiplier is one NOR (= NAND2) of which half toggles (the weight is static).
  ADC: energy ``(100 fF x b + 0.001 fF x 4^b) VDD^2``, delay ``b (6.53 ps x rows + 0.64 ns)``,
  area ``10^(1.206 - 0.0369 b) 2^b um^2`` for ``b`` bits (fitted on three published 28 nm
  AIMC designs); DAC energy ``50 fF x serial_bits x VDD^2``, its area and delay neglected.

What is left out: the pre-charge of local bitlines when a cell group holds several weights
(``cell_bits > weight_bits``; the bundled ZigZag macros hold one) and cell read/write
energy, which the hardware file gives as the ``cells`` memory level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from archgym.errors import InputFormatError

# 28 nm gate-level constants of Houshmand et al. 2023 / Sun et al. 2023, in pF / mm^2 / ns
VDD = 0.9
NAND2_PF = 0.7e-3
XOR2_PF = 1.5 * NAND2_PF
DFF_PF = 3 * NAND2_PF
CELL_LINE_PF = NAND2_PF / 2  # word- or bitline load of one SRAM cell
NAND2_MM2 = 0.614e-6
XOR2_MM2 = 2.4 * NAND2_MM2
DFF_MM2 = 6 * NAND2_MM2
NAND2_NS = 0.0478
XOR2_NS = 2.4 * NAND2_NS

FA_PJ = (3 * NAND2_PF + 2 * XOR2_PF) * VDD**2  # one full adder, both inputs active
FA_HALF_PJ = 2 * XOR2_PF * VDD**2  # one input idle: no carry toggles
MULT_PJ = 0.5 * NAND2_PF * VDD**2  # 1-bit multiplier (NOR), weight input static
DFF_PJ = DFF_PF * VDD**2
FA_MM2 = 3 * NAND2_MM2 + 2 * XOR2_MM2
FA_IN2SUM_NS = 2 * XOR2_NS
FA_IN2COUT_NS = XOR2_NS + 2 * NAND2_NS
FA_CIN2COUT_NS = 2 * NAND2_NS


class ImcError(InputFormatError):
    """An IMC macro description that the model cannot cost."""


def _log2_exact(n: float, what: str) -> int:
    d = math.log2(n)
    if d != int(d):
        raise ImcError(f"{what} must be a power of two, got {n}")
    return int(d)


def adder_tree_full_adders(inputs: int, bits: int) -> int:
    """Full adders of a ripple-carry adder tree summing ``inputs`` (a power of two) ``bits``-bit
    words: level ``l`` has ``inputs / 2^l`` adders of ``bits + l - 1`` bits."""
    depth = _log2_exact(inputs, "adder tree inputs")
    return inputs * (bits + 1) - (bits + depth + 1)


def adder_tree_pj(inputs: int, bits: int, active: float) -> float:
    """Energy of one pass through an adder tree of ``inputs`` leaves of which the first
    ``active`` carry data: a subtree with all leaves active toggles fully; an adder joining an
    active and an idle subtree toggles half (no carries)."""
    if active <= 0:
        return 0.0
    if active >= inputs:
        return adder_tree_full_adders(inputs, bits) * FA_PJ
    half = inputs // 2
    width = bits + _log2_exact(half, "adder tree inputs")  # the joining adder's width
    if active > half:
        return (adder_tree_full_adders(half, bits) + width) * FA_PJ + adder_tree_pj(half, bits, active - half)
    if active == half:
        return adder_tree_full_adders(half, bits) * FA_PJ + width * FA_HALF_PJ
    return width * FA_HALF_PJ + adder_tree_pj(half, bits, active)


def _place_value_adders(inputs: int, bits: int) -> float:
    """Full adders of the tree that adds ``inputs`` partial results of ``bits`` bits, each
    shifted by its place value (one per weight bit in AIMC, per serial input bit in DIMC)."""
    if inputs <= 1:
        return 0.0
    return bits * (inputs - 1) + inputs * (_log2_exact(inputs, "place-value tree inputs") - 0.5)


@dataclass(frozen=True)
class ImcMacro:
    """An IMC macro: ``rows`` inputs summed per column, ``cols`` weights per row, ``banks`` copies.

    ``row_dim`` / ``col_dim`` name the array dimensions along the rows (the summed one) and the
    columns; ``cell_area_mm2`` is the area of one weight's cells (given by the hardware file).
    """

    analog: bool
    rows: int
    cols: int
    banks: int
    row_dim: str
    col_dim: str
    input_bits: int
    weight_bits: int
    serial_bits: int
    adc_bits: int = 0
    cell_area_mm2: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rows", "cols", "banks", "input_bits", "weight_bits", "serial_bits"):
            if int(getattr(self, name)) < 1:
                raise ImcError(f"IMC macro: {name} must be >= 1, got {getattr(self, name)}")
        if self.input_bits % self.serial_bits:
            raise ImcError(
                f"IMC macro: input precision {self.input_bits} must be a multiple of the "
                f"bit-serial precision {self.serial_bits}"
            )
        if self.analog and self.adc_bits < 1:
            raise ImcError("IMC macro: an analog macro needs adc_resolution >= 1")
        if not self.analog:
            _log2_exact(self.rows, "IMC rows (adder-tree inputs)")

    # ------------------------------------------------------------------ per component
    @property
    def cycles_per_mac(self) -> float:
        """Macro cycles per MAC: the inputs enter ``serial_bits`` at a time."""
        return self.input_bits / self.serial_bits

    @property
    def _adder_bits(self) -> int:  # DIMC adder-tree output: weight bits + log2(rows)
        return self.weight_bits + _log2_exact(self.rows, "IMC rows")

    @property
    def _pv(self) -> tuple[int, int]:  # place-value tree: (inputs, input bits)
        if self.analog:
            return self.weight_bits, self.adc_bits
        return self.serial_bits, self._adder_bits

    @property
    def _accumulator_bits(self) -> int:
        if self.serial_bits == self.input_bits:
            return 0  # one pass: nothing to accumulate
        headroom = self.adc_bits if self.analog else _log2_exact(self.rows, "IMC rows")
        return self.input_bits + headroom + self.weight_bits

    def adc_pj(self) -> float:
        b = self.adc_bits
        return (100e-3 * b + 1e-6 * 4**b) * VDD**2 if b > 0 else 0.0

    def dac_pj(self) -> float:
        return 50e-3 * self.serial_bits * VDD**2 if self.serial_bits > 1 else 0.0

    def cycle_energy_pj(self, rows_used: float, cols_used: float) -> dict[str, float]:
        """Energy of one macro cycle with ``rows_used`` rows and ``cols_used`` columns mapped."""
        wb = self.weight_bits
        pv_in, pv_bits = self._pv
        out = {
            "dacs": 0.0,
            "adcs": 0.0,
            "mults": 0.0,
            "bitlines": 0.0,
            "adder_trees": 0.0,
            "place_value_adders": _place_value_adders(pv_in, pv_bits) * FA_PJ * cols_used,
            "accumulators": (FA_PJ + DFF_PJ) * self._accumulator_bits * cols_used,
        }
        if self.analog:
            out["dacs"] = self.dac_pj() * rows_used
            out["adcs"] = self.adc_pj() * wb * cols_used
            out["mults"] = MULT_PJ * wb * self.cols * rows_used
            out["bitlines"] = CELL_LINE_PF * VDD**2 * wb * cols_used * self.rows
        else:
            out["mults"] = MULT_PJ * self.serial_bits * wb * self.cols * self.rows
            tree = adder_tree_pj(self.rows, wb, rows_used)
            out["adder_trees"] = tree * self.serial_bits * cols_used
        return out

    def layer_energy_pj(self, macs: float, rows_used: float, cols_used: float) -> float:
        """MAC energy of a layer of ``macs`` MACs unrolled on ``rows_used x cols_used`` of a
        macro: ``macs / (rows_used cols_used)`` activations of ``cycles_per_mac`` cycles each."""
        activations = macs / max(1.0, rows_used * cols_used)
        per_cycle = sum(self.cycle_energy_pj(rows_used, cols_used).values())
        return per_cycle * self.cycles_per_mac * activations

    def peak_pj_per_mac(self) -> float:
        """Energy per MAC with every row and column of the macro in use."""
        return self.layer_energy_pj(float(self.rows * self.cols), self.rows, self.cols) / (
            self.rows * self.cols
        )

    # ------------------------------------------------------------------ clock and area
    def clock_period_ns(self) -> dict[str, float]:
        """The macro's critical path (DAC -> multiply -> ADC or adder tree -> place value ->
        accumulator), per stage, in ns; ripple-carry adders: sum path down the tree, carry
        path along the widest word."""
        out = {
            "adcs": 0.0,
            "mults": NAND2_NS,
            "adder_trees": 0.0,
            "place_value_adders": 0.0,
            "accumulators": 0.0,
        }
        if self.analog:
            out["adcs"] = self.adc_bits * (6.53e-3 * self.rows + 0.640)
        else:
            depth = _log2_exact(self.rows, "IMC rows")
            out["adder_trees"] = (
                (depth - 1) * FA_IN2SUM_NS + FA_IN2COUT_NS + (self._adder_bits - 2) * FA_CIN2COUT_NS
            )
        pv_in, pv_bits = self._pv
        pv_out = pv_bits
        if pv_in > 1:
            pv_out = pv_in + pv_bits
            depth = _log2_exact(pv_in, "place-value tree inputs")
            out["place_value_adders"] = (
                (depth - 1) * FA_IN2SUM_NS + FA_IN2COUT_NS + (pv_out - pv_bits - 1) * FA_CIN2COUT_NS
            )
        if self._accumulator_bits:
            out["accumulators"] = FA_IN2COUT_NS + (self._accumulator_bits - pv_out - 1) * FA_CIN2COUT_NS
        return out

    def area_mm2(self) -> dict[str, float]:
        """Area of the macros (cells, ADCs, multipliers, adders, accumulators; not the I/O registers)."""
        wb, n = self.weight_bits, self.banks
        pv_in, pv_bits = self._pv
        out = {
            "cells": self.cell_area_mm2 * self.rows * self.cols * n,
            "adcs": 0.0,
            "mults": NAND2_MM2 * wb * self.rows * self.cols * n,
            "adder_trees": 0.0,
            "place_value_adders": FA_MM2 * _place_value_adders(pv_in, pv_bits) * self.cols * n,
            "accumulators": (FA_MM2 + DFF_MM2) * self._accumulator_bits * self.cols * n,
        }
        if self.analog:
            b = self.adc_bits
            adc = 10 ** (1.206 - 0.0369 * b) * 2**b * 1e-6 if b > 1 else 0.0
            out["adcs"] = adc * wb * self.cols * n
        else:
            out["mults"] *= self.serial_bits
            trees = self.serial_bits * self.cols * n
            out["adder_trees"] = FA_MM2 * adder_tree_full_adders(self.rows, wb) * trees
        return out


def macro_from_zigzag(operational_array: Mapping[str, Any], cells: Mapping[str, Any] | None) -> ImcMacro:
    """The macro of a ZigZag ``operational_array`` with ``is_imc: True`` (and its ``cells`` memory).

    As in ZigZag, the first array dimension by name runs along the columns (outputs), the
    second along the rows (the summed inputs) and any further ones count macros (banks).
    """
    try:
        names = [str(d) for d in operational_array["dimensions"]]
        sizes = {n: int(s) for n, s in zip(names, operational_array["sizes"])}
        input_bits, weight_bits = (int(p) for p in operational_array["input_precision"])
        serial = int(operational_array["bit_serial_precision"])
        kind = str(operational_array["imc_type"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ImcError(
            f"IMC operational_array needs dimensions, sizes, input_precision [input, weight], "
            f"bit_serial_precision and imc_type ({exc!r})"
        ) from None
    if kind not in ("analog", "digital"):
        raise ImcError(f"IMC operational_array: imc_type must be analog or digital, got {kind!r}")
    if len(names) < 2:
        raise ImcError("IMC operational_array needs at least two dimensions (columns and rows)")
    col_dim, row_dim, *bank_dims = sorted(names)
    return ImcMacro(
        analog=kind == "analog",
        rows=sizes[row_dim],
        cols=sizes[col_dim],
        banks=math.prod(sizes[d] for d in bank_dims),
        row_dim=row_dim,
        col_dim=col_dim,
        input_bits=input_bits,
        weight_bits=weight_bits,
        serial_bits=serial,
        adc_bits=int(operational_array.get("adc_resolution") or 0),
        cell_area_mm2=float((cells or {}).get("area") or 0.0),
    )


def mapped_rows_cols(macro: ImcMacro, unrolling: Mapping[str, Mapping[str, int]]) -> tuple[float, float]:
    """Rows and columns of one macro a spatial unrolling ``{array dim: {layer dim: factor}}`` uses.

    Columns: the product of the column dimension's unrolling. Rows: that of the row
    dimension, except that unrolling output pixels ``OX``/``OY`` on the columns shifts each
    column's window, so a filter dimension ``FX``/``FY`` on the rows then needs
    ``FX + OX - 1`` rows (the diagonal mapping of the ZigZag-IMC papers).
    """
    on_cols = unrolling.get(macro.col_dim, {})
    rows = 1.0
    for ld, u in unrolling.get(macro.row_dim, {}).items():
        shift = {"FX": on_cols.get("OX", 1), "FY": on_cols.get("OY", 1)}.get(ld, 1)
        rows *= u + shift - 1
    return rows, float(math.prod(on_cols.values()))
