"""The ViT space: real transformers whose attention/MLP GEMMs the accelerator model costs."""

import math

import numpy as np
import pytest
import torch
from _nas_fixtures import digits_fixture, one_torch_thread  # noqa: F401

from archgym.envs.accelerator import EYERISS_LIKE
from archgym.envs.accelerator.layers import total_macs
from archgym.envs.nas import vit_space
from archgym.envs.nas.env import make_nas_env
from archgym.envs.nas.hardware import HardwareCost
from archgym.envs.nas.proxies import PROXIES, ProxyEvaluator, dss, naswot
from archgym.envs.nas.runtime import seeded
from archgym.envs.nas.training import TrainEvaluator, TrainSettings
from archgym.envs.nas.vit_space import ViTSpace

SPACE = ViTSpace()


def design(patch=4, dim=24, depth=2, heads=(2, 4, 1, 1), mlp=(2.0, 4.0, 1.0, 1.0)):
    d = {"patch_size": patch, "embed_dim": dim, "depth": depth}
    for i in range(4):
        d[f"layer{i + 1}_heads"], d[f"layer{i + 1}_mlp"] = heads[i], mlp[i]
    return d


def test_space_and_keys():
    assert SPACE.space.names[:3] == ("patch_size", "embed_dim", "depth")
    a, b = design(depth=2, heads=(2, 4, 1, 1)), design(depth=2, heads=(2, 4, 4, 2))
    assert SPACE.arch_key(a) == SPACE.arch_key(b) == "p4-d24-L2-h2m2-h4m4"  # unused layers ignored
    assert SPACE.arch_key(design(depth=3)) != SPACE.arch_key(a)
    ref = SPACE.reference_design()
    assert ref["patch_size"] == 2 and ref["embed_dim"] == 32 and ref["depth"] == 4
    with pytest.raises(ValueError, match="divisible"):
        ViTSpace(embed_dims=(18,), heads=(4,))
    with pytest.raises(ValueError, match="patch sizes"):
        ViTSpace((3, 32, 32), 10, patch_sizes=(5,))


def test_parameter_count_matches_the_architecture():
    d = design(patch=4, dim=24, depth=2, heads=(2, 4, 1, 1), mlp=(2.0, 4.0, 1.0, 1.0))
    model = SPACE.build(d)
    D, tokens, classes = 24, (8 // 4) ** 2 + 1, 10
    expected = 1 * D * 16 + D + D + tokens * D  # patch conv, class token, positions
    for r in (2.0, 4.0):
        h = int(D * r)
        expected += 2 * 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * h + h) + (h * D + D)
    expected += 2 * D + D * classes + classes
    assert sum(p.numel() for p in model.parameters()) == expected
    assert model(torch.zeros(5, 1, 8, 8)).shape == (5, 10)


def test_attention_and_mlp_gemms_are_traced_and_costed():
    d = design(patch=2, dim=16, depth=1, heads=(4, 1, 1, 1), mlp=(2.0, 1.0, 1.0, 1.0))
    hw = HardwareCost(SPACE)
    layers = {l.name: l for l in hw.layers(d)}
    T, D, H = 17, 16, 4
    scores, context = layers["blocks.0.attn.scores"], layers["blocks.0.attn.context"]
    assert scores.kind == "gemm" and scores.groups == H and scores.P == T
    assert total_macs([scores]) == total_macs([context]) == H * T * T * (D // H)
    assert layers["blocks.0.attn.qkv"].P == T and layers["blocks.0.attn.qkv"].K == 3 * D
    analytic = (
        4 * D * 4 * 4 * 2 / 2 + T * (3 * D * D + D * D + 2 * D * 2 * D) + 2 * H * T * T * (D // H) + D * 10
    )
    assert total_macs(list(layers.values())) == analytic
    small = hw.cost(d, [EYERISS_LIKE])[0]
    deeper = hw.cost({**d, "depth": 3}, [EYERISS_LIKE])[0]
    wider = hw.cost({**d, "embed_dim": 32}, [EYERISS_LIKE])[0]
    assert deeper["latency_ms"] > small["latency_ms"] and wider["energy_uj"] > small["energy_uj"]


def test_proxies_apply_to_transformers(digits, monkeypatch):
    ev = ProxyEvaluator(SPACE, digits, tuple(PROXIES))
    rng = np.random.default_rng(0)
    for d in [SPACE.reference_design(), *(SPACE.sample(rng) for _ in range(2))]:
        scores = ev(d)
        assert all(math.isfinite(v) for v in scores.values()), scores
        assert scores["synflow"] > 0 and scores["grad_norm"] > 0  # not degenerate through LayerNorm/GELU
    x, y = digits.minibatch(32)
    with seeded(0):
        model = SPACE.build(design())
    # naswot reads GELU inputs: with no hooked activation the kernel is 0 and the score is the floor
    assert naswot(model, x, y) > 100.0
    # dss adds the attention layers' synaptic diversity to the saliency of the rest
    with_attention = dss(model, x, y)
    monkeypatch.setattr(vit_space, "MultiHeadAttention", type("NoAttention", (torch.nn.Module,), {}))
    assert with_attention != pytest.approx(dss(model, x, y))


def test_small_vit_trains_on_digits(digits):
    res = TrainEvaluator(SPACE, digits, TrainSettings(epochs=2)).result(design(patch=4, dim=24, depth=2))
    assert res.val_accuracy > 0.5, res  # chance is 0.1 (4 epochs reach about 0.9)


def test_nas_env_with_vit_space():
    env = make_nas_env(space="vit", proxies=["naswot", "dss", "params_m"])
    assert env.objective.modes == {"naswot": "at_least", "latency_ms": "at_most"}
    ev = env.evaluate([design()])[0]
    assert ev.error is None and ev.metrics["latency_ms"] > 0 and ev.metrics["dss"] > 0
