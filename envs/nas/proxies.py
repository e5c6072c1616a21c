"""Zero-cost proxies: score an untrained network from one minibatch, without training.

Every proxy is a function ``(model, x, y) -> float`` (higher = predicted better) and gets a
freshly initialised network; :class:`ProxyEvaluator` builds the network of a design with a
fixed seed, runs the chosen proxies on one fixed minibatch and caches by architecture.

* ``synflow`` — Tanaka et al., "Pruning neural networks without any data by iteratively
  conserving synaptic flow", NeurIPS 2020, used as a NAS proxy by Abdelfattah et al.,
  "Zero-Cost Proxies for Lightweight NAS", ICLR 2021: with every weight replaced by its
  absolute value, BatchNorm in inference mode at its initial statistics (so it is
  nearly the identity), in float64, the all-ones input gives ``R = sum(f(1))``; the score
  is ``S = sum over conv/linear weights of theta * dR/dtheta``. Reported as ``ln(1 + S)``
  (``S`` spans many orders of magnitude and is 0 for a network whose output ignores its input).
* ``naswot`` — Mellor et al., "Neural Architecture Search without Training", ICML 2021:
  the binary codes of every ReLU's input (``> 0``) over the minibatch give the kernel
  ``K_ij = N_A - hamming(c_i, c_j)``; the score is ``ln det K``. Eigenvalues are floored at
  ``1e-9 * trace(K)`` so a singular kernel (inputs not told apart) gives a very low but finite
  score instead of ``-inf``.
* ``jacov`` — the Jacobian-covariance score of Mellor et al.'s first version (arXiv
  2006.04647v1): the correlation matrix ``Σ`` of the per-image input gradients of the
  summed output, ``-sum_i (ln(λ_i + k) + 1/(λ_i + k))`` over its eigenvalues, ``k = 1e-5``.
  Images whose gradient is constant (e.g. zero) get correlation 0 instead of NaN.
* ``grad_norm`` — Abdelfattah et al. 2021: the sum over conv/linear layers of the L2 norm
  of the cross-entropy loss gradient w.r.t. the layer's weights.
* ``dss`` — Zhou et al., "Training-free Transformer Architecture Search", CVPR 2022: the
  synaptic diversity (nuclear norms of weight and gradient) of attention layers plus the
  synaptic saliency ``|W * dL/dW|`` of the others, ``ln(1 + .)``; made for ViT spaces.

All proxies apply to the transformers of :mod:`.vit_space`: ``naswot`` codes GELU inputs
like ReLU inputs, ``synflow`` sees LayerNorm with its initial (unit) scale, and the
gradient-based ones read the attention and MLP ``nn.Linear`` weights.
* ``params_m`` — trainable parameters, millions.
* ``flops_m`` — ``2 x`` multiply-accumulates of the conv/linear layers for one image,
  millions, counted on the layers traced by the accelerator environment's tracer
  (:func:`archgym.envs.accelerator.tracing.trace_layers`; element-wise layers not counted).

``naswot``, ``jacov`` and ``grad_norm`` run the network in training mode (BatchNorm with
batch statistics), as the papers do.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archgym.envs.accelerator.layers import total_macs
from archgym.envs.accelerator.tracing import trace_layers

from .cache import ArchCache
from .data import ImageData
from .metrics import COST_PROXIES, DEFAULT_PROXIES, PROXY_SCALES
from .runtime import cpu_threads, resolve_device, seeded
from .search_space import NetworkSpace

ProxyFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], float]
_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Linear)
#: activations whose input sign gives naswot's binary code (GELU: transformers' ReLU)
_RELUS = (nn.ReLU, nn.ReLU6, nn.GELU)


def _weighted_layers(model: nn.Module) -> list[nn.Conv1d | nn.Conv2d | nn.Linear]:
    return [m for m in model.modules() if isinstance(m, _WEIGHTED)]


def synflow(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """``ln(1 + synaptic flow)`` of the network (data-free: only ``x``'s shape is used).

    Works on a float64 copy with ``|theta|`` weights; bounded or smooth activations (ReLU6,
    GELU) are replaced by ReLU in the copy, since synaptic flow assumes positively homogeneous
    activations and a saturated ReLU6 would block the all-ones signal. LayerNorm keeps only
    its (absolute) affine part, the analogue of BatchNorm at its initial statistics: its
    mean subtraction would make the flow signed and cancel it.
    """
    net = copy.deepcopy(model).double().eval()
    _make_homogeneous(net)
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    net(ones).sum().backward()
    score = 0.0
    with torch.no_grad():
        for m in _weighted_layers(net):
            w = m.weight
            if w.grad is not None:
                score += float((w * w.grad).sum())
    return math.log1p(max(score, 0.0))


class _LayerNormAffine(nn.Module):
    """``x * weight + bias`` of a LayerNorm, without the normalisation (for synflow)."""

    def __init__(self, ln: nn.LayerNorm) -> None:
        super().__init__()
        self.weight, self.bias = ln.weight, ln.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.weight is None else x * self.weight
        return out if self.bias is None else out + self.bias


def _make_homogeneous(net: nn.Module) -> None:
    for name, child in net.named_children():
        if isinstance(child, (nn.ReLU6, nn.GELU)):
            setattr(net, name, nn.ReLU())
        elif isinstance(child, nn.LayerNorm):
            setattr(net, name, _LayerNormAffine(child))
        else:
            _make_homogeneous(child)


def naswot(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """``ln det`` of the ReLU-code agreement kernel over the minibatch (Mellor et al. 2021).

    Hooks read each ReLU's *input* (so in-place activations are safe). The kernel is
    accumulated layer by layer as ``K = N_A - hamming = 2 C C^T - r 1^T - 1 r^T + N_A``
    (``r``: ones per code), in exact integer arithmetic.
    """
    b = x.shape[0]
    kernel = torch.zeros((b, b), dtype=torch.float64)

    def hook(mod: nn.Module, args: tuple, out: Any) -> None:
        codes = (args[0].detach().reshape(b, -1) > 0).to(torch.float32)
        n_a = codes.shape[1]
        # float32 sums of 0/1 products are exact below 2**24 units per layer
        agree = (
            (codes @ codes.T).to(torch.float64).cpu()
            if n_a < 2**24
            else (codes.double() @ codes.double().T).cpu()
        )
        ones = codes.sum(dim=1).to(torch.float64).cpu()
        kernel.add_(2.0 * agree - ones[:, None] - ones[None, :] + float(n_a))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _RELUS)]
    was_training = model.training
    try:
        model.train()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return _logdet_floored(kernel)


def _logdet_floored(kernel: torch.Tensor) -> float:
    eig = torch.linalg.eigvalsh(kernel)
    floor = max(1e-9 * float(torch.trace(kernel)), 1e-12)
    return float(torch.log(eig.clamp_min(floor)).sum())


def jacov(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Jacobian-covariance score (Mellor et al., arXiv 2006.04647v1)."""
    was_training = model.training
    model.train()
    xi = x.detach().clone().requires_grad_(True)
    try:
        model.zero_grad(set_to_none=True)
        out = model(xi)
        out.sum().backward()
    finally:
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    if xi.grad is None:
        raise RuntimeError("jacov: the network's output does not depend on its input")
    jac = xi.grad.detach().reshape(x.shape[0], -1).to(torch.float64).cpu()
    centred = jac - jac.mean(dim=1, keepdim=True)
    norms = centred.norm(dim=1)
    safe = torch.where(norms > 1e-12, norms, torch.ones_like(norms))
    unit = centred / safe[:, None]
    unit[norms <= 1e-12] = 0.0
    corr = unit @ unit.T
    eig = torch.linalg.eigvalsh(corr).clamp_min(0.0)
    k = 1e-5
    return float(-(torch.log(eig + k) + 1.0 / (eig + k)).sum())


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum of per-layer L2 norms of the loss gradient w.r.t. conv/linear weights."""
    was_training = model.training
    model.train()
    try:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        grads = [m.weight.grad for m in _weighted_layers(model)]
        total = sum(float(g.norm()) for g in grads if g is not None)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return float(total)


def dss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """``ln(1 + DSS)``: synaptic diversity of attention plus synaptic saliency of the rest.

    Zhou et al., "Training-free Transformer Architecture Search", CVPR 2022 (TF-TAS): for
    the linear layers inside attention blocks (:class:`~.vit_space.MultiHeadAttention`) the
    diversity ``||W||_* * ||dL/dW||_*`` (nuclear norms), for every other conv/linear layer
    the saliency ``sum |W * dL/dW|``; ``L`` is the cross-entropy of the minibatch. Networks
    without attention (CNN cells) get the saliency term only (SNIP's score).
    """
    from .vit_space import MultiHeadAttention

    attention = {id(m) for a in model.modules() if isinstance(a, MultiHeadAttention) for m in a.modules()}
    was_training = model.training
    model.train()
    score = 0.0
    try:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            for m in _weighted_layers(model):
                w, g = m.weight, m.weight.grad
                if g is None:
                    continue
                if id(m) in attention:
                    w2, g2 = w.reshape(w.shape[0], -1).double(), g.reshape(g.shape[0], -1).double()
                    score += float(torch.linalg.matrix_norm(w2, "nuc") * torch.linalg.matrix_norm(g2, "nuc"))
                else:
                    score += float((w * g).abs().sum())
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return math.log1p(score)


def params_m(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Trainable parameters, in millions."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6


def flops_m(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """``2 x MACs`` of one image through the traced conv/linear layers, in millions."""
    layers = trace_layers(model, (1, *x.shape[1:]))
    return 2.0 * total_macs(layers) / 1e6


#: proxy name -> function; all are "higher is better" except the two cost counts
PROXIES: dict[str, ProxyFn] = {
    "synflow": synflow,
    "naswot": naswot,
    "jacov": jacov,
    "grad_norm": grad_norm,
    "dss": dss,
    "params_m": params_m,
    "flops_m": flops_m,
}


def check_proxy_names(names: Sequence[str]) -> tuple[str, ...]:
    """Validate proxy names (non-empty, known, distinct) and return them as a tuple."""
    names = tuple(names)
    unknown = [n for n in names if n not in PROXIES]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"proxies must be distinct names from {', '.join(PROXIES)}; got {list(names)}")
    return names


@dataclass(frozen=True)
class ProxySettings:
    """How proxies are computed: minibatch size, seed (initialisation and minibatch), device,
    and torch CPU threads while computing (``None``: leave torch's setting)."""

    batch_size: int = 64
    seed: int = 0
    device: str = "cpu"
    cpu_threads: int | None = 1


class ProxyEvaluator:
    """Computes zero-cost proxies of designs of one :class:`NetworkSpace` on one minibatch.

    The network of a design is built with ``torch.manual_seed(settings.seed)`` (the caller's
    RNG state is restored afterwards), so results are deterministic; they are cached by
    the architecture key in :attr:`cache`.
    """

    def __init__(
        self,
        space: NetworkSpace,
        data: ImageData,
        names: Sequence[str] = DEFAULT_PROXIES,
        settings: ProxySettings | None = None,
    ) -> None:
        self.space = space
        self.names = check_proxy_names(names)
        self.settings = settings or ProxySettings()
        if data.input_shape != space.input_shape:
            raise ValueError(
                f"data images {data.input_shape} do not match the space's input shape {space.input_shape}"
            )
        self.device = resolve_device(self.settings.device)
        x, y = data.minibatch(self.settings.batch_size, seed=self.settings.seed)
        self._x, self._y = x.to(self.device), y.to(self.device)
        self.cache: ArchCache[dict[str, float]] = ArchCache()

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]:
        """``{proxy name: score}`` of one design."""
        key = self.space.cache_key(design)
        return dict(self.cache.get_or_compute(key, lambda: self._compute(design)))

    def _compute(self, design: Mapping[str, Any]) -> dict[str, float]:
        with cpu_threads(self.settings.cpu_threads, self.device):
            with seeded(self.settings.seed, self.device):
                model = self.space.build(design).to(self.device)
            return {n: float(PROXIES[n](model, self._x, self._y)) for n in self.names}


__all__ = [
    "COST_PROXIES",
    "DEFAULT_PROXIES",
    "PROXIES",
    "PROXY_SCALES",
    "ProxyEvaluator",
    "ProxySettings",
    "check_proxy_names",
    "flops_m",
    "grad_norm",
    "jacov",
    "naswot",
    "params_m",
    "synflow",
]
