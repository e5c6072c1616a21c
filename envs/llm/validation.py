"""Published measurements the training model is checked against, and how each is configured.

* Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models", 2022,
  Table 5 (A100-80GB on Selene, sequence 2,048, DP 1): iteration time with full recomputation
  and with sequence parallelism + selective recomputation ("present work"), and the latter's
  MFU (their Table 5 / Sec. 6.3). Their configurations (Calculon's
  ``validation/seqsel/tab5``): micro-batch 4 for 22B, 1 otherwise; interleaved schedule with 3
  virtual stages per GPU for 175B and 530B.
* Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
  Megatron-LM", SC'21, Table 1 (A100 on Selene, sequence 2,048, vocabulary 51,200): achieved
  TFLOP/s per GPU at the published TP, PP and GPU count. The table does not give micro-batch
  sizes or schedules; every row here uses one rule: micro-batch 1, no interleaving, full
  recomputation (the paper's setting), data-parallel all-reduce not overlapped with the backward
  pass (Megatron-LM of 2021).
* Serving (:data:`SERVING_MEASUREMENTS`): NVIDIA's NIM benchmarking guide (TensorRT-LLM, FP8,
  Llama-3.3-70B on two H100s, one request at a time: time to first token and inter-token
  latency) and vLLM's published CI latency tests (BF16 on H200, 8 requests of 32 tokens in and
  128 out: mean request latency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .hardware import dgx_cluster
from .simulator import LLMServingSimulator, LLMTrainingSimulator, ServingWorkload, TrainingWorkload
from .transformers import PRESETS

BASE_DESIGN: dict[str, Any] = {
    "cp": 1, "zero": 0, "overlap_dp": False, "overlap_tp": False, "flash_attention": False,
    "collective_dim0": "ring", "collective_dim1": "ring", "chunks": 1,
}  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One published configuration and its measurement."""

    model: str
    tp: int
    pp: int
    gpus: int
    global_batch: int
    micro_batch: int
    interleave: int
    sequence_parallel: bool
    recompute: str
    published: float  # step seconds (Korthikanti) or TFLOP/s per GPU (Narayanan)
    metric: str

    def design(self) -> dict[str, Any]:
        return {
            **BASE_DESIGN,
            "tp": self.tp,
            "pp": self.pp,
            "dp": self.gpus // (self.tp * self.pp),
            "micro_batch": self.micro_batch,
            "interleave": self.interleave,
            "sequence_parallel": self.sequence_parallel,
            "recompute": self.recompute,
        }

    def evaluate(self, gpu: str = "a100-80gb") -> dict[str, float]:
        sim = LLMTrainingSimulator(dgx_cluster(gpu, self.gpus))
        return sim.evaluate(self.design(), TrainingWorkload(PRESETS[self.model], self.global_batch))


def _k22(model: str, tp: int, pp: int, batch: int, mb: int, v: int, full: float, seqsel: float) -> list[Row]:
    return [
        Row(model, tp, pp, tp * pp, batch, mb, v, False, "full", full, "step_time_s"),
        Row(model, tp, pp, tp * pp, batch, mb, v, True, "selective", seqsel, "step_time_s"),
    ]


KORTHIKANTI_2022: tuple[Row, ...] = (
    *_k22("megatron-22b", 8, 1, 4, 4, 1, 1.42, 1.10),
    *_k22("gpt3-175b", 8, 8, 64, 1, 3, 18.13, 13.75),
    *_k22("megatron-530b", 8, 35, 280, 1, 3, 49.05, 37.83),
    *_k22("megatron-1t", 8, 64, 512, 1, 1, 94.42, 71.49),
)
#: their MFU with sequence parallelism + selective recomputation (Korthikanti et al. Table 5)
KORTHIKANTI_MFU = {"megatron-22b": 0.415, "gpt3-175b": 0.514, "megatron-530b": 0.560, "megatron-1t": 0.563}


def _sc21(model: str, tp: int, pp: int, gpus: int, batch: int, tflops: float) -> Row:
    return Row(model, tp, pp, gpus, batch, 1, 1, False, "full", tflops, "tflops_per_gpu")


NARAYANAN_SC21: tuple[Row, ...] = (
    _sc21("gpt-1.7b", 1, 1, 32, 512, 137),
    _sc21("gpt-3.6b", 2, 1, 64, 512, 138),
    _sc21("gpt-7.5b", 4, 1, 128, 512, 142),
    _sc21("gpt-18.4b", 8, 1, 256, 1024, 135),
    _sc21("gpt-39.1b", 8, 2, 512, 1536, 138),
    _sc21("gpt-76.1b", 8, 4, 1024, 1792, 140),
    _sc21("gpt-145.6b", 8, 8, 1536, 2304, 148),
    _sc21("gpt-310.1b", 8, 16, 1920, 2160, 155),
    _sc21("gpt-529.6b", 8, 35, 2520, 2520, 163),
    _sc21("gpt-1t", 8, 64, 3072, 3072, 163),
)


@dataclass(frozen=True)
class ServingRow:
    """One published serving measurement (batch of simultaneous requests, no queueing)."""

    source: str
    model: str
    gpu: str
    tp: int
    prompt: int
    output: int
    batch: int
    weight_bits: int
    kv_bits: int
    published: dict[str, float]  # metric -> value (seconds)

    def evaluate(self) -> dict[str, float]:
        sim = LLMServingSimulator(dgx_cluster(self.gpu, self.tp))
        design = {"tp": self.tp, "pp": 1, "batch": self.batch, "weight_bits": self.weight_bits,
                  "kv_bits": self.kv_bits, "collective_dim0": "ring", "collective_dim1": "ring", "chunks": 1}  # fmt: skip
        return sim.evaluate(design, ServingWorkload(PRESETS[self.model], self.prompt, self.output))


_NIM = "NVIDIA NIM for LLMs benchmarking guide 1.0.0, 'Performance', Llama-3.3-70B-Instruct, NIM 1.8.0, concurrency 1"
_VLLM = "vLLM performance benchmark (buildkite vllm/performance-benchmark build 9515), latency tests, mean"
#: Llama-3.3-70B and Llama-3.1-8B have the shapes of the llama3-70b / llama3-8b presets. NIM runs
#: TensorRT-LLM in FP8 (weights, activations and KV cache); vLLM's latency tests run BF16.
SERVING_MEASUREMENTS: tuple[ServingRow, ...] = (
    ServingRow(
        _NIM, "llama3-70b", "h100-80gb", 2, 5000, 500, 1, 8, 8, {"ttft_s": 0.40677, "tpot_s": 0.01858}
    ),
    ServingRow(
        _NIM, "llama3-70b", "h100-80gb", 2, 500, 2000, 1, 8, 8, {"ttft_s": 0.04777, "tpot_s": 0.01891}
    ),
    ServingRow(_VLLM, "llama3-70b", "h200-141gb", 4, 32, 128, 8, 16, 16, {"request_latency_s": 2.07753}),
    ServingRow(_VLLM, "llama3-8b", "h200-141gb", 1, 32, 128, 8, 16, 16, {"request_latency_s": 0.833421}),
)
