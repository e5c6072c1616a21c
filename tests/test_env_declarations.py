"""Every built-in env's declaration (what ``archgym envs`` lists) matches the env it builds, and
listing the envs loads no model."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archgym.declaration import EnvDeclaration, factory_defaults
from archgym.env import unwrap
from archgym.registry import env_declaration, env_entry_points, make_env

BUILTIN = sorted(i for i, entry in env_entry_points().items() if entry.startswith("archgym.envs."))
#: explicit targets where the default ones come from a search over the model (not what is compared)
BUILD_KWARGS = {"archgym/Accelerator-v0": {"targets": {"latency_ms": 5.0, "energy_uj": 1e4, "area_mm2": 5.0}}}


@pytest.mark.parametrize("env_id", BUILTIN)
def test_declaration_matches_the_built_env(env_id: str) -> None:
    declaration = env_declaration(env_id)
    assert isinstance(declaration, EnvDeclaration), f"{env_id} has no declaration"
    env = make_env(env_id, **BUILD_KWARGS.get(env_id, {}))
    try:
        base = unwrap(env)
        assert declaration.declared_metrics() == tuple(base.simulator.metrics)
        space = declaration.declared_space()
        if space is None:
            assert declaration.space_note, "a declaration without a space says how the knobs form"
        else:
            assert space.describe() == base.space.describe()
        assert base.simulator.version.split(" ")[0] in declaration.simulator
    finally:
        env.close()


def test_declaration_builds_through_its_factory_with_its_keywords() -> None:
    declaration = env_declaration("archgym/SoC-v0")
    assert declaration is not None
    factory = declaration.load_factory()
    assert factory_defaults(factory)["workload"] == "audio_decoder"
    env = declaration(workload="audio_decoder", n_pe=2)
    assert unwrap(env).simulator.n_pe == 2


def test_listing_the_envs_loads_no_torch_model() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from archgym.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out): rc = main(['envs'])\n"
        "assert rc == 0\n"
        "assert 'unavailable' not in out.getvalue(), out.getvalue()\n"
        "print('torch' in sys.modules)\n"
        "print(out.getvalue().count('metrics: '))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, listed = proc.stdout.splitlines()[-2:]
    assert loaded == "False"  # torch (the accelerator and NAS models) stays unloaded
    assert int(listed) == len(BUILTIN)
