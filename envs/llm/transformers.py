"""Transformer workloads: the published models as presets, and a YAML format for others.

A :class:`Transformer` is what the cost model needs: layers, hidden size, attention heads and
key/value heads (grouped-query attention when fewer), feed-forward size (``gated``: SwiGLU's
three matrices instead of two), vocabulary (for a ViT: the classifier's classes), sequence
length and whether attention is causal.

Sources of the presets
----------------------
* ``gpt-*``: Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters
  Using Megatron-LM", SC'21, Table 1 (vocabulary 51,200, sequence 2,048).
* ``megatron-22b``, ``gpt3-175b``, ``megatron-530b``, ``megatron-1t``: Korthikanti et al.,
  "Reducing Activation Recomputation in Large Transformer Models", 2022, Table 3.
* ``gpt3-13b``: Brown et al. 2020, Table 2.1 (ASTRA-sim's GPT-3 13B workload).
* ``llama-7b``: Touvron et al. 2023 (LLaMA), Table 2; ``llama2-*``: Touvron et al. 2023
  (Llama 2), Table 1 and the released configs (70B: 8 KV heads); ``llama3-*``: Llama Team,
  "The Llama 3 Herd of Models", 2024, Table 3 (vocabulary 128,256, 8 KV heads).
* ``vit-l``, ``vit-h``: Dosovitskiy et al. 2021, Table 1 (ViT-L/16 and ViT-H/14 at 224x224:
  197 and 257 tokens, 1,000 classes).

YAML format (``load_transformer("my_model.yaml")``)::

    name: my-model
    layers: 32
    hidden: 4096
    heads: 32
    kv_heads: 8        # optional, default: heads
    ffn: 14336
    gated: true        # optional, default false (GELU MLP)
    vocab: 128256
    seq_len: 8192
    causal: true       # optional, default true
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from archgym.errors import InputFormatError, UnknownNameError


class WorkloadFormatError(InputFormatError):
    """A transformer description is missing a key, has an unknown one, or an inconsistent value."""


@dataclass(frozen=True)
class Transformer:
    """The shape of a transformer model (decoder-only LLM or ViT encoder)."""

    name: str
    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int
    seq_len: int
    kv_heads: int = 0  # 0: as many as heads
    gated: bool = False
    causal: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        if self.kv_heads == 0:
            object.__setattr__(self, "kv_heads", self.heads)
        for f in ("layers", "hidden", "heads", "ffn", "vocab", "seq_len", "kv_heads"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise WorkloadFormatError(
                    f"transformer {self.name!r}: {f} must be a positive integer, got {v!r}"
                )
        if self.hidden % self.heads:
            raise WorkloadFormatError(
                f"transformer {self.name!r}: hidden ({self.hidden}) must be divisible by heads ({self.heads})"
            )
        if self.heads % self.kv_heads:
            raise WorkloadFormatError(
                f"transformer {self.name!r}: heads ({self.heads}) must be divisible by kv_heads ({self.kv_heads})"
            )

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def layer_params(self) -> int:
        """Weights of one block: Q/K/V/O projections, the MLP and two norms (biases ignored)."""
        h = self.hidden
        attn = h * (h + 2 * self.kv_dim) + h * h
        mlp = (3 if self.gated else 2) * h * self.ffn
        return attn + mlp + 4 * h

    @property
    def params(self) -> int:
        """All weights, the (tied) embedding counted once."""
        return self.layers * self.layer_params + self.vocab * self.hidden

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gpt(name: str, layers: int, hidden: int, heads: int, source: str) -> Transformer:
    return Transformer(name, layers, hidden, heads, 4 * hidden, 51200, 2048, source=source)


_SC21 = "Narayanan et al. SC'21, Table 1"
_K22 = "Korthikanti et al. 2022, Table 3"
PRESETS: dict[str, Transformer] = {
    t.name: t
    for t in (
        _gpt("gpt-1.7b", 24, 2304, 24, _SC21),
        _gpt("gpt-3.6b", 30, 3072, 32, _SC21),
        _gpt("gpt-7.5b", 36, 4096, 32, _SC21),
        _gpt("gpt-18.4b", 40, 6144, 48, _SC21),
        _gpt("gpt-39.1b", 48, 8192, 64, _SC21),
        _gpt("gpt-76.1b", 60, 10240, 80, _SC21),
        _gpt("gpt-145.6b", 80, 12288, 96, _SC21),
        _gpt("gpt-310.1b", 96, 16384, 128, _SC21),
        _gpt("gpt-529.6b", 105, 20480, 128, _SC21),
        _gpt("gpt-1t", 128, 25600, 160, _SC21),
        _gpt("megatron-22b", 48, 6144, 64, _K22),
        _gpt("gpt3-175b", 96, 12288, 96, _K22),
        _gpt("megatron-530b", 105, 20480, 128, _K22),
        _gpt("megatron-1t", 128, 25600, 160, _K22),
        _gpt("gpt3-13b", 40, 5120, 40, "Brown et al. 2020, Table 2.1"),
        Transformer("llama-7b", 32, 4096, 32, 11008, 32000, 2048, gated=True, source="Touvron et al. 2023a"),
        Transformer("llama2-7b", 32, 4096, 32, 11008, 32000, 4096, gated=True, source="Touvron et al. 2023b"),
        Transformer(
            "llama2-13b", 40, 5120, 40, 13824, 32000, 4096, gated=True, source="Touvron et al. 2023b"
        ),
        Transformer("llama2-70b", 80, 8192, 64, 28672, 32000, 4096, 8, True, source="Touvron et al. 2023b"),
        Transformer(
            "llama3-8b", 32, 4096, 32, 14336, 128256, 8192, 8, True, source="Llama Team 2024, Table 3"
        ),
        Transformer(
            "llama3-70b", 80, 8192, 64, 28672, 128256, 8192, 8, True, source="Llama Team 2024, Table 3"
        ),
        Transformer(
            "llama3-405b", 126, 16384, 128, 53248, 128256, 8192, 8, True, source="Llama Team 2024, Table 3"
        ),
        Transformer("vit-l", 24, 1024, 16, 4096, 1000, 197, causal=False, source="Dosovitskiy et al. 2021"),
        Transformer("vit-h", 32, 1280, 16, 5120, 1000, 257, causal=False, source="Dosovitskiy et al. 2021"),
    )
}

_KEYS = {f.name for f in fields(Transformer)}
_REQUIRED = ("layers", "hidden", "heads", "ffn", "vocab", "seq_len")


def transformer_from_dict(spec: dict[str, Any], where: str = "transformer") -> Transformer:
    """A :class:`Transformer` from a mapping in the YAML format above."""
    if not isinstance(spec, dict):
        raise WorkloadFormatError(f"{where}: expected a mapping of model keys, got {type(spec).__name__}")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise WorkloadFormatError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}"
        )
    missing = [k for k in _REQUIRED if k not in spec]
    if missing:
        raise WorkloadFormatError(f"{where}: missing key(s) {', '.join(missing)}")
    return Transformer(
        **{"name": str(spec.get("name", where)), **{k: v for k, v in spec.items() if k != "name"}}
    )


def load_transformer(
    model: str | Path | Transformer | dict[str, Any], seq_len: int | None = None
) -> Transformer:
    """A preset name, a YAML file, a mapping or a :class:`Transformer`; ``seq_len`` overrides."""
    if isinstance(model, Transformer):
        t = model
    elif isinstance(model, dict):
        t = transformer_from_dict(model)
    elif str(model).lower() in PRESETS:
        t = PRESETS[str(model).lower()]
    elif str(model).endswith((".yaml", ".yml")):
        path = Path(model)
        if not path.is_file():
            raise WorkloadFormatError(f"model file {str(path)!r} does not exist")
        try:
            spec = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise WorkloadFormatError(f"model file {str(path)!r} is not valid YAML: {exc}") from None
        t = transformer_from_dict(spec, where=str(path))
    else:
        raise UnknownNameError(
            f"unknown model {str(model)!r}; presets: {', '.join(PRESETS)}, or a .yaml file"
        )
    if seq_len is not None and (isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1):
        raise WorkloadFormatError(f"seq_len must be a positive integer, got {seq_len!r}")
    if seq_len is not None and seq_len != t.seq_len:
        t = Transformer(**{**t.to_dict(), "seq_len": int(seq_len)})
    return t
