"""Reference networks written from their papers, and the workload registry.

The modules are plain ``torch.nn.Module`` classes built from the architecture descriptions
(no weights are needed: they are instantiated on the ``meta`` device and traced with
:func:`~.tracing.trace_layers`):

* ResNet-18 / ResNet-50 -- He et al., "Deep Residual Learning for Image Recognition", CVPR
  2016, Table 1 (stride-2 on the 3x3 convolution of the bottleneck, the common "v1.5"
  variant, which gives the usual 4.1 GMACs).
* VGG-16 -- Simonyan & Zisserman, ICLR 2015, configuration D.
* MobileNetV2 -- Sandler et al., CVPR 2018, Table 2 (width 1.0, 224x224).
* AlexNet -- Krizhevsky et al., NIPS 2012, with the two-group CONV2/4/5 layers of the
  original (the shapes used by Eyeriss, Chen et al. ISCA 2016 / JSSC 2017: 666 M MACs at
  227x227).
* BERT-base encoder layer -- Devlin et al., NAACL 2019: hidden 768, 12 heads, FFN 3072; the
  Q/K/V/output projections, the two attention products and the two FFN GEMMs.
* ViT-B/16 encoder block -- Dosovitskiy et al., ICLR 2021: the same layer with pre-LN, over
  197 tokens (196 patches of a 224x224 image and the class token).
* An odd-shaped CNN (ours, for the fidelity benchmark): 7x7 and 5x5 kernels, strides 1 and 2,
  channel counts that are not powers of two (24, 40, 56, 72, 100, 150), a 99x99 input.

:func:`export_onnx` writes any of them as an ONNX file with inferred shapes (as ZigZag reads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from archgym.errors import ConfigError, UnknownNameError

from .layers import Layer, LayerArrays, to_arrays, total_macs
from .tracing import MatMul, trace_layers


# ----------------------------------------------------------------------------- ResNet
class _Basic(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.down = nn.Conv2d(cin, width, 1, stride, bias=False) if stride != 1 or cin != width else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(torch.relu(self.conv1(x)))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.down = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x)))))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class ResNet(nn.Module):
    """ResNet for 224x224 ImageNet; ``block`` is ``"basic"`` (18/34) or ``"bottleneck"`` (50+)."""

    def __init__(self, depths: Sequence[int], block: str = "basic", num_classes: int = 1000) -> None:
        super().__init__()
        blk = _Basic if block == "basic" else _Bottleneck
        self.stem = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.pool = nn.MaxPool2d(3, 2, 1)
        stages, cin = [], 64
        for i, (depth, width) in enumerate(zip(depths, (64, 128, 256, 512))):
            for j in range(depth):
                stages.append(blk(cin, width, 2 if (j == 0 and i > 0) else 1))
                cin = width * blk.expansion
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.pool(torch.relu(self.stem(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


# -------------------------------------------------------------------------------- VGG
class VGG16(nn.Module):
    """VGG-16 (configuration D) for 224x224 inputs."""

    CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        feats: list[nn.Module] = []
        cin = 3
        for v in self.CFG:
            if v == "M":
                feats.append(nn.MaxPool2d(2, 2))
            else:
                feats += [nn.Conv2d(cin, int(v), 3, 1, 1), nn.ReLU()]
                cin = int(v)
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


# ------------------------------------------------------------------------ MobileNetV2
class _InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = cin * t
        layers: list[nn.Module] = []
        if t != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2, width multiplier 1.0 (Sandler et al. 2018, Table 2)."""

    # expansion t, output channels c, repeats n, first stride s
    SETTINGS = (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    )

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        blocks: list[nn.Module] = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.ReLU6()]
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                blocks.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        blocks += [nn.Conv2d(cin, 1280, 1, bias=False), nn.ReLU6()]
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


# ----------------------------------------------------------------------------- AlexNet
class AlexNet(nn.Module):
    """AlexNet with the original two-group CONV2/4/5 (227x227 input)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, 4),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, 1, 2, groups=2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(384, 384, 3, 1, 1, groups=2),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, 1, 1, groups=2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


# -------------------------------------------------------------------------------- BERT
class BertEncoderLayer(nn.Module):
    """One BERT encoder layer (post-LN transformer block); input ``(B, T, hidden)``.
    ``pre_norm``: layer norms before attention and the FFN (a ViT encoder block)."""

    def __init__(self, hidden: int = 768, heads: int = 12, ffn: int = 3072, pre_norm: bool = False) -> None:
        super().__init__()
        self.pre_norm = pre_norm
        if hidden % heads:
            raise ValueError(f"hidden {hidden} must be divisible by heads {heads}")
        self.heads, self.head_dim = heads, hidden // heads
        self.query, self.key, self.value = (
            nn.Linear(hidden, hidden),
            nn.Linear(hidden, hidden),
            nn.Linear(hidden, hidden),
        )
        self.scores, self.context = MatMul(), MatMul()
        self.attn_out = nn.Linear(hidden, hidden)
        self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.ffn_in, self.ffn_out = nn.Linear(hidden, ffn), nn.Linear(ffn, hidden)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def _attention(self, x: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        p = torch.softmax(self.scores(q, k.transpose(-1, -2)) / self.head_dim**0.5, dim=-1)
        return self.attn_out(self.context(p, v).transpose(1, 2).reshape(b, t, h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ffn = lambda y: self.ffn_out(nn.functional.gelu(self.ffn_in(y)))  # noqa: E731
        if self.pre_norm:
            x = x + self._attention(self.ln1(x))
            return x + ffn(self.ln2(x))
        x = self.ln1(x + self._attention(x))
        return self.ln2(x + ffn(x))


# --------------------------------------------------------------------------- odd CNN
class OddCNN(nn.Module):
    """A small CNN with odd shapes (see the module docstring); input ``(B, 3, 99, 99)``."""

    def __init__(self) -> None:
        super().__init__()
        spec = ((3, 24, 7, 2, 3), (24, 40, 5, 2, 2), (40, 56, 3, 1, 1), (56, 72, 5, 2, 2), (72, 100, 3, 2, 0))
        self.convs = nn.ModuleList(nn.Conv2d(ci, co, k, s, p, bias=False) for ci, co, k, s, p in spec)
        self.pointwise = nn.Conv2d(100, 150, 1, bias=False)
        self.fc = nn.Linear(150, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = torch.relu(conv(x))
        x = torch.relu(self.pointwise(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class NetworkSpec:
    """How to build and feed one named network."""

    build: Callable[[], nn.Module]
    input_shape: Callable[[int], tuple[int, ...]]
    description: str


NETWORKS: dict[str, NetworkSpec] = {
    "resnet18": NetworkSpec(
        lambda: ResNet((2, 2, 2, 2), "basic"), lambda n: (n, 3, 224, 224), "ResNet-18, 224x224"
    ),
    "resnet50": NetworkSpec(
        lambda: ResNet((3, 4, 6, 3), "bottleneck"), lambda n: (n, 3, 224, 224), "ResNet-50, 224x224"
    ),
    "vgg16": NetworkSpec(VGG16, lambda n: (n, 3, 224, 224), "VGG-16 (config D), 224x224"),
    "mobilenetv2": NetworkSpec(MobileNetV2, lambda n: (n, 3, 224, 224), "MobileNetV2 1.0, 224x224"),
    "alexnet": NetworkSpec(AlexNet, lambda n: (n, 3, 227, 227), "AlexNet (grouped), 227x227"),
    "bert_base": NetworkSpec(
        BertEncoderLayer, lambda n: (n, 128, 768), "BERT-base encoder layer, sequence 128"
    ),
    "bert_base_512": NetworkSpec(
        BertEncoderLayer, lambda n: (n, 512, 768), "BERT-base encoder layer, sequence 512"
    ),
    "vit_b16_block": NetworkSpec(
        lambda: BertEncoderLayer(pre_norm=True), lambda n: (n, 197, 768), "ViT-B/16 encoder block, 197 tokens"
    ),
    "odd_cnn": NetworkSpec(
        OddCNN, lambda n: (n, 3, 99, 99), "odd-shaped CNN: 7x7/5x5 kernels, 24-150 channels"
    ),
}


class UnknownWorkloadError(UnknownNameError):
    """A workload name that is not registered."""


@dataclass(frozen=True)
class Workload:
    """A named list of layers, with its struct-of-arrays form."""

    name: str
    layers: tuple[Layer, ...]

    @property
    def arrays(self) -> LayerArrays:
        return _arrays(self.layers)

    @property
    def macs(self) -> int:
        return total_macs(self.layers)

    def __len__(self) -> int:
        return len(self.layers)


@lru_cache(maxsize=64)
def _arrays(layers: tuple[Layer, ...]) -> LayerArrays:
    return to_arrays(layers)


@lru_cache(maxsize=64)
def _traced(name: str, batch: int) -> tuple[Layer, ...]:
    spec = NETWORKS[name]
    with torch.device("meta"):
        module = spec.build()
    return tuple(trace_layers(module, spec.input_shape(batch), dtype=torch.float32))


def export_onnx(name: str, path: str | Path, batch: int = 1) -> Path:
    """Write the registered network ``name`` to ``path`` as ONNX (``torch.onnx.export``, opset
    17) with every intermediate shape inferred (``onnx.shape_inference``), as ZigZag's ONNX
    reader needs. Weights are random (drawn without touching the global RNG): only the
    shapes matter. Needs the ``onnx`` package."""
    import onnx

    key = name.lower().replace("-", "_")
    if key not in NETWORKS:
        raise UnknownWorkloadError(f"unknown workload {name!r}; registered: {', '.join(NETWORKS)}")
    spec = NETWORKS[key]
    out = Path(path)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = spec.build().eval()
        example = torch.zeros(spec.input_shape(batch))
    with torch.no_grad():
        torch.onnx.export(module, (example,), str(out), opset_version=17, dynamo=False)
    onnx.save(onnx.shape_inference.infer_shapes(onnx.load(str(out))), str(out))
    return out


def workload_names() -> list[str]:
    return list(NETWORKS)


def load_workload(name: str, batch: int = 1, *, kinds: Sequence[str] | None = None) -> Workload:
    """The traced layers of a registered network, or the layers of an ONNX file.

    Args:
        name: one of :func:`workload_names` (case-insensitive; ``-`` and ``_`` are equal),
            or the path of an ``.onnx`` file (see :mod:`.onnx_import`; layers keep their
            node names, and ``batch`` > 1 replaces the file's batch size).
        batch: batch size ``N`` (>= 1).
        kinds: keep only these layer kinds, e.g. ``("conv",)`` for CONV layers only.

    Raises:
        UnknownWorkloadError: naming the known workloads.
    """
    if str(name).lower().endswith(".onnx"):
        from .onnx_import import load_onnx_layers

        if int(batch) < 1:
            raise ConfigError(f"batch must be >= 1, got {batch}")
        onnx_layers = load_onnx_layers(name)
        if int(batch) > 1:
            onnx_layers = tuple(l.with_batch(int(batch)) for l in onnx_layers)
        if kinds is not None:
            onnx_layers = tuple(l for l in onnx_layers if l.kind in tuple(kinds))
            if not onnx_layers:
                raise ConfigError(f"workload {name!r} has no layer of kind {', '.join(kinds)}")
        return Workload(f"{Path(name).stem}@b{int(batch)}", onnx_layers)
    key = str(name).lower().replace("-", "_")
    if key not in NETWORKS:
        raise UnknownWorkloadError(
            f"unknown workload {name!r}; known workloads: {', '.join(NETWORKS)} "
            "(or pass a Workload / list of Layers from trace_layers)"
        )
    if int(batch) < 1:
        raise ConfigError(f"batch must be >= 1, got {batch}")
    layers = _traced(key, int(batch))
    if kinds is not None:
        layers = tuple(l for l in layers if l.kind in tuple(kinds))
        if not layers:
            raise ConfigError(f"workload {name!r} has no layer of kind {', '.join(kinds)}")
    suffix = "" if kinds is None else "[" + ",".join(kinds) + "]"
    return Workload(f"{key}@b{int(batch)}{suffix}", layers)


def as_workload(workload: Workload | str | Sequence[Layer]) -> Workload:
    """Accept a :class:`Workload`, a registered name, or a sequence of :class:`Layer`."""
    if isinstance(workload, Workload):
        return workload
    if isinstance(workload, str):
        return load_workload(workload)
    layers = tuple(workload)
    if not layers or not all(isinstance(l, Layer) for l in layers):
        raise ConfigError("a workload is a Workload, a registered name or a non-empty sequence of Layer")
    return Workload("custom", layers)
