"""General architectures: ZigZag/ONNX importers, the hierarchy model, templates, per-layer records."""

from pathlib import Path

import pytest

from archgym.envs.accelerator import EYERISS_LIKE, AcceleratorSimulator, Layer, load_workload
from archgym.envs.accelerator.architecture import Architecture, ArchitectureError, derived_access_pj
from archgym.envs.accelerator.hierarchy_model import evaluate_layer
from archgym.envs.accelerator.onnx_import import OnnxImportError
from archgym.envs.accelerator.simulator import network_totals
from archgym.envs.accelerator.templates import split_memory_architecture, template_architecture

zz = pytest.importorskip("zigzag", reason="zigzag-dse ships the reference hardware and networks")
INPUTS = Path(zz.__file__).resolve().parent / "inputs"
HARDWARE = sorted((INPUTS / "hardware").glob("*.yaml"))
NETWORKS = sorted((INPUTS / "workload").glob("*.onnx"))


def _mapping(hw: Path) -> Path:
    m = INPUTS / "mapping" / f"{hw.stem}.yaml"
    return m if m.exists() else INPUTS / "mapping" / "default.yaml"


@pytest.mark.parametrize("hw", HARDWARE, ids=lambda p: p.stem)
def test_from_zigzag_reads_every_bundled_hardware(hw):
    import yaml

    raw = yaml.safe_load(hw.read_text())
    arch = Architecture.from_zigzag(hw, _mapping(hw))
    assert dict(arch.array.dims) == dict(
        zip(raw["operational_array"]["dimensions"], raw["operational_array"]["sizes"])
    )
    assert [m.name for m in arch.memories] == list(raw["memories"])
    for op in ("W", "I", "O"):
        assert arch.levels(op), f"{hw.stem}: nothing holds {op}"
    for m, spec in zip(arch.memories, raw["memories"].values()):
        assert m.size_bits == spec["size"] and m.read_pj == spec["r_cost"]
        assert arch.instances(m) >= 1 and set(m.served_dims) <= set(arch.array.dims)


def test_tpu_like_description():
    arch = Architecture.from_zigzag(INPUTS / "hardware/tpu_like.yaml", INPUTS / "mapping/tpu_like.yaml")
    rf_w, rf_o, sram, dram = arch.memories
    assert (rf_w.operands, arch.instances(rf_w), rf_w.size_bits) == (("W",), 1024, 1024)
    assert sram.operands == ("I", "O") and arch.instances(sram) == 1
    assert sram.port("I", "tl").bw_max == 2048 and sram.port("O", "fl").kind == "write"
    assert arch.spatial_mapping == {"D1": (("K", 32),), "D2": (("C", 32),)}
    assert arch.array.systolic_dims == ("D1", "D2")


def test_from_zigzag_errors(tmp_path):
    with pytest.raises(ArchitectureError, match="file not found"):
        Architecture.from_zigzag(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmemories: {}\n")
    with pytest.raises(ArchitectureError, match="bad.yaml: no operational_array"):
        Architecture.from_zigzag(bad)


@pytest.mark.parametrize("net", NETWORKS, ids=lambda p: p.stem)
def test_load_workload_reads_every_bundled_onnx(net):
    wl = load_workload(str(net))
    assert len(wl) >= 8 and all(layer.name for layer in wl.layers)
    assert len({layer.name for layer in wl.layers}) == len(wl)  # node names kept, unique
    if net.stem == "resnet18":  # same network as our traced ResNet-18: same MACs (1.814 G)
        assert wl.macs == load_workload("resnet18").macs == 1_814_073_344
        assert wl.layers[0].name == "/conv1/Conv" and wl.layers[0].padding == (3, 3, 3, 3)
        assert wl.layers[-1].kind == "gemm" and (wl.layers[-1].K, wl.layers[-1].C) == (1000, 512)
    if net.stem == "mobilenetv2":
        dw = [layer for layer in wl.layers if layer.kind == "dwconv"]
        assert len(dw) == 17 and all(layer.groups == layer.C == layer.K for layer in dw)
        assert wl.macs == load_workload("mobilenetv2").macs


def test_onnx_gemm_matmul_and_grouped_conv(tmp_path):
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 10, 10])
    q = helper.make_tensor_value_info("q", TensorProto.FLOAT, [2, 16, 4])
    k = helper.make_tensor_value_info("k", TensorProto.FLOAT, [2, 4, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.zeros((8, 2, 3, 3), np.float32), "w")
    fc = numpy_helper.from_array(np.zeros((6, 800), np.float32), "fc")
    nodes = [
        helper.make_node(
            "Conv", ["x", "w"], ["c"], name="grouped", group=4, pads=[1, 1, 1, 1], strides=[1, 1]
        ),
        helper.make_node("Flatten", ["c"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["y"], name="fc", transB=1),
        helper.make_node("MatMul", ["q", "k"], ["s"], name="scores"),
    ]
    graph = helper.make_graph(nodes, "g", [x, q, k], [y, s], initializer=[w, fc])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    conv, gemm, mm = load_workload(str(path)).layers
    assert (conv.name, conv.groups, conv.C, conv.K, conv.P, conv.padding) == (
        "grouped",
        4,
        8,
        8,
        10,
        (1, 1, 1, 1),
    )
    assert (gemm.kind, gemm.K, gemm.C, gemm.P) == ("gemm", 6, 800, 1)
    assert (mm.groups, mm.P, mm.c_per_group, mm.k_per_group) == (2, 16, 4, 16)
    with pytest.raises(OnnxImportError, match="not a readable ONNX"):
        (tmp_path / "junk.onnx").write_bytes(b"junk")
        load_workload(str(tmp_path / "junk.onnx"))


LAYER1 = Layer("l1", "conv", 1, 64, 64, 3, 3, 56, 56, 1, 1, (1, 1, 1, 1), (56, 56))


def test_hierarchy_model_invariants_and_padding():
    arch = Architecture.from_zigzag(INPUTS / "hardware/tpu_like.yaml", INPUTS / "mapping/tpu_like.yaml")
    c = evaluate_layer(arch, LAYER1)
    assert c.temporal_cycles == 2 * 2 * 9 * 56 * 56  # K 64/32 x C 64/32 x FX FY x OX OY
    assert c.latency_cycles >= c.temporal_cycles >= c.ideal_cycles
    assert c.energy_pj > c.mac_energy_pj > 0 and 0 < c.utilization <= 1
    # padding is not fetched: the whole 56x56x64 input (8 bit) crosses the 64-bit DRAM port once
    assert c.onload_cycles == 56 * 56 * 64 * 8 / 64
    # ZigZag 3.9.1 on the same layer: 138,048 cycles and 67.00 uJ (tests/test_accelerator_zigzag.py)
    assert c.latency_cycles == pytest.approx(138_048, rel=0.02)
    assert c.energy_pj == pytest.approx(67.00e6, rel=0.02)


def test_bandwidth_stalls_grow_as_dram_narrows():
    from dataclasses import replace

    arch = Architecture.from_zigzag(INPUTS / "hardware/tpu_like.yaml", INPUTS / "mapping/tpu_like.yaml")
    dram = arch.memories[-1]
    lat = []
    for bw in (64, 16, 4):
        port = replace(dram.ports[0], bw_max=bw, bw_min=bw)
        narrow = replace(arch, memories=(*arch.memories[:-1], replace(dram, ports=(port,))))
        lat.append(evaluate_layer(narrow, LAYER1).latency_cycles)
    assert lat[0] < lat[1] < lat[2]


def test_derived_energy_follows_cited_anchors():
    # per bit: a 0.5 kB RF costs 1x and a 108 kB buffer 6x the RF (Eyeriss ISCA'16, Table IV)
    rf, glb = derived_access_pj(4096, 16), derived_access_pj(108 * 8192, 16)
    assert glb / rf == pytest.approx(6.0)
    assert derived_access_pj(4 * 108 * 8192, 16) / glb == pytest.approx(2.0)  # sqrt(capacity)


@pytest.mark.parametrize("dataflow", ["ws", "os", "rs", "is"])
def test_templates_build_descriptions(dataflow):
    d = dict(EYERISS_LIKE, dataflow=dataflow)
    arch = template_architecture(d)
    assert dict(arch.array.dims) == {"D1": 12, "D2": 14} and arch.precision["O"] == 2 * 16
    split = split_memory_architecture(
        dict(d, rf_w_bytes=256, rf_i_bytes=64, rf_o_bytes=64, wbuf_kib=64, abuf_kib=128)
    )
    assert [m.operands for m in split.memories[:3]] == [("W",), ("I",), ("O",)]
    for a in (arch, split):
        c = evaluate_layer(a, LAYER1)
        assert c.latency_cycles >= c.ideal_cycles and c.energy_pj > c.mac_energy_pj


def test_ws_without_im2col_keeps_rows_to_input_channels():
    stem = load_workload("resnet18").layers[0]  # C = 3: im2col fills rows with C, S, R
    d = dict(EYERISS_LIKE, dataflow="ws", pe_rows=32, pe_cols=32)
    full = evaluate_layer(template_architecture(d), stem)
    plain = evaluate_layer(template_architecture(d, im2col=False), stem)
    assert plain.temporal_cycles > 5 * full.temporal_cycles  # 3 of 32 rows busy instead of 21
    sim = AcceleratorSimulator(ws_im2col=False)
    assert (
        sim.evaluate(d, [stem])["latency_cycles"]
        > 5 * AcceleratorSimulator().evaluate(d, [stem])["latency_cycles"]
    )


def test_evaluate_layers_records_sum_to_network_metrics():
    sim = AcceleratorSimulator()
    recs = sim.evaluate_layers(EYERISS_LIKE, "alexnet")
    tot, m = network_totals(recs), sim.evaluate(EYERISS_LIKE, "alexnet")
    assert [r["name"] for r in recs] == [layer.name for layer in load_workload("alexnet").layers]
    assert tot["latency_ms"] == pytest.approx(m["latency_ms"]) and tot["energy_pj"] == pytest.approx(
        m["energy_uj"] * 1e6
    )
    for level in ("dram", "glb", "noc", "rf", "mac"):
        assert tot[f"energy_{level}_pj"] == pytest.approx(m[f"energy_{level}_pj"])
        assert all(r[f"accesses_{level}"] >= 0 for r in recs)
    arch = Architecture.from_zigzag(INPUTS / "hardware/eyeriss_like.yaml", INPUTS / "mapping/default.yaml")
    recs = sim.evaluate_layers(arch, [LAYER1])
    (r,) = recs
    levels = [m.name for m in arch.memories]
    assert r["energy_pj"] == pytest.approx(r["energy_mac_pj"] + sum(r[f"energy_{n}_pj"] for n in levels))
    assert r["macs"] == LAYER1.macs and r["accesses_dram"] > 0
