"""IDD-current power model in the style of DRAMPower and Micron's power calculator.

Energies per device (multiplied by the devices on the channel), from command counts and the
time the channel had at least one bank open or refreshing ("active") versus all banks
precharged, following Micron TN-40-07 (*Calculating Memory Power for DDR4 SDRAM*) and
DRAMPower (Chandrasekar et al., DATE 2013 / DRAMPower v4):

* background: ``VDD * IDD3N`` while active, ``VDD * IDD2N`` while precharged
  (``+ VPP * IPP3N / IPP2N``);
* activate/precharge pair: ``VDD * (IDD0 * tRC - IDD3N * tRAS - IDD2N * (tRC - tRAS))``
  (``+`` the same with IPP on VPP);
* read / write burst: ``VDD * (IDD4R - IDD3N) * tBURST`` / ``VDD * (IDD4W - IDD3N) * tBURST``;
* all-bank refresh: ``VDD * (IDD5B - IDD3N) * tRFC``; a per-bank or same-bank refresh
  refreshes ``1 / units`` of the rows, so it is charged ``1 / units`` of an all-bank refresh;
* power-down: while a rank is powered down its background current is ``IDD3P`` (a bank open,
  active power-down) or ``IDD2P`` (all banks precharged) instead of ``IDD3N`` / ``IDD2N``.

Background is counted per rank (each rank has its own devices). I/O and termination power are
not modelled (DRAMPower's core model does not include them either), nor is self-refresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from .devices import DRAMDevice


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy of one simulation in nJ, and the average power over its window in mW."""

    background_nj: float
    act_pre_nj: float
    read_nj: float
    write_nj: float
    refresh_nj: float
    window_ns: float
    powerdown_saving_nj: float = 0.0

    @property
    def total_nj(self) -> float:
        return self.background_nj + self.act_pre_nj + self.read_nj + self.write_nj + self.refresh_nj

    @property
    def power_mw(self) -> float:
        """Average power: nJ / ns = W, times 1000."""
        return self.total_nj / self.window_ns * 1e3 if self.window_ns > 0 else 0.0


def per_command_energy_nj(device: DRAMDevice) -> dict[str, float]:
    """Channel-level energy (nJ) of one ACT+PRE pair, RD burst, WR burst and all-bank REF."""
    i, tck, nd = device.idd, device.tck_ns, device.n_devices
    tm = device.timings
    trc, tras = tm["RC"] * tck, tm["RAS"] * tck
    tb = device.burst_cycles * tck
    # mA-free: A * V * ns = nJ
    act = device.vdd * (i["IDD0"] * trc - i["IDD3N"] * tras - i["IDD2N"] * (trc - tras))
    act += device.vpp * (i["IPP0"] * trc - i["IPP3N"] * tras - i["IPP2N"] * (trc - tras))
    return {
        "act_pre": nd * act,
        "read": nd * device.vdd * (i["IDD4R"] - i["IDD3N"]) * tb,
        "write": nd * device.vdd * (i["IDD4W"] - i["IDD3N"]) * tb,
        "refresh_allbank": nd * device.vdd * (i["IDD5B"] - i["IDD3N"]) * tm["RFC"] * tck,
    }


def background_power_mw(device: DRAMDevice, active: bool, powered_down: bool = False) -> float:
    """Background power of one rank in mW with a bank open (``active``) or all banks
    precharged, in standby or (``powered_down``) in power-down (VDD rail only)."""
    i, nd = device.idd, device.n_devices
    if powered_down:
        return nd * device.vdd * (i["IDD3P"] if active else i["IDD2P"]) * 1e3
    if active:
        return nd * (device.vdd * i["IDD3N"] + device.vpp * i["IPP3N"]) * 1e3
    return nd * (device.vdd * i["IDD2N"] + device.vpp * i["IPP2N"]) * 1e3


def channel_energy(
    device: DRAMDevice,
    *,
    n_act: int,
    n_rd: int,
    n_wr: int,
    n_ref_allbank: int,
    n_ref_unit: int,
    refresh_units: int,
    active_cycles: int,
    window_cycles: int,
    channels: int = 1,
    ranks: int = 1,
    powerdown_active_cycles: int = 0,
    powerdown_precharged_cycles: int = 0,
) -> EnergyBreakdown:
    """Energy of a simulation from its command counts and active/precharged cycles.

    ``window_cycles`` is the simulated window of one channel; ``active_cycles`` and the
    power-down cycles are summed over all ranks of all channels (so the precharged time is
    ``channels * ranks * window_cycles - active_cycles``). Power-down cycles are part of the
    active (a bank open) or precharged time and are charged IDD3P / IDD2P instead.
    """
    e = per_command_energy_nj(device)
    tck = device.tck_ns
    pre_cycles = max(0, channels * ranks * window_cycles - active_cycles)
    bg = (
        (background_power_mw(device, True) * active_cycles + background_power_mw(device, False) * pre_cycles)
        * tck
        * 1e-3
    )
    i, nd = device.idd, device.n_devices
    saving = (
        nd
        * device.vdd
        * (
            (i["IDD3N"] - i["IDD3P"]) * powerdown_active_cycles
            + (i["IDD2N"] - i["IDD2P"]) * powerdown_precharged_cycles
        )
        * tck
    )
    bg -= saving
    ref = e["refresh_allbank"] * (n_ref_allbank + n_ref_unit / max(1, refresh_units))
    return EnergyBreakdown(
        background_nj=bg,
        act_pre_nj=e["act_pre"] * n_act,
        read_nj=e["read"] * n_rd,
        write_nj=e["write"] * n_wr,
        refresh_nj=ref,
        window_ns=window_cycles * tck,
        powerdown_saving_nj=saving,
    )
