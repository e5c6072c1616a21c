"""``DRAMSimulator``: the DRAM memory-controller simulator behind the DRAM environment.

It decodes a trace with the address mapping, encodes a design into the kernel's integer
codes, runs the compiled event-driven core (:mod:`.controller`) and turns the cycle counts into
metrics in the units their names say.

Latency is counted as DRAMSys and Ramulator count it: per request from the cycle the channel
controller accepts it into its scheduler buffer to the cycle its last data beat leaves the
controller (reads: RD + CL + BL/2 when nothing waits; writes: WR + CWL + BL/2; later when the
response queue holds it back to restore order). It includes queueing in the scheduler, DRAM
timing and response reordering. The time a request waited before that, from its arrival in the
trace until the controller accepted it (arbiter, full buffers, the one-cycle forward
arbitration), is reported apart as ``avg_backpressure_ns``; a design that cannot keep up with
the trace shows it growing while the latency stays bounded by the buffer depth. What the
workload sees end to end is back-pressure + latency + one cycle of backward arbitration
(``ARBITRATION_DELAY_CYCLES``). Arrival times are rounded up to the device clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from archgym.errors import ConfigError, InvalidDesignError, InvalidWorkloadError, SimulationError
from archgym.simulator import Metric, PreparedWorkload, Simulator

from . import controller as K
from .address_mapping import AddressMapping
from .devices import DRAMDevice, get_device
from .power import EnergyBreakdown, channel_energy
from .space import EXTENDED_DEFAULTS, simulator_design_space
from .traces import Trace
from .workloads import load_workload

__version__ = "1.0"

#: controller fixed overhead: cycles spent in forward and in backward arbitration
ARBITRATION_DELAY_CYCLES = (1, 1)

METRICS: tuple[Metric, ...] = (
    Metric(
        "avg_read_latency_ns", "ns", "lower", 50.0, "mean read latency, controller accept to last data beat"
    ),
    Metric("p99_read_latency_ns", "ns", "lower", 200.0, "99th percentile read latency"),
    Metric("avg_latency_ns", "ns", "lower", 50.0, "mean latency over reads and writes"),
    Metric("avg_backpressure_ns", "ns", "lower", 50.0, "mean wait from trace arrival to controller accept"),
    Metric("bandwidth_gbps", "GB/s", "higher", 10.0, "bytes moved / (last response - first arrival)"),
    Metric("bandwidth_fraction", "1", "higher", 0.5, "achieved bandwidth / channel peak"),
    Metric("row_hit_rate", "1", "higher", 0.5, "requests served from an open row / requests"),
    Metric("activates_per_request", "1", "lower", 0.5, "ACT commands / requests"),
    Metric("turnarounds_per_request", "1", "lower", 0.1, "read/write data-bus turnarounds / requests"),
    Metric("energy_nj", "nJ", "lower", 1e5, "DRAM energy over the simulated window (IDD model)"),
    Metric("power_mw", "mW", "lower", 1000.0, "average DRAM power over the simulated window"),
    Metric("energy_per_bit_pj", "pJ/bit", "lower", 20.0, "energy / bits moved"),
)


@dataclass(frozen=True, eq=False)
class DecodedTrace:
    """A trace as the kernel reads it (what :meth:`DRAMSimulator.prepare` makes, once per env):
    arrival cycle, channel, bank (within the channel), row and direction of every request."""

    trace: Trace
    arrival: np.ndarray
    channel: np.ndarray
    bank: np.ndarray
    row: np.ndarray
    is_write: np.ndarray


@dataclass(frozen=True)
class SimResult:
    """Everything one simulation produced (metrics plus raw counts for analysis and tests).

    ``latency_ns`` is per request (accept to last data beat), ``backpressure_ns`` the wait
    before the accept, ``response_ns`` when the response reached the initiator.
    """

    metrics: dict[str, float]
    latency_ns: np.ndarray
    backpressure_ns: np.ndarray
    response_ns: np.ndarray
    is_write: np.ndarray
    counts: dict[str, int]
    energy: EnergyBreakdown


class DRAMSimulator(Simulator[DecodedTrace]):
    """Trace-driven DRAM channel + memory-controller simulator.

    Args:
        device: a :class:`DRAMDevice` or its name (``"DDR4-2400"``, ``"DDR3-1600"``,
            ``"DDR5-4800"``, ``"LPDDR4-3200"``).
        address_mapping: mapping string (see :mod:`.address_mapping`); the device default if None
            (with ``Ra`` after ``Ro`` when there are several ranks).
        channels: number of identical channels (the mapping must then contain ``Ch``).
        ranks: ranks per channel (1, 2 or 4; the mapping must then contain ``Ra``).
    """

    metrics = METRICS

    def __init__(
        self,
        device: str | DRAMDevice = "DDR4-2400",
        address_mapping: str | None = None,
        channels: int = 1,
        ranks: int = 1,
    ) -> None:
        self.device = get_device(device)
        self.channels = int(channels)
        self.ranks = int(ranks)
        if self.ranks not in (1, 2, 4):
            raise ConfigError(f"ranks must be 1, 2 or 4, got {ranks!r}")
        spec = address_mapping or self.device.default_mapping
        if address_mapping is None and self.ranks > 1:
            spec = "RoRa" + spec[2:] if spec.startswith("Ro") else "Ra" + spec
        self.mapping = AddressMapping.parse(spec, self.device, self.channels, self.ranks)
        self.space = simulator_design_space()  # every value of every encoding and space
        self.version = (
            f"archgym-dram {__version__} {self.device.name} map={self.mapping.spec} ch={self.channels}"
            + (f" ranks={self.ranks}" if self.ranks > 1 else "")
        )
        d, t = self.device, self.device.timings
        self._tim = np.zeros(K.N_TIM, np.int64)
        for idx, name in enumerate(K.TIMING_ORDER):
            self._tim[idx] = t[name]
        self._tim[K.T_BURST] = d.burst_cycles
        self._tim[K.T_DFW], self._tim[K.T_DBW] = ARBITRATION_DELAY_CYCLES
        self._geo = np.array([self.channels, d.banks, d.banks_per_group, self.ranks], np.int64)

    def __repr__(self) -> str:
        return f"DRAMSimulator({self.version!r})"

    # ----------------------------------------------------------------- encoding
    def encode_design(self, design: Mapping[str, Any]) -> np.ndarray:
        """Validate a design and return the kernel's config vector.

        The ten standard knobs must all be given; the six knobs of the extended space
        (:data:`~.space.EXTENDED_DEFAULTS`) all or none: without them the controller is the
        standard one (oldest-first command mux, no watermarks, no row-hit cap, no power-down).
        Nothing else is filled in, no key may be unknown, and each value must be one the design
        space allows (no NaN, no truncated floats).

        Raises:
            InvalidDesignError: naming the missing, unknown or invalid parameter.
        """
        extended = [k for k in EXTENDED_DEFAULTS if k in design]
        if extended and len(extended) < len(EXTENDED_DEFAULTS):
            missing = ", ".join(k for k in EXTENDED_DEFAULTS if k not in design)
            raise InvalidDesignError(
                f"design gives extended knob(s) {', '.join(extended)} but not {missing}: "
                "give all six extended knobs or none"
            )
        d = self.space.validate(design if extended else {**design, **EXTENDED_DEFAULTS})
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
        cfg[K.C_CMDMUX] = K.CMDMUX_CODES[d["cmd_mux"]]
        cfg[K.C_HIGHWM] = d["high_watermark"]
        cfg[K.C_LOWWM] = d["low_watermark"]
        cfg[K.C_HITCAP] = d["row_hit_cap"]
        cfg[K.C_PD] = K.POWERDOWN_CODES[d["power_down"]]
        cfg[K.C_PDTIMEOUT] = d["power_down_timeout"]
        return cfg

    def prepare(self, workload: object) -> PreparedWorkload[DecodedTrace]:
        """Resolve a workload (a :class:`Trace`, standard name, generator spec or file), check it
        and decode it with this simulator's address mapping, once.

        Raises:
            InvalidWorkloadError: the trace has no requests (an empty file, or only comments).
        """
        if isinstance(workload, DecodedTrace):  # already decoded (by this simulator's mapping)
            return PreparedWorkload(workload, workload.trace.name, workload.trace)
        trace = workload if isinstance(workload, Trace) else load_workload(cast(str, workload))
        if len(trace) == 0:
            raise InvalidWorkloadError(
                f"workload {trace.name!r} has no requests (an empty trace, or one with only comments): "
                "nothing to simulate"
            )
        content = (trace.time_ns, trace.address, trace.is_write)
        return PreparedWorkload(self.decode_trace(trace), trace.name, trace, content)

    def decode_trace(self, trace: Trace) -> DecodedTrace:
        """Kernel inputs of a trace: arrival cycle, channel, bank (within the channel), row, is_write."""
        d = self.device
        channel, bank, row = self.mapping.decode_channel_bank_row(
            trace.address, d.bank_groups, d.banks_per_group
        )
        arrival = np.ceil(trace.time_ns / d.tck_ns - 1e-9).astype(np.int64)
        return DecodedTrace(trace, arrival, channel, bank, row, np.ascontiguousarray(trace.is_write))

    # --------------------------------------------------------------- simulation
    def simulate(self, design: Mapping[str, Any], workload: DecodedTrace) -> SimResult:
        """Run one design on a decoded trace (a raw workload is prepared first: see :meth:`prepare`)."""
        cfg = self.encode_design(design)
        w = self.workload_data(workload)
        _t_send, t_acc, t_resp, _t_cas, stats = K.run_kernel(
            w.arrival, w.channel, w.bank, w.row, w.is_write, cfg, self._geo, self._tim
        )
        if stats[K.S_ERR]:
            raise SimulationError(
                f"controller deadlock on {w.trace.name!r} with design {dict(design)} (simulator bug)"
            )
        return self._result(w.trace, w.arrival, t_acc, t_resp, stats)

    def _result(
        self, trace: Trace, arrival: np.ndarray, t_acc: np.ndarray, t_resp: np.ndarray, stats: np.ndarray
    ) -> SimResult:
        d = self.device
        tck = d.tck_ns
        lat = (t_resp - ARBITRATION_DELAY_CYCLES[1] - t_acc).astype(np.float64) * tck
        backpressure = (t_acc - arrival).astype(np.float64) * tck
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
            ranks=self.ranks,
            powerdown_active_cycles=int(stats[K.S_PDA]),
            powerdown_precharged_cycles=int(stats[K.S_PDP]),
        )
        metrics = {
            "avg_read_latency_ns": float(rl.mean()),
            "p99_read_latency_ns": float(np.percentile(rl, 99)),
            "avg_latency_ns": float(lat.mean()),
            "avg_backpressure_ns": float(backpressure.mean()),
            "bandwidth_gbps": float(bw),
            "bandwidth_fraction": float(bw / (d.peak_bandwidth_gbps * self.channels)),
            "row_hit_rate": float(stats[K.S_HIT]) / n,
            "activates_per_request": n_act / n,
            "turnarounds_per_request": float(stats[K.S_TURN]) / n,
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
            "row_hits": int(stats[K.S_HIT]),
            "row_misses": int(stats[K.S_MISS]),
            "row_conflicts": int(stats[K.S_CONF]),
            "powerdown_active_cycles": int(stats[K.S_PDA]),
            "powerdown_precharged_cycles": int(stats[K.S_PDP]),
            "powerdowns": int(stats[K.S_PDN]),
            "rank_switches": int(stats[K.S_RANKSW]),
        }
        return SimResult(
            metrics, lat, backpressure, t_resp.astype(np.float64) * tck, np.asarray(w), counts, energy
        )

    def evaluate(self, design: Mapping[str, Any], workload: DecodedTrace) -> dict[str, float]:
        """Metrics of one design on a decoded trace."""
        return self.simulate(design, workload).metrics

    def evaluate_many(
        self, designs: Sequence[Mapping[str, Any]], workload: DecodedTrace
    ) -> list[dict[str, float]]:
        """Metrics of several designs on a decoded trace (a raw workload is decoded once)."""
        decoded = self.workload_data(workload)
        return [self.simulate(d, decoded).metrics for d in designs]
