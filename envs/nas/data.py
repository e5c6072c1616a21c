"""The default NAS dataset: scikit-learn's handwritten digits, with seeded splits.

``sklearn.datasets.load_digits`` ships with scikit-learn (no download): 1,797 grayscale
images of 8x8 pixels (values 0..16), ten classes. The images are kept at 8x8; the network
stems are designed for that size (the block space can upsample inside the network, see
:mod:`archgym.envs.nas.block_space`). Pixels are scaled to ``[0, 1]`` and standardised with
the training split's mean and standard deviation.

The images are read straight from the file scikit-learn installs
(``sklearn/datasets/data/digits.csv.gz``, what ``load_digits`` parses), located without
importing scikit-learn, whose import alone takes seconds; if the file is not found,
``load_digits`` itself is used.

Splits are stratified per class and depend only on ``seed``, so the same seed gives the same
train/validation images on every machine.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

#: shape of one digits image (channels, height, width)
DIGITS_SHAPE: tuple[int, int, int] = (1, 8, 8)
DIGITS_CLASSES: int = 10


@dataclass(frozen=True)
class ImageData:
    """A classification dataset as CPU tensors: ``x`` is ``(N, C, H, W)`` float32, ``y`` int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    num_classes: int
    name: str

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(int(d) for d in self.x_train.shape[1:])  # type: ignore[return-value]

    def minibatch(self, size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """A fixed, seeded minibatch from the training split (what zero-cost proxies use).

        The batch holds ``size // num_classes`` images of every class (and the rest drawn at
        random), so proxies that look at label-dependent gradients see every class.
        """
        if not 1 <= size <= len(self.y_train):
            raise ValueError(f"minibatch size must be in 1..{len(self.y_train)}, got {size}")
        rng = np.random.default_rng(seed)
        y = self.y_train.numpy()
        per = size // self.num_classes
        chosen: list[int] = []
        for c in range(self.num_classes):
            idx = np.flatnonzero(y == c)
            chosen.extend(rng.choice(idx, size=min(per, idx.size), replace=False).tolist())
        rest = np.setdiff1d(np.arange(y.size), np.array(chosen, dtype=np.int64))
        chosen.extend(rng.choice(rest, size=size - len(chosen), replace=False).tolist())
        order = rng.permutation(np.array(chosen, dtype=np.int64))
        return self.x_train[order], self.y_train[order]


def _digits_file() -> Path | None:
    spec = importlib.util.find_spec("sklearn")
    for root in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    return None


def read_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as ``(images (N, 8, 8) float32 in 0..16, labels (N,) int64)``."""
    path = _digits_file()
    if path is not None:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.float32)
        return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise RuntimeError(
            "the digits dataset needs scikit-learn installed (pip install scikit-learn)"
        ) from exc
    digits = load_digits()
    return digits.images.astype(np.float32), digits.target.astype(np.int64)


def load_digits_data(seed: int = 0, val_fraction: float = 0.3) -> ImageData:
    """Load scikit-learn's digits and split them, stratified per class, with ``seed``.

    Args:
        seed: seeds the split (same seed -> same split).
        val_fraction: fraction of each class held out for validation (0 < f < 1).

    Returns:
        An :class:`ImageData` with 8x8 single-channel images, standardised with the
        training split's statistics.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    raw, labels = read_digits()
    images = raw / 16.0
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in range(DIGITS_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = max(1, int(round(val_fraction * idx.size)))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    tr = rng.permutation(np.concatenate(train_idx))
    va = np.sort(np.concatenate(val_idx))
    mean, std = float(images[tr].mean()), float(images[tr].std())

    def to_x(idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy((images[idx] - mean) / std).unsqueeze(1).contiguous()

    return ImageData(
        x_train=to_x(tr),
        y_train=torch.from_numpy(labels[tr]),
        x_val=to_x(va),
        y_val=torch.from_numpy(labels[va]),
        num_classes=DIGITS_CLASSES,
        name=f"digits(seed={seed},val={val_fraction})",
    )


def load_dataset(name: str = "digits", seed: int = 0, **kwargs) -> ImageData:
    """Load a dataset by name (only ``"digits"`` ships with the installed packages)."""
    if name != "digits":
        raise ValueError(f"unknown NAS dataset {name!r}; allowed: digits")
    return load_digits_data(seed=seed, **kwargs)


__all__ = ["DIGITS_CLASSES", "DIGITS_SHAPE", "ImageData", "load_dataset", "load_digits_data", "read_digits"]
