"""Workloads: MAC totals of the reference networks, tracing of user modules, errors."""

import pytest
import torch
from torch import nn

from archgym.envs.accelerator import (
    Layer,
    MatMul,
    TracingError,
    UnknownWorkloadError,
    load_workload,
    trace_layers,
    workload_names,
)


# Known totals (multiply-accumulates, 224x224, batch 1, FC layers included):
#   ResNet-50 4.1 G, ResNet-18 1.8 G (He et al. 2016 report 3.8/1.8 GFLOPs as multiply-adds for the
#   stride-on-1x1 variant; the stride-on-3x3 "v1.5" variant is 4.09 G), VGG-16 15.5 G, MobileNetV2 0.30 G
#   (Sandler et al. 2018, Table 4: 300 M multiply-adds), AlexNet CONV layers 666 M (Chen et al., ISSCC 2016).
@pytest.mark.parametrize(
    "name, expected, rel",
    [
        ("resnet50", 4.1e9, 0.02),
        ("resnet18", 1.8e9, 0.02),
        ("vgg16", 15.5e9, 0.01),
        ("mobilenetv2", 0.30e9, 0.02),
    ],
)
def test_network_mac_totals(name, expected, rel):
    assert load_workload(name).macs == pytest.approx(expected, rel=rel)


def test_alexnet_conv_macs_match_eyeriss():
    conv = load_workload("alexnet", kinds=("conv",))
    assert len(conv) == 5
    assert conv.macs == pytest.approx(666e6, rel=0.001)
    assert [l.groups for l in conv.layers] == [1, 2, 1, 2, 2]


def test_bert_encoder_gemms_exact():
    t, h, f, heads = 128, 768, 3072, 12
    wl = load_workload("bert_base")
    assert [l.kind for l in wl.layers] == ["gemm"] * 8
    assert wl.macs == 4 * t * h * h + 2 * t * h * f + 2 * t * t * h
    scores = next(l for l in wl.layers if l.name == "scores")
    assert (scores.groups, scores.P, scores.c_per_group, scores.k_per_group) == (heads, t, h // heads, t)
    assert load_workload("bert_base_512").macs == 4 * 512 * h * h + 2 * 512 * h * f + 2 * 512 * 512 * h


def test_layer_kinds_and_batch():
    mb = load_workload("mobilenetv2")
    assert sum(l.kind == "dwconv" for l in mb.layers) == 17
    assert all(l.c_per_group == 1 for l in mb.layers if l.kind == "dwconv")
    assert load_workload("resnet18", batch=4).macs == 4 * load_workload("resnet18").macs
    assert len(load_workload("resnet50")) == 54  # 53 convolutions + the classifier


def test_unknown_workload_lists_known_names():
    with pytest.raises(UnknownWorkloadError) as exc:
        load_workload("resnet9000")
    for name in workload_names():
        assert name in str(exc.value)


class _UserNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.proj = nn.Linear(8, 16)
        self.mm = MatMul()

    def forward(self, x):
        y = self.dw(self.conv(x))  # (N, 8, 16, 16)
        tokens = y.flatten(2).transpose(1, 2)  # (N, 256, 8)
        z = self.proj(tokens)  # Linear on a 3-D input: tokens become P
        return self.mm(z, z.transpose(1, 2))


def test_trace_user_module_with_real_weights():
    layers = trace_layers(_UserNet(), (2, 3, 32, 32))
    conv, dw, proj, mm = layers
    assert conv == Layer("conv", "conv", 2, 8, 3, 3, 3, 16, 16, 2, 1, (1, 1, 1, 1), (32, 32))
    # padding is not fetched: the 3x3 stride-2 windows touch 31 of the 32 real rows, not 33
    assert (conv.H, conv.W) == (31, 31) and conv.input_count == 2 * 3 * 31 * 31
    assert dw.kind == "dwconv" and dw.groups == 8 and dw.macs == 2 * 8 * 9 * 16 * 16
    assert (proj.kind, proj.N, proj.P, proj.C, proj.K) == ("gemm", 2, 256, 8, 16)
    assert (mm.groups, mm.P, mm.c_per_group, mm.k_per_group, mm.N) == (2, 256, 16, 256, 1)
    assert mm.macs == 2 * 256 * 16 * 256


def test_strided_pointwise_fetches_only_used_pixels():
    # ResNet's 1x1 stride-2 downsample: 28x28 of the 56x56 inputs are used (issue 13)
    down = Layer("down", "conv", 1, 128, 64, 1, 1, 28, 28, 2, 1, (0, 0, 0, 0), (56, 56))
    assert (down.H, down.W) == (28, 28) and down.input_count == 64 * 28 * 28
    # a 3x3 stride-1 layer with padding 1 fetches exactly its 56x56 input, not 58x58
    c3 = Layer("c3", "conv", 1, 64, 64, 3, 3, 56, 56, 1, 1, (1, 1, 1, 1))
    assert (c3.in_h, c3.H, c3.W) == (56, 56, 56)
    with pytest.raises(ValueError, match="padding"):
        Layer("bad", "conv", 1, 1, 1, 1, 1, 1, 1, padding=(0, -1, 0, 0))


def test_trace_on_meta_device_and_repeated_calls():
    with torch.device("meta"):
        lin = nn.Linear(4, 4)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    layers = trace_layers(net, (1, 4))
    assert [l.name for l in layers] == ["0", "0#2"]


def test_trace_errors():
    with pytest.raises(TracingError, match="no Conv1d/Conv2d/Linear"):
        trace_layers(nn.ReLU(), (1, 4))
    with pytest.raises(TracingError, match="exactly one"):
        trace_layers(nn.Linear(2, 2))
    with pytest.raises(TracingError, match="forward pass"):
        trace_layers(nn.Linear(2, 2), (1, 3))
