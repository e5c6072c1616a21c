"""Distributed LLM training and serving systems (ArchGym's ASTRA-sim case study) on an
analytical model of this package.

Public names: :class:`LLMTrainingSimulator`, :class:`TrainingWorkload`, :class:`LLMServingSimulator`,
:class:`ServingWorkload`, :class:`Transformer`,
:func:`load_transformer`, :data:`PRESETS`, :data:`GPUS`, :func:`dgx_cluster`,
:func:`make_llm_training_env` and :func:`make_llm_serving_env`. See ``envs/llm/README.md``.
"""

from typing import Any

from .hardware import GPUS, Cluster, Gpu, NetworkDim, dgx_cluster
from .simulator import LLMServingSimulator, LLMTrainingSimulator, ServingWorkload, TrainingWorkload
from .transformers import PRESETS, Transformer, WorkloadFormatError, load_transformer

__all__ = [
    "GPUS",
    "PRESETS",
    "Cluster",
    "Gpu",
    "LLMServingSimulator",
    "LLMTrainingSimulator",
    "NetworkDim",
    "ServingWorkload",
    "Transformer",
    "TrainingWorkload",
    "WorkloadFormatError",
    "dgx_cluster",
    "load_transformer",
    "make_llm_serving_env",
    "make_llm_training_env",
]


def __getattr__(name: str) -> Any:
    if name in ("make_llm_training_env", "make_llm_serving_env"):  # lazy: gymnasium and the objective
        from . import env

        return getattr(env, name)
    raise AttributeError(name)
