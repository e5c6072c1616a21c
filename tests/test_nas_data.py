"""Local datasets: CIFAR python-version batches and image-folder trees (small files written here)."""

import pickle

import numpy as np
import pytest
import torch
from _nas_fixtures import one_torch_thread  # noqa: F401
from PIL import Image

from archgym.envs.nas.cell_space import CellSpace, parse_arch_string
from archgym.envs.nas.data import load_dataset, read_cifar, read_image_folder
from archgym.envs.nas.env import make_nas_env
from archgym.envs.nas.training import TrainEvaluator, TrainSettings

GOOD_CELL = parse_arch_string(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)


def _write_cifar(root, variant="cifar10", per_batch=20, seed=0):
    """CIFAR batches in the python-version layout: {b'data': uint8 (N, 3072), b'labels': [...]}."""
    rng = np.random.default_rng(seed)
    classes = 10 if variant == "cifar10" else 100
    d = root / ("cifar-10-batches-py" if variant == "cifar10" else "cifar-100-python")
    d.mkdir(parents=True)
    names = (
        [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        if variant == "cifar10"
        else ["train", "test"]
    )
    key = b"labels" if variant == "cifar10" else b"fine_labels"
    written = {}
    for n in names:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(i % classes) for i in range(per_batch)]
        with (d / n).open("wb") as f:
            pickle.dump({b"data": data, key: labels, b"batch_label": n.encode()}, f)
        written[n] = (data, labels)
    return written


def test_cifar10_batches_are_read_in_channel_major_order(tmp_path):
    written = _write_cifar(tmp_path)
    x, y = read_cifar(tmp_path, "cifar10")
    assert x.shape == (100, 3, 32, 32) and x.dtype == np.uint8
    data, labels = written["data_batch_2"]
    # image 0 of batch 2: red plane = first 1024 bytes, green next, blue last (the CIFAR layout)
    assert np.array_equal(x[20, 0].ravel(), data[0, :1024]) and np.array_equal(
        x[20, 2].ravel(), data[0, 2048:]
    )
    assert y[20:40].tolist() == labels
    xt, _ = read_cifar(tmp_path / "cifar-10-batches-py", "cifar10", train=False)  # root may be the folder
    assert np.array_equal(xt.reshape(20, -1), written["test_batch"][0])


def test_cifar_dataset_split_standardised_and_seeded(tmp_path):
    _write_cifar(tmp_path, "cifar100", per_batch=400)
    data = load_dataset("cifar100", seed=3, root=tmp_path, val_fraction=0.25)
    assert data.num_classes == 100 and data.input_shape == (3, 32, 32)
    assert len(data.y_train) + len(data.y_val) == 400 and len(data.y_val) == 100  # 1 of 4 per class
    assert torch.bincount(data.y_val, minlength=100).tolist() == [1] * 100
    ch_mean = data.x_train.mean(dim=(0, 2, 3))
    ch_std = data.x_train.std(dim=(0, 2, 3))
    assert torch.allclose(ch_mean, torch.zeros(3), atol=1e-4) and torch.allclose(
        ch_std, torch.ones(3), atol=1e-2
    )
    again = load_dataset("cifar100", seed=3, root=tmp_path, val_fraction=0.25)
    assert torch.equal(again.x_val, data.x_val)
    small = load_dataset("cifar100", seed=3, root=tmp_path, max_train=50, max_val=10)
    assert len(small.y_train) == 50 and len(small.y_val) == 10


def test_missing_or_bad_cifar_files(tmp_path):
    with pytest.raises(ValueError, match="dataset_root"):
        load_dataset("cifar10")
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        load_dataset("cifar10", root=tmp_path)
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    (d / "data_batch_1").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a CIFAR python-version batch"):
        read_cifar(tmp_path)
    with pytest.raises(ValueError, match="unknown NAS dataset"):
        load_dataset("mnist")


def _write_folder(root, n_per_class=24, size=10):
    """Two classes a small network can tell apart: red-dominant vs blue-dominant noisy images."""
    rng = np.random.default_rng(0)
    for cls in ("blue", "red"):
        (root / cls).mkdir(parents=True)
        for i in range(n_per_class):
            img = rng.integers(0, 120, size=(size, size, 3), dtype=np.uint8)
            img[..., 0 if cls == "red" else 2] += 120
            Image.fromarray(img).save(root / cls / f"{i:03d}.png")
    (root / "red" / "notes.txt").write_text("not an image")


def test_image_folder_reads_classes_and_resizes(tmp_path):
    _write_folder(tmp_path)
    x, y, classes = read_image_folder(tmp_path, image_size=8)
    assert classes == ["blue", "red"] and x.shape == (48, 3, 8, 8) and y.tolist() == [0] * 24 + [1] * 24
    assert x[y == 1, 0].mean() > x[y == 1, 2].mean() + 60  # red images keep their red channel
    with pytest.raises(FileNotFoundError):
        read_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        read_image_folder(tmp_path)


def test_a_cell_learns_a_local_image_folder(tmp_path):
    _write_folder(tmp_path / "imgs", n_per_class=40, size=8)
    data = load_dataset("imagefolder", root=tmp_path / "imgs", image_size=8, val_fraction=0.25)
    space = CellSpace(data.input_shape, data.num_classes, channels=4)
    res = TrainEvaluator(space, data, TrainSettings(epochs=2, batch_size=16, lr=0.05)).result(GOOD_CELL)
    assert res.val_accuracy >= 0.9  # chance is 0.5; colour separates the classes
    assert len(res.epoch_times_s) == 2


def test_env_reads_a_local_dataset(tmp_path):
    _write_folder(tmp_path, n_per_class=12, size=8)
    env = make_nas_env(
        proxies=["naswot", "params_m"],
        dataset="imagefolder",
        dataset_root=str(tmp_path),
        dataset_options={"image_size": 8},
        proxy_batch_size=8,
        hardware=False,
    )
    assert env.simulator.space.input_shape == (3, 8, 8) and env.simulator.space.num_classes == 2
    assert env.evaluate([GOOD_CELL])[0].error is None
    with pytest.raises(ValueError, match="dataset_options"):
        make_nas_env(dataset="imagefolder", dataset_root=str(tmp_path), dataset_options={"size": 8})
