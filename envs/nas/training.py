"""Trained-accuracy evaluator: train a design's network briefly, report validation accuracy.

This is the "simulator" of accuracy: each architecture is built with a fixed seed, trained
for a few epochs with SGD (Nesterov momentum, cosine learning-rate schedule, weight decay,
as NAS-Bench-201 trains its cells) on the training split, and scored on the validation split.
Everything is seeded (initialisation, minibatch order), so the same architecture and
settings give the same accuracy on the same device and thread count; results are cached by
architecture key in an evaluator-owned :class:`~archgym.envs.nas.cache.ArchCache`.

``device="auto"`` (the default) trains on a CUDA GPU when one is present, else on the CPU;
the seconds each epoch took are reported (``epoch_time_s``, also per epoch in
:class:`TrainResult`), so runs on different machines can be compared.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .cache import ArchCache
from .data import ImageData
from .runtime import cpu_threads, resolve_device, seeded
from .search_space import NetworkSpace


@dataclass(frozen=True)
class TrainSettings:
    """Training hyper-parameters (part of the cache key).

    Attributes:
        epochs: passes over the training split.
        batch_size: minibatch size.
        lr: initial learning rate, decayed to 0 with a cosine schedule over all steps.
        momentum: Nesterov momentum.
        weight_decay: L2 penalty.
        seed: seeds weight initialisation and minibatch order.
        device: ``"auto"`` (default: CUDA when present), ``"cpu"`` or ``"cuda"``.
        channels_last: train in NHWC memory format (2-3x faster depthwise convolutions on
            CPU; the result does not depend on it beyond float rounding).
        cpu_threads: torch CPU threads while training (``None``: leave torch's setting);
            one is fastest for these small networks on a shared machine.
    """

    epochs: int = 4
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0
    device: str = "auto"
    channels_last: bool = True
    cpu_threads: int | None = 1

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs}, {self.batch_size}")
        if not self.lr > 0 or not 0 <= self.momentum < 1 or self.weight_decay < 0:
            raise ValueError(
                f"need lr > 0, 0 <= momentum < 1, weight_decay >= 0; got {self.lr}, {self.momentum}, "
                f"{self.weight_decay}"
            )

    def key(self) -> tuple:
        """Settings that change the result (the device name is left out)."""
        d = asdict(self)
        d.pop("device")
        d.pop("channels_last")
        d.pop("cpu_threads")
        return tuple(sorted(d.items()))


@dataclass(frozen=True)
class TrainResult:
    """Outcome of training one architecture."""

    val_accuracy: float
    train_loss: float
    wall_time_s: float
    epoch_times_s: tuple[float, ...] = ()

    @property
    def epoch_time_s(self) -> float:
        """Mean wall-clock seconds per training epoch."""
        return sum(self.epoch_times_s) / len(self.epoch_times_s) if self.epoch_times_s else float("nan")


def cosine_lr(base: float, step: int, total: int) -> float:
    """Cosine decay from ``base`` at step 0 towards 0 at ``total``."""
    return 0.5 * base * (1.0 + math.cos(math.pi * step / total))


class NesterovSGD:
    """SGD with Nesterov momentum and L2 weight decay (PyTorch's ``SGD(nesterov=True)`` update).

    ``g = grad + wd * p;  b = mu * b + g;  p -= lr * (g + mu * b)``. Written out because
    constructing a ``torch.optim`` optimizer imports ``torch._dynamo`` on first use, which
    costs seconds per process -- more than training a small network here.
    """

    def __init__(self, params: list[torch.Tensor], momentum: float, weight_decay: float) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.buffers: list[torch.Tensor | None] = [None] * len(self.params)

    @torch.no_grad()
    def step(self, lr: float) -> None:
        mu, wd = self.momentum, self.weight_decay
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad.add(p, alpha=wd) if wd else p.grad
            buf = self.buffers[i]
            if buf is None:
                buf = self.buffers[i] = g.clone()
            else:
                buf.mul_(mu).add_(g)
            p.add_(g.add(buf, alpha=mu), alpha=-lr)


def train_and_evaluate(
    model: nn.Module, data: ImageData, settings: TrainSettings, device: torch.device
) -> TrainResult:
    """Train ``model`` on ``data``'s training split and return its validation accuracy.

    Minibatch order comes from a ``torch.Generator`` seeded with ``settings.seed``.
    """
    start = time.perf_counter()
    fmt = torch.channels_last if settings.channels_last else torch.contiguous_format
    model = model.to(device, memory_format=fmt)  # type: ignore[call-overload]  # torch's stub lacks memory_format
    x_tr, y_tr = data.x_train.to(device).contiguous(memory_format=fmt), data.y_train.to(device)
    x_va, y_va = data.x_val.to(device).contiguous(memory_format=fmt), data.y_val.to(device)
    n = x_tr.shape[0]
    steps_per_epoch = math.ceil(n / settings.batch_size)
    total_steps = settings.epochs * steps_per_epoch
    opt = NesterovSGD(list(model.parameters()), settings.momentum, settings.weight_decay)
    gen = torch.Generator().manual_seed(settings.seed)
    model.train()
    loss_sum, loss_count, step = 0.0, 0, 0
    epoch_times: list[float] = []
    for epoch in range(settings.epochs):
        epoch_start = time.perf_counter()
        order = torch.randperm(n, generator=gen).to(device)
        for s in range(steps_per_epoch):
            idx = order[s * settings.batch_size : (s + 1) * settings.batch_size]
            if idx.numel() < 2:  # BatchNorm needs two samples
                continue
            loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
            model.zero_grad(set_to_none=True)
            loss.backward()
            opt.step(cosine_lr(settings.lr, step, total_steps))
            step += 1
            if epoch == settings.epochs - 1:
                loss_sum += float(loss.detach()) * idx.numel()
                loss_count += idx.numel()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        epoch_times.append(time.perf_counter() - epoch_start)
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, x_va.shape[0], 256):
            correct += int((model(x_va[s : s + 256]).argmax(dim=1) == y_va[s : s + 256]).sum())
    train_loss = loss_sum / max(loss_count, 1)
    if not math.isfinite(train_loss):
        train_loss = float("inf")
    return TrainResult(correct / x_va.shape[0], train_loss, time.perf_counter() - start, tuple(epoch_times))


class TrainEvaluator:
    """Trained validation accuracy of designs of one :class:`NetworkSpace`, cached by architecture."""

    def __init__(self, space: NetworkSpace, data: ImageData, settings: TrainSettings | None = None) -> None:
        if data.input_shape != space.input_shape:
            raise ValueError(
                f"data images {data.input_shape} do not match the space's input shape {space.input_shape}"
            )
        if data.num_classes != space.num_classes:
            raise ValueError(
                f"data has {data.num_classes} classes, the space builds {space.num_classes}-way classifiers"
            )
        self.space = space
        self.data = data
        self.settings = settings or TrainSettings()
        self.device = resolve_device(self.settings.device)
        self.cache: ArchCache[TrainResult] = ArchCache()
        self._device_data: ImageData | None = None

    def _data_on_device(self) -> ImageData:
        """The dataset on the training device, copied there once (not per architecture)."""
        if self.device.type == "cpu":
            return self.data
        if self._device_data is None:
            d = self.data
            self._device_data = dataclasses.replace(
                d,
                x_train=d.x_train.to(self.device),
                y_train=d.y_train.to(self.device),
                x_val=d.x_val.to(self.device),
                y_val=d.y_val.to(self.device),
            )
        return self._device_data

    def result(self, design: Mapping[str, Any]) -> TrainResult:
        """Train (or look up) one design."""
        key = (self.space.cache_key(design), self.data.name, self.settings.key())
        return self.cache.get_or_compute(key, lambda: self._train(design))

    def __call__(self, design: Mapping[str, Any]) -> dict[str, float]:
        """``{"accuracy": validation accuracy in [0, 1], "train_loss": last-epoch mean loss,
        "epoch_time_s": mean seconds per epoch}``."""
        r = self.result(design)
        return {"accuracy": r.val_accuracy, "train_loss": r.train_loss, "epoch_time_s": r.epoch_time_s}

    def _train(self, design: Mapping[str, Any]) -> TrainResult:
        with cpu_threads(self.settings.cpu_threads, self.device):
            with seeded(self.settings.seed, self.device):
                model = self.space.build(design)
            return train_and_evaluate(model, self._data_on_device(), self.settings, self.device)


__all__ = ["TrainEvaluator", "TrainResult", "TrainSettings", "train_and_evaluate"]
