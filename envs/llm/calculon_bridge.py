"""Calculon (calculon-ai/calculon, Isaev et al. SC'23) as a second simulator of the training env.

Calculon is not on PyPI and is never imported or copied here: :class:`CalculonSimulator` writes
its three JSON inputs (application: our transformer's shapes; execution: the design; system:
Calculon's own ``systems/a100_80g.json`` or ``systems/h100_80g_nvl8.json``) and runs
``<python> <path>/bin/calculon llm app.json exe.json system.json out.json`` in a separate
process, with ``PYTHONPATH=<path>``. Use it with ``archgym validate --simulator calculon``
(``-s path=...``), or ``env.simulator=calculon env.simulator.path=/path/to/calculon`` in a run.

Calculon models what Megatron-LM can run; a design it cannot express raises
:class:`~archgym.errors.SimulationError` naming the knob: context parallelism, ZeRO-2/3, fused
attention, TP overlap, collective algorithms other than ring, chunking, a network other than the
two-level DGX layout on A100-80GB or H100-80GB, and TP other than 8 (Calculon's system files make
the NVLink domain of 8 GPUs be filled by TP). Step time and memory are Calculon's;
``tflops_per_gpu`` and ``mfu`` follow from its step time with this package's FLOP counts, and
``network_cost`` is this package's (Calculon has none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archgym.env import ArchGymEnv
from archgym.errors import ConfigError, SimulationError
from archgym.simulator import Metrics, PreparedWorkload, Simulator, check_settings

from .simulator import TRAINING_METRICS, LLMTrainingSimulator, TrainingWorkload, as_training_workload
from .training import GIB
from .transformers import Transformer

#: Calculon's system files for the GPUs it describes
CALCULON_SYSTEMS = {"a100-80gb": "systems/a100_80g.json", "h100-80gb": "systems/h100_80g_nvl8.json"}
RECOMPUTE_TO_CALCULON = {"none": "none", "selective": "attn_only", "full": "full"}
_FIXED = {"cp": 1, "overlap_tp": False, "flash_attention": False, "chunks": 1}


def calculon_application(model: Transformer) -> dict[str, Any]:
    """Calculon's application file for a transformer (it has no vocabulary or KV heads)."""
    return {
        "hidden": model.hidden, "feedforward": model.ffn, "seq_size": model.seq_len, "attn_heads": model.heads,
        "attn_size": model.head_dim, "num_blocks": model.layers,
    }  # fmt: skip


def calculon_execution(design: Mapping[str, Any], global_batch: int) -> dict[str, Any]:
    """Calculon's execution file for a training design."""
    d = design
    return {
        "num_procs": d["tp"] * d["pp"] * d["dp"], "tensor_par": d["tp"], "pipeline_par": d["pp"],
        "data_par": d["dp"], "tensor_par_net": 0, "pipeline_par_net": 1, "data_par_net": 1,
        "batch_size": global_batch, "microbatch_size": d["micro_batch"], "datatype": "float16",
        "fused_activation": True, "attention_type": "multihead",
        "activation_recompute": RECOMPUTE_TO_CALCULON[d["recompute"]],
        "pipeline_interleaving": d["interleave"], "optimizer_sharding": d["zero"] == 1,
        "tensor_par_comm_type": "rs_ag" if d["sequence_parallel"] else "ar", "tensor_par_overlap": "none",
        "seq_par_ag_redo": bool(d["sequence_parallel"]), "data_par_overlap": bool(d["overlap_dp"]),
        "weight_offload": False, "activations_offload": False, "optimizer_offload": False, "training": True,
    }  # fmt: skip


def inexpressible(design: Mapping[str, Any]) -> str | None:
    """Why Calculon cannot evaluate a design, or None."""
    for knob, value in _FIXED.items():
        if design.get(knob, value) != value:
            return f"Calculon has no {knob} = {design[knob]!r} (only {value!r})"
    if design["zero"] not in (0, 1):
        return f"Calculon shards optimizer state only (zero 0 or 1), not zero = {design['zero']}"
    if design["tp"] != 8:
        return f"Calculon's DGX system files need tp = 8 to fill the NVLink domain, not tp = {design['tp']}"
    for k, v in design.items():
        if k.startswith("collective_dim") and v != "ring":
            return f"Calculon costs ring collectives only, not {k} = {v!r}"
    return None


def run_calculon(
    path: Path, python: str, app: dict[str, Any], exe: dict[str, Any], system: str
) -> dict[str, Any]:
    """Calculon's stats for one configuration; raises :class:`SimulationError` if it refuses it."""
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "app.json").write_text(json.dumps(app))
        (t / "exe.json").write_text(json.dumps(exe))
        cmd = [python, str(path / "bin" / "calculon"), "llm", str(t / "app.json"), str(t / "exe.json"),
               str(path / system), str(t / "out.json")]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(path)}
        proc = subprocess.run(cmd, cwd=path, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not (t / "out.json").exists():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SimulationError(f"Calculon refused the configuration: {last[0]}")
        return dict(json.loads((t / "out.json").read_text()))


class CalculonSimulator(Simulator[TrainingWorkload]):
    """The training env's designs costed by Calculon, run out of process (module docstring)."""

    metrics = TRAINING_METRICS

    def __init__(self, path: str | Path, native: LLMTrainingSimulator, python: str = sys.executable) -> None:
        self.path = Path(path)
        if not (self.path / "bin" / "calculon").is_file():
            raise ConfigError(f"simulator 'calculon': no bin/calculon under path {str(self.path)!r}")
        gpu = native.cluster.gpu.name
        if gpu not in CALCULON_SYSTEMS or len(native.cluster.dims) != 2:
            raise ConfigError(
                f"simulator 'calculon' describes DGX clusters of {', '.join(CALCULON_SYSTEMS)} only, not {gpu}"
            )
        self.native, self.python, self.system = native, str(python), CALCULON_SYSTEMS[gpu]
        self.version = f"calculon (external, {self.path}; system {self.system})"
        self._cache: dict[tuple[Any, ...], Metrics] = {}

    def prepare(self, workload: object) -> PreparedWorkload[TrainingWorkload]:
        wl = as_training_workload(workload)
        return PreparedWorkload(wl, wl.name, workload, (repr(wl),))

    def evaluate(self, design: Mapping[str, Any], workload: Any) -> Metrics:
        wl = as_training_workload(workload)
        ours = self.native.evaluate_arrays([design], wl)  # checks the design; gives the FLOP rates' scale
        why = inexpressible(design)
        for i, dim in enumerate(self.native.cluster.dims):
            if (
                design.get(f"topology_dim{i}", dim.topology) != dim.topology
                or design.get(f"bandwidth_dim{i}", dim.bandwidth_gbps) != dim.bandwidth_gbps
            ):
                why = (
                    why
                    or f"Calculon's system files fix network dimension {i} ({dim.topology}, {dim.bandwidth_gbps} GB/s)"
                )
        if why:
            raise SimulationError(why)
        key = (wl, tuple(sorted(design.items())))
        if key not in self._cache:
            exe = calculon_execution(design, wl.global_batch)
            stats = run_calculon(self.path, self.python, calculon_application(wl.model), exe, self.system)
            step = float(stats["total_time"])
            scale = float(ours["step_time_s"][0]) / step  # FLOP rates scale inversely with time
            self._cache[key] = {
                "step_time_s": step,
                "tflops_per_gpu": float(ours["tflops_per_gpu"][0]) * scale,
                "mfu": float(ours["mfu"][0]) * scale,
                "memory_gb": float(stats["proc_mem_tier1_cap_req"]) / GIB,
                "network_cost": float(ours["network_cost"][0]),
            }
        return dict(self._cache[key])


def calculon_simulator(env: ArchGymEnv, settings: Mapping[str, Any]) -> CalculonSimulator:
    """``env.simulator=calculon`` (an ``archgym.simulators`` entry point): Calculon run out of
    process; settings ``path`` (a Calculon checkout, required) and ``python`` (default: this one)."""
    native = getattr(env, "_native", None)
    if not isinstance(native, LLMTrainingSimulator):
        raise ConfigError(f"simulator 'calculon' costs archgym/LLMTraining-v0 designs, not {env.env_id}'s")
    s = check_settings("calculon", settings, {"path": None, "python": sys.executable})
    if not s["path"]:
        raise ConfigError(
            "simulator 'calculon' needs its path setting: a Calculon checkout (github calculon-ai/calculon)"
        )
    return CalculonSimulator(str(s["path"]), native, str(s["python"]))
