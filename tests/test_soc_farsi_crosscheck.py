"""The SoC simulator against FARSI's own simulator on 22 designs, from recorded figures.

FARSI's figures (``FARSI`` in ``benchmarks/soc_farsi_crosscheck.py``) come from
``python benchmarks/soc_farsi_crosscheck.py --farsi /work/ref/farsi --pythonpath STUBS:DEPS
--record`` (Project_FARSI@ce59c9681c6f, patched as that script's docstring says, CACTI off), so CI
checks them without FARSI. Latency uses our default figures; energy, power and area our
``figures="farsi"`` (FARSI's CACTI-off database placeholders), so that bookkeeping is compared
like for like. Where the two part ways on purpose, the ratio is pinned (so a drift shows) and
envs/soc/README.md says why.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

from archgym.envs.soc import SoCSimulator, Technology


@pytest.fixture(scope="module")
def xc():
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "soc_farsi_crosscheck.py"
    spec = importlib.util.spec_from_file_location("soc_farsi_crosscheck", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ours(xc):
    return {name: xc.ours(name) for name in xc.DESIGNS}


#: ours / FARSI latency where the models part ways (README, "Cross-check against FARSI"): FARSI's
#: interconnect gives every memory its own port (two memories on one bus do not contend; ours does
#: so with interconnect="crossbar"), and FARSI stalls a compute-bound accelerator while a
#: data-bound one reads from the same memory
LATENCY_GAP = {
    "audio_two_sram_left_right": 1.4377,
    "edge_all_ip_unroll8_400mhz": 0.9719,
    "audio_ips_unroll4_600mhz": 0.9666,
}


def test_every_knob_kind_is_covered(xc):
    designs = xc.DESIGNS.values()
    assert len(xc.DESIGNS) == len(xc.FARSI) == 22
    assert {m.kind for d in designs for m in d.mems} == {"sram", "dram"}
    assert {m.width for d in designs for m in d.mems} >= {4, 8, 16, 32, 64}
    assert {w for d in designs for w in d.buses} == {4, 16, 64, 128}
    assert any(d.bridges for d in designs) and any(len(d.mems) > 1 for d in designs)
    assert {p.unroll for d in designs for p in d.pes} >= {1, 4, 8, 128}
    assert {p.clock_mhz for d in designs for p in d.pes} == {100, 400, 600, 800}


def test_latency_matches_farsi_within_two_percent(xc, ours):
    for name, ref in xc.FARSI.items():
        ratio = ours[name]["latency_s"] / ref["latency_s"]
        if name in LATENCY_GAP:
            assert ratio == pytest.approx(LATENCY_GAP[name], abs=5e-4), name
        else:
            assert ratio == pytest.approx(1.0, abs=0.0076), name  # largest: audio_all_ip, -0.75 %


def test_crossbar_interconnect_is_farsis(xc, ours):
    """With interconnect="crossbar" the two-memory design is FARSI's to the digit; nothing else moves."""
    for name, ref in xc.FARSI.items():
        if name == "audio_two_sram_left_right":
            assert ours[name]["latency_crossbar_s"] == pytest.approx(ref["latency_s"], rel=1e-9)
        else:
            assert ours[name]["latency_crossbar_s"] == pytest.approx(ours[name]["latency_s"], rel=1e-12), name


def test_nine_first_designs_still_match_to_the_digit(xc, ours):
    exact = ["cava_all_a53", "cava_gamut_descale_on_ip", "cava_all_ip", "audio_all_a53"]
    exact += ["audio_right_ear_on_2nd_a53", "edge_all_a53"]
    for name in exact:
        assert ours[name]["latency_s"] == pytest.approx(xc.FARSI[name]["latency_s"], rel=1e-9), name


def test_energy_matches_farsi_with_its_database_figures(xc, ours):
    for name, ref in xc.FARSI.items():
        assert ours[name]["energy_j"] == pytest.approx(ref["energy_j"], rel=1e-9), name


def test_power_is_farsis_where_a_run_fits_one_collection_window(xc, ours):
    """FARSI's power is its highest 10 ms window; a shorter run is one window (energy / latency)."""
    for name, ref in xc.FARSI.items():
        same_latency = ours[name]["latency_s"] / ref["latency_s"]
        if ref["latency_s"] < 0.01:
            assert ours[name]["power_w"] * same_latency == pytest.approx(ref["power_w"], rel=1e-6), name


def test_power_through_farsis_window_slicing_reproduces_farsi(xc, ours):
    """Our energy over time, windowed as FARSI's slice_phases_with_PWP does, is FARSI's power
    wherever the schedules agree; where a contended bus makes them differ by under 1 %, the
    windows hold slightly different phases (within 3.5 %; 83 % in one design whose last window
    FARSI closes at another phase)."""
    exact = 0
    for name, ref in xc.FARSI.items():
        ratio = ours[name]["farsi_windows_power_w"] / ref["power_w"]
        if ours[name]["latency_s"] == pytest.approx(ref["latency_s"], rel=1e-9):
            assert ratio == pytest.approx(1.0, rel=1e-6), name
            exact += 1
        elif name == "edge_all_ip_unroll8_400mhz":
            assert ratio == pytest.approx(1.8324, abs=1e-3)
        elif name != "audio_two_sram_left_right":
            assert ratio == pytest.approx(1.0, abs=0.035), name
    assert exact == 14


def test_pe_area_matches_and_memory_area_is_never_larger(xc, ours):
    for name, ref in xc.FARSI.items():
        # FARSI keeps the A53 that hosts audio's zero-work dummy_last; ours runs pseudo tasks on no PE
        extra = 0.65 if name == "audio_all_ip" else 0.0
        assert ours[name]["pe_area_mm2"] + extra == pytest.approx(ref["pe_area_mm2"], rel=1e-6), name
        # memories in whole 1 MiB blocks; FARSI's occupancy never frees some buffers (README)
        assert ours[name]["mem_area_mm2"] <= ref["mem_area_mm2"] * (1 + 1e-9), name
        assert ours[name]["mem_area_mm2"] >= 0.5 * ref["mem_area_mm2"], name


def test_dram_channels_and_memory_width_are_what_farsi_disagreed_with_before(xc, ours):
    """The two gaps the issue measured: a shared-channel DRAM is +40 % on the all-A53 audio
    decoder, and a memory as wide as its bus (the old rule) is -35 % on a 16-byte bus with a
    4-byte SRAM; FARSI's semantics (the defaults now) are exact."""
    g, d, slots = xc.our_design(xc.DESIGNS["audio_dram"])
    shared = SoCSimulator(*slots, dram_channels="shared").simulate(d, g).metrics["latency_ms"] / 1e3
    assert shared / xc.FARSI["audio_dram"]["latency_s"] == pytest.approx(1.4005, abs=1e-3)
    assert ours["audio_dram"]["latency_s"] == pytest.approx(xc.FARSI["audio_dram"]["latency_s"], rel=1e-9)
    g, d, slots = xc.our_design(xc.DESIGNS["audio_bus16_sram4"])
    d["mem_width_0"] = 16
    as_wide_as_bus = SoCSimulator(*slots).simulate(d, g).metrics["latency_ms"] / 1e3
    assert as_wide_as_bus / xc.FARSI["audio_bus16_sram4"]["latency_s"] == pytest.approx(0.6545, abs=1e-3)


def test_farsi_figures_are_placeholders_not_the_default():
    tech, farsi = Technology(), Technology(figures="farsi")
    assert farsi.bus_pj_per_byte_hop == pytest.approx(0.064e12)  # FARSI: 1 byte per joule x 0.064
    assert farsi.sram_pj_per_byte(8192) == pytest.approx(0.064e12 / 200)
    assert tech.sram_pj_per_byte(8192) == pytest.approx(1.25 * 0.064)  # Horowitz, FARSI's 7 nm factor
    with pytest.raises(ValueError, match="figures"):
        Technology(figures="cacti")
