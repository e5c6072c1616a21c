"""Bad input: one line on stderr, exit 2, nothing left behind; designs refused before simulation."""

import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import make_test_env

from archgym.design_space import InvalidDesignError
from archgym.envs.accelerator.simulator import AcceleratorSimulator
from archgym.envs.dram import DEFAULT_DESIGN, DRAMSimulator
from archgym.generate import generate_dataset
from archgym.registry import ConfigError, make_env
from archgym.simulator import SimulationError

ARCHGYM = [sys.executable, "-m", "archgym.cli"]
DRAM = ["env=dram", "env.kwargs.workload=random", "+env.kwargs.n_requests=200", "progress=false", "budget=3"]
ACCEL = {
    "dataflow": "ws",
    "pe_rows": 12,
    "pe_cols": 14,
    "rf_bytes": 512,
    "glb_kib": 108,
    "noc_bw": 64,
    "dram_bw": 25.6,
    "clock_mhz": 200,
    "precision_bits": 16,
}


def cli(*args, cwd):
    return subprocess.run([*ARCHGYM, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def one_error_line(proc):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("archgym: error: "), proc.stderr
    return lines[0]


BAD_RUN_INPUT = [
    ({"env": {"kwargs": {"workload": "{empty}"}}}, "has no requests"),
    ({"env": {"kwargs": {"workload": "{comments}"}}}, "has no requests"),
    ({"env": {"kwargs": {"targets": {"power_mw": -100}}}}, "target for 'power_mw' must be positive"),
    ({"env": {"kwargs": {"targets": {"power_mw": math.nan}}}}, "'power_mw' must be a non-zero finite number"),
    ({"env": {"kwargs": {"targets": {"power_mw": math.inf}}}}, "'power_mw' must be a non-zero finite number"),
    ({"stop_on_success": "maybe"}, "stop_on_success: must be true or false, got 'maybe'"),
    ({"resume": "no"}, "resume: must be true or false, got 'no'"),
]


def _traces(tmp_path):
    (tmp_path / "empty.stl").write_text("")
    (tmp_path / "comments.stl").write_text("# a trace with no requests\n")
    return {"empty": str(tmp_path / "empty.stl"), "comments": str(tmp_path / "comments.stl")}


def _merge(base, change):
    out = dict(base)
    for k, v in change.items():
        out[k] = _merge(base.get(k, {}), v) if isinstance(v, dict) else v
    return out


@pytest.mark.parametrize("change, culprit", BAD_RUN_INPUT)
def test_bad_run_input_is_refused_before_anything_is_written(tmp_path, change, culprit):
    from archgym.runner import run_experiment

    traces = _traces(tmp_path)
    base = {
        "env": {"id": "archgym/DRAMController-v0", "kwargs": {"workload": "random", "n_requests": 200}},
        "agent": {"name": "random", "params": {}},
        "budget": 3,
        "progress": False,
    }
    cfg = _merge(base, change)
    if cfg["env"]["kwargs"]["workload"] in ("{empty}", "{comments}"):
        cfg["env"]["kwargs"]["workload"] = traces[cfg["env"]["kwargs"]["workload"][1:-1]]
    with pytest.raises(ConfigError) as err:
        run_experiment(cfg, tmp_path / "out" / "run")
    assert culprit in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "out" / "run").exists()


def test_bad_run_input_on_the_command_line_exits_2_and_leaves_no_run_dir(tmp_path):
    trace = _traces(tmp_path)["comments"]
    proc = cli(
        "run", *DRAM, f"env.kwargs.workload={trace}", f"hydra.run.dir={tmp_path}/out/run", cwd=tmp_path
    )
    assert "has no requests" in one_error_line(proc) and not (tmp_path / "out" / "run").exists()
    proc = cli("run", *DRAM, "stop_on_success=maybe", cwd=tmp_path)  # default directory
    assert "stop_on_success" in one_error_line(proc)
    assert not list((tmp_path / "runs").glob("*/*/*"))


def test_generate_bad_input_exits_2(tmp_path):
    line = one_error_line(
        cli(
            "generate",
            "--env",
            "archgym/DRAMController-v0",
            "-n",
            "2",
            "--env-arg",
            "bogus=1",
            "-o",
            "g",
            cwd=tmp_path,
        )
    )
    assert "bogus" in line and not (tmp_path / "g").exists()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    line = one_error_line(
        cli(
            "generate",
            "--env",
            "archgym/Accelerator-v0",
            "-n",
            "2",
            "-o",
            "taken",
            "--no-progress",
            cwd=tmp_path,
        )
    )
    assert "taken" in line and "--overwrite" in line
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["notes.txt"]


def test_generate_resumes_and_overwrites_only_when_asked(tmp_path):
    import warnings

    from archgym.runlock import StaleLockWarning

    with warnings.catch_warnings():  # a stale-lock warning here would mean a lock was not released
        warnings.simplefilter("error", StaleLockWarning)
        first = generate_dataset(make_test_env(), tmp_path / "g", 20, "sobol", seed=1, progress=False)
        again = generate_dataset(make_test_env(), tmp_path / "g", 20, "sobol", seed=1, progress=False)
    assert first.summary.run_id == again.summary.run_id  # complete: reused, not redone
    with pytest.raises(ConfigError, match="--overwrite"):
        generate_dataset(make_test_env(), tmp_path / "g", 20, "random", seed=1, progress=False)
    other = generate_dataset(make_test_env(), tmp_path / "g", 10, "random", progress=False, overwrite=True)
    assert other.designs == 10 and other.summary.agent == "generate-random"


@pytest.mark.parametrize("command", ["envs", "agents"])
def test_listing_commands_print_help(tmp_path, command):
    proc = cli(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith(f"usage: archgym {command}")


# --------------------------------------------------------------- designs (item 7)
@pytest.mark.parametrize(
    "entry, message",
    [
        (np.nan, "'units': action index nan is not a finite number"),
        (np.inf, "'units': action index inf is not a finite number"),
        (1.5, "'units': action index 1.5 is not a whole number"),
        (None, "'units': action index None is not a number"),
        ("2", "'units': action index '2' is not a number"),
        (99, "'units': action index 99 outside 0..15"),
    ],
)
def test_env_step_refuses_bad_actions(entry, message):
    env = make_test_env()
    env.reset(seed=0)
    with pytest.raises(ValueError) as err:
        env.step(np.array([0, entry, 0, 0], dtype=object))
    assert message in str(err.value)
    assert env.n_evaluations == 0
    _, reward, *_ = env.step(np.array([0, 3.0, 0, 0]))  # an integral float is a valid index
    assert math.isfinite(reward)


def test_box_env_step_refuses_nan():
    env = make_test_env(action_encoding="box")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="'freq': action value nan is not a finite number"):
        env.step(np.array([0.0, 0.0, 0.0, np.nan], dtype=np.float32))


@pytest.mark.parametrize(
    "design, message",
    [
        ({"mode": "a", "units": 1.5, "buffer": 8, "freq": 1.0}, "parameter 'units': invalid value 1.5"),
        (
            {"mode": "a", "units": float("nan"), "buffer": 8, "freq": 1.0},
            "parameter 'units': invalid value nan",
        ),
        ({"mode": "a", "units": None, "buffer": 8, "freq": 1.0}, "parameter 'units': invalid value None"),
        ({"mode": "a", "units": 4, "buffer": 8}, "missing parameter(s): freq"),
        ({"mode": "a", "units": 4, "buffer": 8, "freq": 1.0, "x": 1}, "unknown parameter(s) 'x'"),
    ],
)
def test_env_evaluate_refuses_bad_designs(design, message):
    with pytest.raises(ValueError) as err:
        make_test_env().evaluate([design])
    assert message in str(err.value)


def test_dram_simulator_refuses_missing_extra_and_non_integral_values():
    sim = DRAMSimulator()
    full = dict(DEFAULT_DESIGN)
    partial = {k: v for k, v in full.items() if k != "scheduler"}
    with pytest.raises(InvalidDesignError, match="missing parameter.*scheduler"):
        sim.encode_design(partial)  # no longer filled with the default
    with pytest.raises(InvalidDesignError, match="unknown parameter.*'colour'"):
        sim.encode_design({**full, "colour": "red"})
    with pytest.raises(InvalidDesignError, match="'request_buffer_size': invalid value 8.5"):
        sim.encode_design({**full, "request_buffer_size": 8.5})
    with pytest.raises(InvalidDesignError, match="'request_buffer_size': invalid value nan"):
        sim.encode_design({**full, "request_buffer_size": float("nan")})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dram_bw": float("nan")}, "parameter 'dram_bw': value nan is not a finite number"),
        ({"clock_mhz": float("inf")}, "parameter 'clock_mhz': value inf is not a finite number"),
        ({"pe_rows": 12.5}, "parameter 'pe_rows': 12.5 is not a whole number >= 1"),
        ({"precision_bits": None}, "parameter 'precision_bits': value None is not a number"),
        ({"noc_bw": "64"}, "parameter 'noc_bw': value '64' is not a number"),
        ({"colour": "red"}, "unknown parameter(s) colour"),
    ],
)
def test_accelerator_simulator_refuses_bad_designs(change, message):
    with pytest.raises(SimulationError) as err:
        AcceleratorSimulator().evaluate({**ACCEL, **change}, "alexnet")
    assert message in str(err.value)
    missing = {k: v for k, v in ACCEL.items() if k != "dram_bw"}
    with pytest.raises(SimulationError, match="lacks parameter.*dram_bw"):
        AcceleratorSimulator().evaluate(missing, "alexnet")


def test_codesign_simulator_refuses_unknown_keys():
    env = make_env("archgym/CoDesign-v0")
    base = env.unwrapped
    design = base.space.sample(np.random.default_rng(0))
    with pytest.raises(InvalidDesignError, match="unknown parameter.*'bogus'"):
        base.simulator.evaluate_many([{**design, "bogus": 1}], base.workload)
