"""``AcceleratorSimulator``: the analytical DNN-accelerator model behind the Simulator protocol."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import torch

from archgym.design_space import check_design_fields
from archgym.errors import InvalidDesignError, SimulationError
from archgym.simulator import Metric, Metrics, PreparedWorkload, Simulator

from .architecture import Architecture
from .hierarchy_model import check_mapper_objective, evaluate_batch
from .hierarchy_model import evaluate_layers as evaluate_hierarchy
from .model import DESIGN_FIELDS, AcceleratorModel, InfeasibleDesignError, ModelResult, design_matrix
from .networks import Workload, as_workload
from .technology import DEFAULT_TECHNOLOGY, Technology
from .templates import template_architecture

#: the two cost models of a 9-knob design (see the class docstring)
MODELS: tuple[str, ...] = ("template", "hierarchy")

METRICS: tuple[Metric, ...] = (
    Metric("latency_ms", "ms", "lower", 10.0, "inference latency of the whole workload"),
    Metric("latency_cycles", "cycles", "lower", 1e7, "inference latency in clock cycles"),
    Metric("energy_uj", "uJ", "lower", 1e4, "total energy: DRAM + buffer + NoC + RF + MAC"),
    Metric("edp", "uJ*ms", "lower", 1e5, "energy-delay product"),
    Metric("area_mm2", "mm^2", "lower", 10.0, "PE array + RFs + global buffer + NoC (45 nm)"),
    Metric("utilization", "1", "higher", 0.5, "MACs / (cycles x PEs)"),
    Metric("dram_mb", "MB", "lower", 100.0, "DRAM traffic"),
    Metric("energy_dram_pj", "pJ", "lower", 1e10, "DRAM access energy"),
    Metric("energy_glb_pj", "pJ", "lower", 1e9, "global-buffer access energy"),
    Metric("energy_noc_pj", "pJ", "lower", 1e9, "network-on-chip (array) energy"),
    Metric("energy_rf_pj", "pJ", "lower", 1e9, "register-file access energy"),
    Metric("energy_mac_pj", "pJ", "lower", 1e9, "multiply-accumulate energy"),
)


#: design fields that count things (PEs, bytes, bytes per cycle, bits): whole numbers >= 1
COUNT_FIELDS: tuple[str, ...] = ("pe_rows", "pe_cols", "rf_bytes", "noc_bw", "precision_bits")


def network_totals(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Whole-network sums of :meth:`AcceleratorSimulator.evaluate_layers` records."""
    keys = [k for k in records[0] if k != "name" and k != "utilization" and "utilization" not in k]
    tot = {k: float(sum(float(r[k]) for r in records)) for k in keys}
    return tot


def _sum_layers(per_layer: np.ndarray) -> np.ndarray:
    """Row sums of a ``(designs, layers)`` array, in the same order whatever the batch holds.

    The batch arrays are strided views (layers outermost); numpy sums such a view by adding
    whole columns in turn when it has several rows but pairwise along the row when it has one,
    so a design's total differed in the last bit with the batch's size. A contiguous copy is
    summed pairwise along every row alike, so a design's metrics do not depend on its batch.
    """
    return np.ascontiguousarray(per_layer).sum(axis=1)


class AcceleratorSimulator(Simulator[Workload]):
    """Analytical model of a 2-D PE-array DNN accelerator (four dataflows, built-in mapper).

    Args:
        device: ``"cpu"`` or ``"cuda"``: where the vectorised model runs.
        technology: per-access energies and component areas.
        cpu_threads: torch intra-op threads while the model runs on the CPU (restored after
            each call). The model's tensors are small, so threading costs more than it
            gains, especially on a loaded machine: the default is 1. ``None`` leaves torch's
            setting alone.
        ws_im2col: the ws and is templates fill spare PE rows with filter dimensions after
            the input channels (im2col); ``False`` unrolls input channels only.
        rf_port_stalls: the array waits on its register files' ports (one read and one
            write port per PE's RF holding all three operands), as the hierarchy model and
            ZigZag find for this template; latency then tracks theirs (about 2x the
            roofline on convolutions). Off by default: it halves the Eyeriss-like design's
            utilisation below the chip's measured ~0.69 (see the README).
        model: ``"template"`` (default): the vectorised four-template model, millions of
            layer evaluations a second; ``"hierarchy"``: each design is built as an
            :class:`~.architecture.Architecture` (:func:`~.templates.template_architecture`)
            and costed by the compiled hierarchy model, with its own loop-order search,
            per-port stalls, on/off-loading and drain -- the model checked against ZigZag
            (about 1.0x its latency and energy), some thousand layer evaluations a second.
            It has no separate interconnect energy (``energy_noc_pj`` is 0, as in ZigZag);
            area is the template model's.
        mapper_objective: what the hierarchy model's mapper minimises, as ZigZag's ``opt``:
            ``"latency"`` (default), ``"energy"`` or ``"edp"`` (see
            :func:`~.hierarchy_model.evaluate_layers`); used by ``evaluate``,
            ``evaluate_many`` and ``evaluate_layers`` (also for general
            :class:`~.architecture.Architecture` descriptions). The template model has its
            own DRAM-traffic mapper: with ``model="template"`` only ``"latency"`` is accepted.

    The workload is a :class:`~.networks.Workload`, a registered name (``"resnet50"``) or a
    list of :class:`~.layers.Layer` (e.g. from :func:`~.tracing.trace_layers`).
    """

    metrics = METRICS
    version = "archgym-accelerator-model 0.1 (45nm: Horowitz ISSCC'14 + Eyeriss ISCA'16 ratios)"

    def __init__(
        self,
        device: str | torch.device = "cpu",
        technology: Technology = DEFAULT_TECHNOLOGY,
        cpu_threads: int | None = 1,
        ws_im2col: bool = True,
        rf_port_stalls: bool = False,
        model: str = "template",
        mapper_objective: str = "latency",
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
        self.mapper_objective = check_mapper_objective(mapper_objective)
        if mapper_objective != "latency" and model != "hierarchy":
            raise ValueError("mapper_objective applies to the hierarchy model: also set model='hierarchy'")
        if rf_port_stalls and model != "template":
            raise ValueError(
                "rf_port_stalls applies to the template model (the hierarchy model has port stalls)"
            )
        self.model = AcceleratorModel(technology, device, ws_im2col, rf_port_stalls)
        self.model_kind = model
        self.technology = technology
        self.ws_im2col = ws_im2col
        self.cpu_threads = cpu_threads
        if model == "hierarchy":  # different results: say so in every row's provenance
            self.version = (
                "archgym-accelerator hierarchy model 0.2 (9-knob template; compiled mapper, port stalls)"
            )
            if mapper_objective != "latency":
                self.version += f" mapper={mapper_objective}"
        elif rf_port_stalls:
            self.version = f"{type(self).version} +rf-port-stalls"

    def prepare(self, workload: object) -> PreparedWorkload[Workload]:
        """A registered name, a :class:`~.networks.Workload` or a list of layers as a
        :class:`~.networks.Workload`, once (an unknown name raises ``UnknownWorkloadError``)."""
        wl = as_workload(cast(Any, workload))
        return PreparedWorkload(wl, wl.name, workload, (wl.name, wl.layers))

    @contextmanager
    def _threads(self) -> Iterator[None]:
        if self.cpu_threads is None or self.model.device.type != "cpu":
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(int(self.cpu_threads))
        try:
            yield
        finally:
            torch.set_num_threads(before)

    @staticmethod
    def _matrix(designs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Designs -> the model's matrix, refusing a missing or extra key, a non-finite value and
        a non-integral count (PEs, bytes, bits) instead of computing NaN metrics from it."""
        for i, d in enumerate(designs):
            try:
                check_design_fields(
                    d, DESIGN_FIELDS, counts=COUNT_FIELDS, numbers=DESIGN_FIELDS[1:], where=f"design {i}"
                )
            except InvalidDesignError as exc:
                raise SimulationError(str(exc)) from None
        try:
            return design_matrix(designs)
        except (TypeError, ValueError) as exc:
            raise SimulationError(str(exc)) from None

    def run(self, designs: Sequence[Mapping[str, Any]], workload: Workload) -> ModelResult:
        """Full per-layer result of the template model for a batch of designs (analysis, tests)."""
        if self.model_kind != "template":
            raise ValueError(
                "run() returns the template model's tensors; with model='hierarchy' use "
                "evaluate_arrays (network metrics) or evaluate_layers (per-layer records)"
            )
        wl = self.workload_data(workload)
        try:
            with self._threads():
                return self.model.evaluate(
                    self._matrix(designs), wl.arrays, key=f"{wl.name}:{hash(wl.layers)}"
                )
        except InfeasibleDesignError as exc:
            raise SimulationError(str(exc)) from None

    def evaluate_arrays(
        self, designs: Sequence[Mapping[str, Any]], workload: Workload
    ) -> dict[str, np.ndarray]:
        """Network metrics as ``{name: (B,) array}`` (the fastest batch form)."""
        if self.model_kind == "hierarchy":
            return self._hierarchy_arrays(designs, self.workload_data(workload))
        return self.run(designs, workload).network_metrics()

    def _architectures(self, designs: Sequence[Mapping[str, Any]]) -> list[Architecture]:
        return [template_architecture(d, self.technology, im2col=self.ws_im2col) for d in designs]

    def _hierarchy_arrays(self, designs: Sequence[Mapping[str, Any]], wl: Workload) -> dict[str, np.ndarray]:
        matrix = self._matrix(designs)
        if not len(designs):
            return {m.name: np.zeros(0) for m in self.metrics}
        archs = self._architectures(designs)
        costs = evaluate_batch(archs, wl.layers, mapper_objective=self.mapper_objective)
        sc = costs.scalars
        names = [m.name for m in archs[0].memories]  # rf, glb, dram: one template, one layout
        level_e = {n: _sum_layers(costs.level_energy_pj[:, :, i]) for i, n in enumerate(names)}
        dram = names.index("dram")
        dram_words = _sum_layers(costs.reads[:, :, dram] + costs.writes[:, :, dram])
        dram_word_bits = np.array([a.memories[dram].ports[0].bw_max for a in archs])
        cycles = _sum_layers(sc["latency_cycles"])
        clock = matrix[:, DESIGN_FIELDS.index("clock_mhz")]
        latency_ms = cycles / (clock * 1e3)
        mac_e = _sum_layers(sc["mac_energy_pj"])
        energy_pj = _sum_layers(sc["energy_pj"])
        macs = float(sum(layer.macs for layer in wl.layers))
        pes = np.array([a.array.units for a in archs], dtype=np.float64)
        return {
            "latency_ms": latency_ms,
            "latency_cycles": cycles,
            "energy_uj": energy_pj * 1e-6,
            "edp": energy_pj * 1e-6 * latency_ms,
            "area_mm2": self.model.area_mm2(matrix),
            "utilization": macs / (cycles * pes),
            "dram_mb": dram_words * dram_word_bits / 8 / 1e6,
            "energy_dram_pj": level_e["dram"],
            "energy_glb_pj": level_e["glb"],
            "energy_noc_pj": np.zeros(len(designs)),
            "energy_rf_pj": level_e["rf"],
            "energy_mac_pj": mac_e,
        }

    def evaluate(self, design: Mapping[str, Any], workload: Workload) -> Metrics:
        return self.evaluate_many([design], workload)[0]

    def evaluate_layers(
        self, architecture: Architecture | Mapping[str, Any], workload: Workload
    ) -> list[dict[str, Any]]:
        """One record per layer: ``name``, ``latency_cycles``, ``energy_pj``, ``macs``,
        ``utilization`` and per memory level ``accesses_<level>`` / ``energy_<level>_pj``.

        ``architecture`` is a general :class:`~.architecture.Architecture` (evaluated by the
        hierarchy model with stalls, :mod:`.hierarchy_model`), or a design of the 9-knob space
        (evaluated by this simulator's ``model``: the template model by default, or the
        hierarchy model on the design's template architecture). Either way the network
        metrics are the sums of these records (:func:`network_totals`).
        """
        wl = self.workload_data(workload)
        if not isinstance(architecture, Architecture) and self.model_kind == "hierarchy":
            self._matrix([architecture])
            architecture = self._architectures([architecture])[0]
        if isinstance(architecture, Architecture):
            try:
                costs = evaluate_hierarchy(architecture, wl.layers, mapper_objective=self.mapper_objective)
            except (ValueError, ZeroDivisionError) as exc:
                raise SimulationError(f"architecture {architecture.name!r}: {exc}") from None
            clock = architecture.clock_mhz
            return [dict(c.record(), latency_ms=c.latency_cycles / (clock * 1e3)) for c in costs]
        res = self.run([architecture], wl)
        cyc = res.layer_cycles[0].tolist()
        lat = res.layer_latency_ms[0].tolist()
        e_tot = res.layer_energy_pj[0].tolist()
        util = res.layer_utilization[0].tolist()
        acc = {k: v[0].tolist() for k, v in res.layer_accesses.items()}
        en = {k: v[0].tolist() for k, v in res.layer_energy.items()}
        out = []
        for i, layer in enumerate(wl.layers):
            rec: dict[str, Any] = {
                "name": layer.name,
                "macs": float(layer.macs),
                "latency_cycles": cyc[i],
                "latency_ms": lat[i],
                "energy_pj": e_tot[i],
                "utilization": util[i],
            }
            for level in acc:
                rec[f"accesses_{level}"] = acc[level][i]
                rec[f"energy_{level}_pj"] = en[level][i]
            out.append(rec)
        return out

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Workload) -> list[Metrics]:
        if not designs:
            return []
        cols = self.evaluate_arrays(designs, workload)
        names = self.metric_names
        table = np.stack([cols[n] for n in names], axis=1)
        return [dict(zip(names, map(float, row))) for row in table]
