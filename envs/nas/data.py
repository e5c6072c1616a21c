"""NAS datasets: scikit-learn's digits (the offline default), CIFAR-10/100 and image folders
from local files, all with seeded stratified splits.

**digits** -- ``sklearn.datasets.load_digits`` ships with scikit-learn (no download): 1,797
grayscale images of 8x8 pixels (values 0..16), ten classes. The images are kept at 8x8; the
network stems are designed for that size (the block space can upsample inside the network,
see :mod:`archgym.envs.nas.block_space`). They are read straight from the file scikit-learn
installs (``sklearn/datasets/data/digits.csv.gz``, what ``load_digits`` parses), located
without importing scikit-learn, whose import alone takes seconds; if the file is not found,
``load_digits`` itself is used.

**cifar10 / cifar100** -- Krizhevsky, "Learning Multiple Layers of Features from Tiny
Images", 2009: the "python version" archives the user already has, unpacked under ``root``
(``cifar-10-batches-py/data_batch_1..5`` or ``cifar-100-python/train``; ``root`` may also be
that directory itself). Each batch is a pickle of ``{b"data": uint8 (N, 3072) in
channel-major RGB order, b"labels" (CIFAR-100: b"fine_labels"): list}`` (format documented
on https://www.cs.toronto.edu/~kriz/cifar.html). Read with numpy; nothing is downloaded
(torchvision's reader would do the same, but its wheels pin a torch of their own). The
validation split is held out of the *training* batches, so a search never sees the test set.

**imagefolder** -- any ``root/<class name>/<image>`` tree (PNG, JPEG, BMP, ...), as
torchvision's ``ImageFolder``: classes are the sorted sub-directory names; images are read
with Pillow, converted to RGB and resized to ``image_size`` (bilinear).

Pixels are scaled to ``[0, 1]`` and standardised per channel with the training split's mean
and standard deviation. Splits are stratified per class and depend only on ``seed``;
``max_train`` / ``max_val`` keep a seeded, class-balanced subset (for small CPU runs).
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

#: shape of one digits image (channels, height, width)
DIGITS_SHAPE: tuple[int, int, int] = (1, 8, 8)
DIGITS_CLASSES: int = 10
#: datasets :func:`load_dataset` knows
DATASETS: tuple[str, ...] = ("digits", "cifar10", "cifar100", "imagefolder")
#: file suffixes read as images by :func:`read_image_folder`
IMAGE_SUFFIXES: tuple[str, ...] = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".ppm",
    ".pgm",
)


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


def stratified_split(
    labels: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split: ``(train indices in random order, sorted validation indices)``."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    train_idx, val_idx = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = max(1, int(round(val_fraction * idx.size)))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    return rng.permutation(np.concatenate(train_idx)), np.sort(np.concatenate(val_idx))


def _balanced_subset(
    idx: np.ndarray, labels: np.ndarray, limit: int | None, rng: np.random.Generator
) -> np.ndarray:
    """At most ``limit`` of ``idx``, about equally many per class (keeps ``idx``'s order)."""
    if limit is None or limit >= idx.size:
        return idx
    if limit < 1:
        raise ValueError(f"max_train / max_val must be >= 1, got {limit}")
    classes = np.unique(labels[idx])
    keep: list[np.ndarray] = []
    per = -(-limit // classes.size)
    for c in classes:
        members = idx[labels[idx] == c]
        keep.append(rng.choice(members, size=min(per, members.size), replace=False))
    chosen = np.concatenate(keep)
    if chosen.size > limit:
        chosen = rng.choice(chosen, size=limit, replace=False)
    return idx[np.isin(idx, chosen)]


def make_image_data(
    images: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    name: str,
    *,
    seed: int = 0,
    val_fraction: float = 0.3,
    max_train: int | None = None,
    max_val: int | None = None,
) -> ImageData:
    """Split ``images`` (``(N, C, H, W)`` float in [0, 1]) and standardise per channel.

    The split is stratified per class and seeded; ``max_train`` / ``max_val`` keep seeded
    class-balanced subsets. Channel statistics come from the training split.
    """
    if images.ndim != 4 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{name}: images must be (N, C, H, W) with one label each, got {images.shape}")
    rng = np.random.default_rng(seed)
    tr, va = stratified_split(labels, val_fraction, rng)
    tr, va = _balanced_subset(tr, labels, max_train, rng), _balanced_subset(va, labels, max_val, rng)
    mean = images[tr].mean(axis=(0, 2, 3), keepdims=True)
    std = images[tr].std(axis=(0, 2, 3), keepdims=True)
    std = np.where(std > 0, std, 1.0)

    def to_x(idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((images[idx] - mean) / std).astype(np.float32)).contiguous()

    return ImageData(
        x_train=to_x(tr),
        y_train=torch.from_numpy(labels[tr].astype(np.int64)),
        x_val=to_x(va),
        y_val=torch.from_numpy(labels[va].astype(np.int64)),
        num_classes=int(num_classes),
        name=name,
    )


def load_digits_data(seed: int = 0, val_fraction: float = 0.3) -> ImageData:
    """Load scikit-learn's digits and split them, stratified per class, with ``seed``.

    Args:
        seed: seeds the split (same seed -> same split).
        val_fraction: fraction of each class held out for validation (0 < f < 1).

    Returns:
        An :class:`ImageData` with 8x8 single-channel images, standardised with the
        training split's statistics.
    """
    raw, labels = read_digits()
    return make_image_data(
        (raw / 16.0)[:, None],
        labels,
        DIGITS_CLASSES,
        f"digits(seed={seed},val={val_fraction})",
        seed=seed,
        val_fraction=val_fraction,
    )


def _cifar_dir(root: Path, variant: str) -> Path:
    sub = "cifar-10-batches-py" if variant == "cifar10" else "cifar-100-python"
    for cand in (root / sub, root):
        marker = cand / ("data_batch_1" if variant == "cifar10" else "train")
        if marker.is_file():
            return cand
    raise FileNotFoundError(
        f"{variant}: no {sub}/{'data_batch_1' if variant == 'cifar10' else 'train'} under {root}; "
        f"unpack the python-version archive there (nothing is downloaded)"
    )


def read_cifar(
    root: str | Path, variant: str = "cifar10", train: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR images ``(N, 3, 32, 32) uint8`` and labels ``(N,) int64`` from the python-version files."""
    if variant not in ("cifar10", "cifar100"):
        raise ValueError(f"variant must be cifar10 or cifar100, got {variant!r}")
    d = _cifar_dir(Path(root).expanduser(), variant)
    if variant == "cifar10":
        files = [d / f"data_batch_{i}" for i in range(1, 6)] if train else [d / "test_batch"]
    else:
        files = [d / ("train" if train else "test")]
    key = b"labels" if variant == "cifar10" else b"fine_labels"
    xs, ys = [], []
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"{variant}: missing batch file {f}")
        try:
            with f.open("rb") as fh:
                batch = pickle.load(fh, encoding="bytes")
            data, labels = np.asarray(batch[b"data"], dtype=np.uint8), np.asarray(batch[key], dtype=np.int64)
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{f}: not a CIFAR python-version batch ({exc!r})") from exc
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != labels.shape[0]:
            raise ValueError(f"{f}: expected data of shape (N, 3072) and N labels, got {data.shape}")
        xs.append(data.reshape(-1, 3, 32, 32))
        ys.append(labels)
    return np.concatenate(xs), np.concatenate(ys)


def load_cifar_data(
    root: str | Path,
    variant: str = "cifar10",
    seed: int = 0,
    val_fraction: float = 0.3,
    max_train: int | None = None,
    max_val: int | None = None,
) -> ImageData:
    """CIFAR-10/100 training batches from ``root``, split into train/validation with ``seed``."""
    images, labels = read_cifar(root, variant, train=True)
    classes = 10 if variant == "cifar10" else 100
    limits = "" if max_train is None and max_val is None else f",max={max_train}/{max_val}"
    return make_image_data(
        images.astype(np.float32) / 255.0,
        labels,
        classes,
        f"{variant}(seed={seed},val={val_fraction}{limits})",
        seed=seed,
        val_fraction=val_fraction,
        max_train=max_train,
        max_val=max_val,
    )


def read_image_folder(root: str | Path, image_size: int = 32) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images ``(N, 3, S, S) uint8``, labels and class names of a ``root/<class>/<image>`` tree."""
    from PIL import Image

    base = Path(root).expanduser()
    if not base.is_dir():
        raise FileNotFoundError(f"imagefolder: {base} is not a directory")
    if image_size < 1:
        raise ValueError(f"image_size must be >= 1, got {image_size}")
    classes = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(f"imagefolder: {base} needs at least two class sub-directories, found {classes}")
    xs, ys = [], []
    for label, cls in enumerate(classes):
        files = sorted(p for p in (base / cls).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(
                f"imagefolder: class directory {base / cls} holds no images ({', '.join(IMAGE_SUFFIXES)})"
            )
        for f in files:
            try:
                with Image.open(f) as im:
                    arr = np.asarray(
                        im.convert("RGB").resize((image_size, image_size), Image.Resampling.BILINEAR)
                    )
            except OSError as exc:
                raise ValueError(f"imagefolder: cannot read image {f} ({exc})") from exc
            xs.append(arr.transpose(2, 0, 1))
            ys.append(label)
    return np.stack(xs), np.asarray(ys, dtype=np.int64), classes


def load_image_folder_data(
    root: str | Path,
    seed: int = 0,
    val_fraction: float = 0.3,
    image_size: int = 32,
    max_train: int | None = None,
    max_val: int | None = None,
) -> ImageData:
    """An image-folder tree as :class:`ImageData` (RGB, ``image_size`` square), seeded split."""
    images, labels, classes = read_image_folder(root, image_size)
    return make_image_data(
        images.astype(np.float32) / 255.0,
        labels,
        len(classes),
        f"imagefolder({Path(root).name},{image_size}px,seed={seed},val={val_fraction})",
        seed=seed,
        val_fraction=val_fraction,
        max_train=max_train,
        max_val=max_val,
    )


def load_dataset(
    name: str = "digits",
    seed: int = 0,
    *,
    root: str | Path | None = None,
    val_fraction: float = 0.3,
    image_size: int = 32,
    max_train: int | None = None,
    max_val: int | None = None,
) -> ImageData:
    """Load a dataset by name: ``"digits"`` (default, offline), or ``"cifar10"``, ``"cifar100"``,
    ``"imagefolder"`` from the local ``root`` (see the module docstring)."""
    if name not in DATASETS:
        raise ValueError(f"unknown NAS dataset {name!r}; allowed: {', '.join(DATASETS)}")
    if name == "digits":
        if root is not None or max_train is not None or max_val is not None:
            raise ValueError(
                "digits ships with scikit-learn: dataset_root / max_train / max_val do not apply"
            )
        return load_digits_data(seed=seed, val_fraction=val_fraction)
    if root is None:
        raise ValueError(f"dataset {name!r} is read from local files: give dataset_root=<directory>")
    if name == "imagefolder":
        return load_image_folder_data(root, seed, val_fraction, image_size, max_train, max_val)
    return load_cifar_data(root, name, seed, val_fraction, max_train, max_val)


__all__ = [
    "DATASETS",
    "DIGITS_CLASSES",
    "DIGITS_SHAPE",
    "ImageData",
    "load_cifar_data",
    "load_dataset",
    "load_digits_data",
    "load_image_folder_data",
    "make_image_data",
    "read_cifar",
    "read_digits",
    "read_image_folder",
    "stratified_split",
]
