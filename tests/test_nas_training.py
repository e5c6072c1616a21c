"""Trained-accuracy evaluator on scikit-learn's digits: well above chance, seeded, cached."""

import pytest
import torch
from _nas_fixtures import digits_fixture, one_torch_thread  # noqa: F401

from archgym.envs.nas.block_space import BlockSpace
from archgym.envs.nas.cell_space import CellSpace, parse_arch_string, uniform_cell
from archgym.envs.nas.data import DIGITS_SHAPE, load_digits_data
from archgym.envs.nas.runtime import resolve_device
from archgym.envs.nas.training import TrainEvaluator, TrainSettings

#: a reasonable NAS-Bench-201 cell (convolutions plus a skip path)
GOOD_CELL = parse_arch_string(
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)
TINY = TrainSettings(epochs=2, batch_size=64, lr=0.05)


def test_digits_splits_are_seeded_and_stratified(digits):
    assert digits.input_shape == DIGITS_SHAPE and digits.num_classes == 10
    assert len(digits.y_train) + len(digits.y_val) == 1797
    again = load_digits_data(seed=0)
    assert torch.equal(again.x_val, digits.x_val) and torch.equal(again.y_train, digits.y_train)
    other = load_digits_data(seed=1)
    assert not torch.equal(other.y_train, digits.y_train)
    counts = torch.bincount(digits.y_val, minlength=10)
    assert counts.min() >= 50  # ~30 % of each class (about 180 per class)
    assert abs(float(digits.x_train.mean())) < 1e-4  # standardised with the training statistics
    xb, yb = digits.minibatch(40, seed=0)
    assert xb.shape == (40, 1, 8, 8) and set(yb.tolist()) == set(range(10))


def test_reasonable_cell_trains_well_above_chance(digits):
    ev = TrainEvaluator(CellSpace(), digits, TINY)
    res = ev.result(GOOD_CELL)
    assert res.val_accuracy > 0.85, res  # chance is 0.10
    assert ev({**GOOD_CELL}) == {
        "accuracy": res.val_accuracy,
        "train_loss": res.train_loss,
        "epoch_time_s": pytest.approx(sum(res.epoch_times_s) / 2),
    }
    assert len(res.epoch_times_s) == 2 and all(t > 0 for t in res.epoch_times_s)
    assert sum(res.epoch_times_s) <= res.wall_time_s
    assert ev.cache.hits == 1 and ev.cache.misses == 1


def test_degenerate_cell_stays_at_chance(digits):
    res = TrainEvaluator(CellSpace(), digits, TrainSettings(epochs=1)).result(uniform_cell("none"))
    assert res.val_accuracy < 0.2


def test_training_is_deterministic(digits):
    design = {**uniform_cell("skip"), "edge_0_1": "conv1x1"}
    settings = TrainSettings(epochs=1, batch_size=128)
    a = TrainEvaluator(CellSpace(channels=4), digits, settings).result(design)
    b = TrainEvaluator(CellSpace(channels=4), digits, settings).result(design)
    assert (a.val_accuracy, a.train_loss) == (b.val_accuracy, b.train_loss)


def test_settings_and_device_validation(digits):
    with pytest.raises(ValueError):
        TrainSettings(epochs=0)
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            TrainEvaluator(CellSpace(), digits, TrainSettings(device="cuda"))
    # the device is not part of the cache key: results are meant to be the same model
    assert TrainSettings(device="cpu").key() == TrainSettings(device="auto").key()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_path_trains(digits):
    res = TrainEvaluator(CellSpace(), digits, TrainSettings(epochs=2, device="cuda")).result(GOOD_CELL)
    assert res.val_accuracy > 0.85


def test_block_network_trains_well_above_chance(digits):
    space = BlockSpace()
    design = {**space.smallest(), "width_mult": 1.0, "resolution": 12}
    res = TrainEvaluator(space, digits, TrainSettings(epochs=4)).result(design)
    assert res.val_accuracy > 0.85
