"""``DRAMSimulator``: the DRAM memory-controller simulator behind the DRAM environment.

It decodes a trace with the address mapping, encodes a design into the kernel's integer
codes, runs the compiled event-driven core (:mod:`.controller`) and turns the cycle counts into
metrics in the units their names say.

Latency is measured per request from its arrival time in the trace (when the workload
issued it) to the cycle its response reaches the initiator, i.e. what the workload sees. It
includes waiting while the arbiter or a full scheduler buffer holds the initiator back
(back-pressure), queueing in the scheduler, DRAM timing, response reordering and the
controller's fixed overhead of one cycle forward and one cycle backward
(``ARBITRATION_DELAY_CYCLES``). A design that cannot keep up with the trace therefore shows
growing latencies. Arrival times are rounded up to the device clock. For traces without time
stamps (Ramulator format, ``interval_ns=0``) every request arrives at 0, so latency includes
the time spent waiting to be sent; give an ``interval_ns`` for such traces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archgym.simulator import InvalidWorkloadError, Metric, SimulationError, Simulator

from . import controller as K
from .address_mapping import AddressMapping
from .devices import DRAMDevice, get_device
from .power import EnergyBreakdown, channel_energy
from .space import dram_design_space
from .traces import Trace
from .workloads import load_workload

__version__ = "1.0"

#: controller fixed overhead: cycles spent in forward and in backward arbitration
ARBITRATION_DELAY_CYCLES = (1, 1)

METRICS: tuple[Metric, ...] = (
    Metric("avg_read_latency_ns", "ns", "lower", 50.0, "mean read latency, trace arrival to response"),
    Metric("p99_read_latency_ns", "ns", "lower", 200.0, "99th percentile read latency"),
    Metric("avg_latency_ns", "ns", "lower", 50.0, "mean latency over reads and writes"),
    Metric("bandwidth_gbps", "GB/s", "higher", 10.0, "bytes moved / (last response - first arrival)"),
    Metric("bandwidth_fraction", "1", "higher", 0.5, "achieved bandwidth / channel peak"),
    Metric("row_hit_rate", "1", "higher", 0.5, "1 - activates / column accesses"),
    Metric("energy_nj", "nJ", "lower", 1e5, "DRAM energy over the simulated window (IDD model)"),
    Metric("power_mw", "mW", "lower", 1000.0, "average DRAM power over the simulated window"),
    Metric("energy_per_bit_pj", "pJ/bit", "lower", 20.0, "energy / bits moved"),
)


@dataclass(frozen=True)
class SimResult:
    """Everything one simulation produced (metrics plus raw counts for analysis and tests)."""

    metrics: dict[str, float]
    latency_ns: np.ndarray
    response_ns: np.ndarray
    is_write: np.ndarray
    counts: dict[str, int]
    energy: EnergyBreakdown


class DRAMSimulator(Simulator):
    """Trace-driven DRAM channel + memory-controller simulator.

    Args:
        device: a :class:`DRAMDevice` or its name (``"DDR4-2400"``, ``"DDR3-1600"``).
        address_mapping: mapping string (see :mod:`.address_mapping`); the device default if None.
        channels: number of identical channels (the mapping must then contain ``Ch``).
    """

    metrics = METRICS

    def __init__(
        self, device: str | DRAMDevice = "DDR4-2400", address_mapping: str | None = None, channels: int = 1
    ) -> None:
        self.device = get_device(device)
        self.channels = int(channels)
        self.mapping = AddressMapping.parse(
            address_mapping or self.device.default_mapping, self.device, self.channels
        )
        self.space = dram_design_space("linear")  # accepts both encodings' values
        self.version = (
            f"archgym-dram {__version__} {self.device.name} map={self.mapping.spec} ch={self.channels}"
        )
        d, t = self.device, self.device.timings
        self._tim = np.zeros(K.N_TIM, np.int64)
        for idx, name in enumerate(K.TIMING_ORDER):
            self._tim[idx] = t[name]
        self._tim[K.T_BURST] = d.burst_cycles
        self._tim[K.T_DFW], self._tim[K.T_DBW] = ARBITRATION_DELAY_CYCLES
        self._geo = np.array([self.channels, d.banks, d.banks_per_group], np.int64)

    def __repr__(self) -> str:
        return f"DRAMSimulator({self.version!r})"

    # ----------------------------------------------------------------- encoding
    def encode_design(self, design: Mapping[str, Any]) -> np.ndarray:
        """Validate a design and return the kernel's config vector.

        Every parameter must be given (no defaults are filled in), none may be unknown, and each
        value must be one the design space allows (no NaN, no truncated floats).

        Raises:
            InvalidDesignError: naming the missing, unknown or invalid parameter.
        """
        d = self.space.validate(design)
        cfg = np.zeros(K.N_CFG, np.int64)
        cfg[K.C_PAGE] = K.PAGE_CODES[d["page_policy"]]
        cfg[K.C_SCHED] = K.SCHEDULER_CODES[d["scheduler"]]
        cfg[K.C_BUF] = K.BUFFER_CODES[d["scheduler_buffer"]]
        cfg[K.C_RESP] = K.RESPQ_CODES[d["response_queue"]]
        cfg[K.C_REF] = K.REFRESH_CODES[d["refresh_policy"]]
        cfg[K.C_POSTPONE] = d["refresh_max_postponed"]
        cfg[K.C_PULLIN] = d["refresh_max_pulledin"]
        cfg[K.C_ARB] = K.ARBITER_CODES[d["arbiter"]]
        cfg[K.C_BUFSIZE] = d["request_buffer_size"]
        cfg[K.C_MAXACT] = d["max_active_transactions"]
        return cfg

    def resolve_workload(self, workload: Any) -> Trace:
        """The trace of a workload (a :class:`Trace`, standard name, generator spec or file).

        Raises:
            InvalidWorkloadError: the trace has no requests (an empty file, or only comments).
        """
        trace = load_workload(workload) if not isinstance(workload, Trace) else workload
        if len(trace) == 0:
            raise InvalidWorkloadError(
                f"workload {trace.name!r} has no requests (an empty trace, or one with only comments): "
                "nothing to simulate"
            )
        return trace

    def check_workload(self, workload: Any) -> None:
        self.resolve_workload(workload)

    def decode_trace(self, trace: Trace) -> tuple[np.ndarray, ...]:
        """Kernel inputs of a trace: arrival cycle, channel, bank, row, is_write."""
        f = self.mapping.decode(trace.address)
        arrival = np.ceil(trace.time_ns / self.device.tck_ns - 1e-9).astype(np.int64)
        bank = f["bankgroup"] * self.device.banks_per_group + f["bank"]
        return arrival, f["channel"], bank.astype(np.int64), f["row"], np.ascontiguousarray(trace.is_write)

    # --------------------------------------------------------------- simulation
    def simulate(self, design: Mapping[str, Any], workload: Any, _decoded: tuple | None = None) -> SimResult:
        """Run one design on a workload (a :class:`Trace`, standard name, generator spec or file)."""
        cfg = self.encode_design(design)
        trace = self.resolve_workload(workload)
        arrival, chan, bank, row, is_write = _decoded if _decoded is not None else self.decode_trace(trace)
        _t_send, t_resp, _t_cas, stats = K.run_kernel(
            arrival, chan, bank, row, is_write, cfg, self._geo, self._tim
        )
        if stats[K.S_ERR]:
            raise SimulationError(
                f"controller deadlock on {trace.name!r} with design {dict(design)} (simulator bug)"
            )
        return self._result(trace, arrival, t_resp, stats)

    def _result(self, trace: Trace, arrival: np.ndarray, t_resp: np.ndarray, stats: np.ndarray) -> SimResult:
        d = self.device
        tck = d.tck_ns
        lat = (t_resp - arrival).astype(np.float64) * tck
        w = trace.is_write
        rl = lat[~w] if np.any(~w) else lat
        window = int(stats[K.S_TEND] - stats[K.S_TFIRST])
        n = len(trace)
        bytes_moved = n * d.access_bytes
        bw = bytes_moved / (window * tck) if window > 0 else 0.0  # B/ns == GB/s
        n_act = int(stats[K.S_ACT])
        # refreshes postponed past the end of the trace are still owed: charge their energy
        owed = int(stats[K.S_REFOWED])
        unit_refresh = int(stats[K.S_NUNITS]) > 1
        energy = channel_energy(
            d,
            n_act=n_act,
            n_rd=int(stats[K.S_RD]),
            n_wr=int(stats[K.S_WR]),
            n_ref_allbank=int(stats[K.S_REFAB]) + (owed if unit_refresh == 0 else 0),
            n_ref_unit=int(stats[K.S_REFUNIT]) + (owed if unit_refresh else 0),
            refresh_units=int(stats[K.S_NUNITS]),
            active_cycles=int(stats[K.S_ACTIVE]),
            window_cycles=window,
            channels=self.channels,
        )
        metrics = {
            "avg_read_latency_ns": float(rl.mean()),
            "p99_read_latency_ns": float(np.percentile(rl, 99)),
            "avg_latency_ns": float(lat.mean()),
            "bandwidth_gbps": float(bw),
            "bandwidth_fraction": float(bw / (d.peak_bandwidth_gbps * self.channels)),
            "row_hit_rate": float(max(0.0, 1.0 - n_act / n)),
            "energy_nj": float(energy.total_nj),
            "power_mw": float(energy.power_mw),
            "energy_per_bit_pj": float(energy.total_nj * 1e3 / (8 * bytes_moved)),
        }
        counts = {
            "act": n_act,
            "pre": int(stats[K.S_PRE]),
            "auto_pre": int(stats[K.S_APRE]),
            "rd": int(stats[K.S_RD]),
            "wr": int(stats[K.S_WR]),
            "ref_allbank": int(stats[K.S_REFAB]),
            "ref_unit": int(stats[K.S_REFUNIT]),
            "active_cycles": int(stats[K.S_ACTIVE]),
            "window_cycles": window,
            "refresh_bank_cycles": int(stats[K.S_REFBANKCYC]),
            "turnarounds": int(stats[K.S_TURN]),
            "events": int(stats[K.S_EVENTS]),
            "ref_owed": owed,
        }
        return SimResult(metrics, lat, t_resp.astype(np.float64) * tck, np.asarray(w), counts, energy)

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> dict[str, float]:
        """Metrics of one design on a workload."""
        return self.simulate(design, workload).metrics

    def evaluate_many(self, designs: Sequence[Mapping[str, Any]], workload: Any) -> list[dict[str, float]]:
        """Metrics of several designs; the trace is resolved and decoded once."""
        trace = self.resolve_workload(workload)
        decoded = self.decode_trace(trace)
        return [self.simulate(d, trace, _decoded=decoded).metrics for d in designs]
