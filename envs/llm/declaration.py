"""``archgym/LLMTraining-v0`` and ``archgym/LLMServing-v0`` as ``archgym envs`` lists them (see
:mod:`archgym.declaration`)."""

from __future__ import annotations

from archgym.declaration import EnvDeclaration, factory_defaults
from archgym.design_space import DesignSpace

from .space import serving_space, training_space
from .transformers import load_transformer


def training_default_space() -> DesignSpace:
    """The training knobs of the factory's default model on its default cluster."""
    from .env import build_cluster, make_llm_training_env

    d = factory_defaults(make_llm_training_env)
    cluster = build_cluster(d["gpu"], d["gpus"], d["gpus_per_node"], d["network"])
    model = load_transformer(d["model"], d["seq_len"])
    return training_space(model, cluster, d["search_network"], d["max_cp"])


def serving_default_space() -> DesignSpace:
    """The serving knobs of the factory's default model on its default cluster."""
    from .env import build_cluster, make_llm_serving_env

    d = factory_defaults(make_llm_serving_env)
    cluster = build_cluster(d["gpu"], d["gpus"], d["gpus_per_node"], d["network"])
    return serving_space(load_transformer(d["model"]), cluster, d["search_network"])


_SPACE_NOTE = "parallelism degrees are divisors of the GPU count; network knobs per cluster dimension"

LLM_TRAINING = EnvDeclaration(
    factory="archgym.envs.llm.env:make_llm_training_env",
    simulator="archgym-llm-training: analytical (roofline GEMMs, Korthikanti memory, ASTRA-sim collectives)",
    metrics="archgym.envs.llm.simulator:TRAINING_METRICS",
    space="archgym.envs.llm.declaration:training_default_space",
    space_note=_SPACE_NOTE + " (shown: gpt3-175b on 64 A100s)",
)
LLM_SERVING = EnvDeclaration(
    factory="archgym.envs.llm.env:make_llm_serving_env",
    simulator="archgym-llm-serving: analytical (roofline prefill/decode, KV cache, ASTRA-sim collectives)",
    metrics="archgym.envs.llm.simulator:SERVING_METRICS",
    space="archgym.envs.llm.declaration:serving_default_space",
    space_note=_SPACE_NOTE + " (shown: llama3-70b on 8 H100s)",
)
